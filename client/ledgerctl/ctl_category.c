/*  ctl_category -- a category named on the command line: id:N, name:TEXT,
    or bare text (digits: an id, unless a category has that name too). */

#include "ctl_category.h"
#include "ctl_parse.h"
#include "proto_reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ID_PREFIX   "id:"
#define NAME_PREFIX "name:"

/*  Whether text is a bare id: all digits, no prefix. Only these can be
    ambiguous. */
static bool
s_bare_digits (const char *text)
{
    return ctl_is_id (text);
}

/*  digits as a positive id into *ref_p; false if they are not one. */
static bool
s_id (const char *digits, ledger_ref_t *ref_p)
{
    errno = 0;
    long long id = ctl_is_id (digits)? strtoll (digits, NULL, 10): 0;
    if (errno || id <= 0)
        return false;
    *ref_p = ledger_id (id);
    return true;
}

/*  The syntax alone: fills *ref_p, or says why not. */
static int
s_parse (ctl_t *ctl, const char *what, const char *text, ledger_ref_t *ref_p)
{
    if (strncmp (text, ID_PREFIX, strlen (ID_PREFIX)) == 0) {
        if (s_id (text + strlen (ID_PREFIX), ref_p))
            return 0;
        return ctl_usage (ctl, "%s \"%s\": id: takes a positive whole number", what, text);
    }
    const char *name = text;
    if (strncmp (text, NAME_PREFIX, strlen (NAME_PREFIX)) == 0)
        name = text + strlen (NAME_PREFIX);
    else
    if (s_bare_digits (text)) {
        if (s_id (text, ref_p))
            return 0;
        return ctl_usage (ctl, "%s \"%s\" is not a category id (a positive whole number); "
                          "write name:%s for a name", what, text, text);
    }
    if (!*name)
        return ctl_usage (ctl, "%s needs a category name after \"name:\"", what);
    if (!proto_utf8_valid (name, strlen (name)))
        return ctl_usage (ctl, "%s \"%s\" is not valid UTF-8", what, text);
    *ref_p = ledger_name (name);
    return 0;
}

/*  Refuse any bare-digit text that is also a category's name. Asks the
    worker for the list only when there is such a text. */
static int
s_refuse_ambiguous (ctl_t *ctl, const char *what, const char *const *texts, size_t count)
{
    bool any = false;
    for (size_t n = 0; n < count; n++)
        any = any || s_bare_digits (texts [n]);
    if (!any)
        return 0;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_list (batch);
    ledger_result_t *result;
    int status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    size_t rows = ledger_result_row_count (result, 0);
    for (size_t row = 0; row < rows && !status; row++) {
        ledger_category_t category;
        if (ledger_result_category (result, 0, row, &category))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read category row %zu", row);
        for (size_t n = 0; n < count && !status; n++)
            if (s_bare_digits (texts [n]) && strcmp (texts [n], category.name) == 0)
                status = ctl_usage (ctl, "%s \"%s\" is ambiguous: a category has that name; "
                                    "write id:%s for the id or name:%s for the name",
                                    what, texts [n], texts [n], texts [n]);
    }
    ledger_result_destroy (&result);
    return status;
}

int
ctl_category_refs (ctl_t *ctl, const char *what, const char *const *texts, size_t count, ledger_ref_t *refs)
{
    for (size_t n = 0; n < count; n++)
        if (s_parse (ctl, what, texts [n], &refs [n]))
            return CTL_EXIT_USAGE;
    return s_refuse_ambiguous (ctl, what, texts, count);
}

int
ctl_category_ref (ctl_t *ctl, const char *what, const char *text, ledger_ref_t *ref_p)
{
    return ctl_category_refs (ctl, what, &text, 1, ref_p);
}

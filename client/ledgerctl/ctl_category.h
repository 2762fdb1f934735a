/*  ctl_category -- a category named on the command line.

    The protocol names a category by id or by its exact name, and a name
    may be any text, digits included. So a command-line argument says which
    it means: `id:N` is an id, `name:TEXT` a name (TEXT taken as written,
    even "123" or "id:5"). Without a prefix, text that is not all digits is
    a name, as before; bare digits are an id, as before -- unless a category
    has that name too, when the argument is refused as ambiguous rather than
    silently meaning the id. Telling that needs the worker's category list,
    which is asked for only when some argument is bare digits. */

#ifndef CTL_CATEGORY_H
#define CTL_CATEGORY_H

#include "ctl.h"

#include <stddef.h>

/*  Turn the count category arguments in texts (what names them in
    messages, e.g. "--category") into refs [0..count), which borrow from
    texts. Returns 0, or the exit status after saying why: CTL_EXIT_USAGE
    for a malformed or ambiguous argument, or the status of asking the
    worker for its categories. */
int ctl_category_refs (ctl_t *ctl, const char *what, const char *const *texts, size_t count, ledger_ref_t *refs);

/*  The same for one argument. */
int ctl_category_ref (ctl_t *ctl, const char *what, const char *text, ledger_ref_t *ref_p);

#endif

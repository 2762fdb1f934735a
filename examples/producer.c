/*  producer -- a whole ledgerd producer: one category, three transactions,
    retried safely, in one atomic batch.

    Build against the installed library:
        cc producer.c $(pkg-config --cflags --libs ledger) -o producer
    (installed outside the loader's path, e.g. --prefix $HOME/.local, add
    -Wl,-rpath,$(pkg-config --variable=libdir ledger) or set LD_LIBRARY_PATH).
    Run: ./producer [ENDPOINT] */

#include <ledger.h>
#include <stdio.h>
#include <string.h>

static const char *s_usage =
    "usage: producer [ENDPOINT]   (default tcp://127.0.0.1:5555)\n"
    "Sends one batch (a category and three transactions); exit 0 when it is in the ledger,\n"
    "1 when it was refused or got no answer, 2 on bad arguments.\n";

/*  The batch; NULL (with the reason printed) if the builder refused an op. */
static ledger_batch_t *
s_coffee_batch (void)
{
    ledger_batch_t *batch = ledger_batch_new ();
    if (!batch) {
        fprintf (stderr, "producer: out of memory\n");
        return NULL;
    }
    int coffee = ledger_batch_category_create (batch, "Coffee", LEDGER_UNSET);
    if (coffee < 0
    ||  ledger_batch_txn_create (batch, -350, ledger_time_text ("2025-01-06T08:15:00+01:00"),
                                 "espresso", ledger_op (coffee)) < 0
    ||  ledger_batch_txn_create (batch, -420, ledger_time_text ("2025-01-07T08:20:00+01:00"),
                                 "cappuccino", ledger_op (coffee)) < 0
    ||  ledger_batch_txn_create (batch, -1299, ledger_time_at (1736323200000000, 60),
                                 "beans", ledger_op (coffee)) < 0) {
        fprintf (stderr, "producer: %s\n", ledger_batch_error (batch));
        ledger_batch_destroy (&batch);
    }
    return batch;
}

/*  Sends the batch, resending after silences: 0 when it is in the ledger,
    1 with the reason printed. */
static int
s_submit (ledger_client_t *client, ledger_batch_t *batch)
{
    ledger_result_t *result = ledger_client_submit (client, batch);
    int rc = 1;
    if (!result)
        fprintf (stderr, "producer: %s\n", ledger_client_error (client));
    else
    if (ledger_result_status (result) == LEDGER_OK) {
        printf ("category %lld, transactions %lld to %lld\n", (long long) ledger_result_id (result, 0),
                (long long) ledger_result_id (result, 1), (long long) ledger_result_id (result, 3));
        rc = 0;
    }
    else
        fprintf (stderr, "producer: %s\n", ledger_result_describe (result));
    ledger_result_destroy (&result);
    return rc;
}

int
main (int argc, char *argv [])
{
    if (argc > 1 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        fputs (s_usage, stdout);
        return 0;
    }
    if (argc > 2 || (argc == 2 && argv [1][0] == '-')) {
        fputs (s_usage, stderr);
        return 2;
    }
    const char *endpoint = argc > 1? argv [1]: "tcp://127.0.0.1:5555";
    ledger_client_t *client = ledger_client_new (endpoint);
    if (!client) {
        fprintf (stderr, "producer: bad endpoint '%s'\n", endpoint);
        return 2;
    }
    ledger_client_set_timeout (client, 2000);   /* then resend, up to 3 times */

    ledger_batch_t *batch = s_coffee_batch ();
    int rc = batch? s_submit (client, batch): 1;
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    return rc;
}

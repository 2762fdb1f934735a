/*  producer -- a whole ledgerd producer: one category, three transactions,
    retried safely, in one atomic batch.

    Build against the installed library:
        cc producer.c $(pkg-config --cflags --libs ledger) -o producer
    Run: ./producer [ENDPOINT] */

#include <ledger.h>
#include <stdio.h>

int
main (int argc, char *argv [])
{
    ledger_client_t *client = ledger_client_new (argc > 1? argv [1]: "tcp://127.0.0.1:5555");
    if (!client) {
        fprintf (stderr, "producer: bad endpoint\n");
        return 2;
    }
    ledger_client_set_timeout (client, 2000);   /* then resend, up to 3 times */

    ledger_batch_t *batch = ledger_batch_new ();
    int coffee = ledger_batch_category_create (batch, "Coffee", LEDGER_UNSET);
    ledger_batch_txn_create (batch, -350, ledger_time_text ("2025-01-06T08:15:00+01:00"),
                             "espresso", ledger_op (coffee));
    ledger_batch_txn_create (batch, -420, ledger_time_text ("2025-01-07T08:20:00+01:00"),
                             "cappuccino", ledger_op (coffee));
    ledger_batch_txn_create (batch, -1299, ledger_time_at (1736323200000000, 60),
                             "beans", ledger_op (coffee));

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
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    return rc;
}

/*  Integration: CURVE authentication. Only clients whose public key is in
    the allowed directory can write; the others are refused at the handshake
    and write nothing; the library says "authentication failed" instead of
    hanging. Without CURVE the worker will not listen beyond loopback. */

#include "ledger.h"
#include "testing.h"
#include "worker_harness.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>


/*  Write a new certificate pair as dir/name and dir/name_secret. */
static void
s_keygen (const char *dir, const char *name)
{
    char path [400];
    snprintf (path, sizeof (path), "%s/%s", dir, name);
    zcert_t *cert = zcert_new ();
    zcert_save (cert, path);
    zcert_destroy (&cert);
}

/*  Submit a category.create with the client's certificate (NULL: no CURVE). */
static ledger_result_t *
s_create (const char *endpoint, const char *client_cert, const char *server_key, const char *name)
{
    ledger_client_t *client = ledger_client_new (endpoint);
    ledger_client_set_timeout (client, 500);
    ledger_client_set_retries (client, 3);
    if (client_cert)
        CHECK_INT (ledger_client_set_curve (client, client_cert, server_key), 0);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_create (batch, name, LEDGER_UNSET);
    ledger_result_t *result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    return result;
}

static void
test_curve (void)
{
    char dir [] = "/tmp/ledgerd-curve-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char allowed [300], keys [300];
    snprintf (allowed, sizeof (allowed), "%s/allowed", dir);
    snprintf (keys, sizeof (keys), "%s/keys", dir);
    mkdir (allowed, 0700);
    mkdir (keys, 0700);
    s_keygen (keys, "server");
    s_keygen (keys, "alice");
    s_keygen (keys, "mallory");
    /*  Only alice's public certificate is allowed in. */
    char from [400], to [400];
    snprintf (from, sizeof (from), "%s/alice", keys);
    snprintf (to, sizeof (to), "%s/alice.cert", allowed);
    zcert_t *alice_public = zcert_load (from);
    zcert_save_public (alice_public, to);
    zcert_destroy (&alice_public);

    char server [400], server_public [400], alice [400], mallory [400];
    snprintf (server, sizeof (server), "%s/server", keys);
    snprintf (server_public, sizeof (server_public), "%s/server", keys);      /* the public file */
    snprintf (alice, sizeof (alice), "%s/alice", keys);
    snprintf (mallory, sizeof (mallory), "%s/mallory", keys);
    char port_dir [] = "/tmp/ledgerd-curve-db-XXXXXX";
    CHECK (mkdtemp (port_dir) != NULL);
    /*  Started directly: the harness pings without CURVE, which this worker
        refuses. Ready is when alice gets through. */
    char db [300], endpoint [64];
    snprintf (db, sizeof (db), "%s/ledger.db", port_dir);
    char *free_endpoint = harness_free_endpoint ();
    snprintf (endpoint, sizeof (endpoint), "%s", free_endpoint);
    zstr_free (&free_endpoint);
    pid_t pid = fork ();
    if (pid == 0) {
        char log [400];
        snprintf (log, sizeof (log), "%s/ledgerd.log", port_dir);
        freopen (log, "w", stderr);
        execl (LEDGERD_PATH, LEDGERD_PATH, "--db", db, "--bind", endpoint,
               "--curve-secret", server, "--curve-allow", allowed, (char *) NULL);
        _exit (127);
    }
    ledger_result_t *result = NULL;
    for (int attempt = 0; attempt < 20; attempt++) {
        ledger_result_destroy (&result);
        result = s_create (endpoint, alice, server_public, "Alice's");
        if (ledger_result_status (result) == LEDGER_OK)
            break;
    }
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    ledger_result_destroy (&result);

    /*  An unknown key is refused at the handshake and writes nothing. */
    result = s_create (endpoint, mallory, server_public, "Mallory's");
    CHECK (result && ledger_result_status (result) == LEDGER_UNKNOWN);
    CHECK (result && strstr (ledger_result_describe (result), "authentication failed") != NULL);
    ledger_result_destroy (&result);

    /*  So is a client without CURVE (the NULL mechanism). */
    result = s_create (endpoint, NULL, NULL, "Anonymous");
    CHECK (result && ledger_result_status (result) == LEDGER_UNKNOWN);
    CHECK (result && strstr (ledger_result_describe (result), "authentication failed") != NULL);
    ledger_result_destroy (&result);

    /*  Removing alice's certificate takes effect for new connections. */
    unlink (to);
    result = s_create (endpoint, alice, server_public, "Alice again");
    CHECK (result && ledger_result_status (result) == LEDGER_UNKNOWN);
    ledger_result_destroy (&result);

    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM category"), 1);
    kill (pid, SIGTERM);
    int status = -1;
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    harness_remove_dir (port_dir);
    harness_remove_dir (dir);
}

static void
test_no_public_listener_without_curve (void)
{
    /*  The harness reports the failed start; the worker exits with 2. */
    harness_t *worker = harness_start ("--bind", "tcp://0.0.0.0:0", NULL);
    CHECK (worker == NULL);
    harness_stop (&worker, false);
}

int
main (void)
{
    TEST_RUN (test_curve);
    TEST_RUN (test_no_public_listener_without_curve);
    return TEST_DONE ();
}

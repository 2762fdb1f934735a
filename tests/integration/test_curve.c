/*  Integration: CURVE authentication. Only clients whose public key is in
    the allowed directory can write; the others are refused at the handshake
    and write nothing; the library says "authentication failed" instead of
    hanging. A key taken out of the directory stops working on connections
    already open too. Without CURVE the worker will not listen beyond
    loopback unless --insecure-bind says so. */

#include "ledger.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a removed key may keep working on an open connection, at most. */
#define REVOKE_DEADLINE_MS 10000

/*  A ledgerd started with --curve-secret keys/server and --curve-allow
    allowed/, and the keys of its clients: alice and bob are allowed in,
    mallory is not. Started directly: the harness pings without CURVE,
    which this worker refuses. */
typedef struct {
    char dir [64];              /* keys/ and allowed/ */
    char keys [300];
    char allowed [300];
    char server [400];          /* the server's certificate (its _secret beside it) */
    char db_dir [64];           /* the database and the worker's log */
    char db [300];
    char endpoint [64];
    pid_t pid;
} curve_worker_t;

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

/*  The path of name's certificate (the public file; _secret beside it). */
static void
s_cert_path (curve_worker_t *self, const char *name, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", self->keys, name);
}

/*  The path of name's public certificate in the allow directory. */
static void
s_allowed_path (curve_worker_t *self, const char *name, char *path, size_t size)
{
    snprintf (path, size, "%s/%s.cert", self->allowed, name);
}

/*  Let name in: its public certificate into the allow directory. */
static void
s_allow (curve_worker_t *self, const char *name)
{
    char from [400], to [400];
    s_cert_path (self, name, from, sizeof (from));
    s_allowed_path (self, name, to, sizeof (to));
    zcert_t *cert = zcert_load (from);
    CHECK (cert != NULL);
    if (cert)
        CHECK_INT (zcert_save_public (cert, to), 0);
    zcert_destroy (&cert);
}

/*  Take name's certificate out of the allow directory. */
static void
s_revoke (curve_worker_t *self, const char *name)
{
    char path [400];
    s_allowed_path (self, name, path, sizeof (path));
    CHECK_INT (unlink (path), 0);
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

/*  Make the keys, let alice and bob in, start the worker and wait until
    alice gets through (she creates the category "Alice's"). Returns 0, or
    -1 if the worker never answered her. */
static int
s_worker_start (curve_worker_t *self)
{
    memset (self, 0, sizeof (*self));
    snprintf (self->dir, sizeof (self->dir), "/tmp/ledgerd-curve-XXXXXX");
    snprintf (self->db_dir, sizeof (self->db_dir), "/tmp/ledgerd-curve-db-XXXXXX");
    CHECK (mkdtemp (self->dir) != NULL);
    CHECK (mkdtemp (self->db_dir) != NULL);
    snprintf (self->allowed, sizeof (self->allowed), "%s/allowed", self->dir);
    snprintf (self->keys, sizeof (self->keys), "%s/keys", self->dir);
    mkdir (self->allowed, 0700);
    mkdir (self->keys, 0700);
    s_keygen (self->keys, "server");
    s_keygen (self->keys, "alice");
    s_keygen (self->keys, "bob");
    s_keygen (self->keys, "mallory");
    s_allow (self, "alice");
    s_allow (self, "bob");
    s_cert_path (self, "server", self->server, sizeof (self->server));
    snprintf (self->db, sizeof (self->db), "%s/ledger.db", self->db_dir);
    char *free_endpoint = harness_free_endpoint ();
    snprintf (self->endpoint, sizeof (self->endpoint), "%s", free_endpoint);
    zstr_free (&free_endpoint);
    self->pid = fork ();
    if (self->pid == 0) {
        char log [400];
        snprintf (log, sizeof (log), "%s/ledgerd.log", self->db_dir);
        freopen (log, "w", stderr);
        execl (LEDGERD_PATH, LEDGERD_PATH, "--db", self->db, "--bind", self->endpoint,
               "--curve-secret", self->server, "--curve-allow", self->allowed, (char *) NULL);
        _exit (127);
    }
    char alice [400];
    s_cert_path (self, "alice", alice, sizeof (alice));
    ledger_result_t *result = NULL;
    for (int attempt = 0; attempt < 20; attempt++) {
        ledger_result_destroy (&result);
        result = s_create (self->endpoint, alice, self->server, "Alice's");
        if (ledger_result_status (result) == LEDGER_OK)
            break;
    }
    int rc = result && ledger_result_status (result) == LEDGER_OK? 0: -1;
    CHECK_INT (rc, 0);
    ledger_result_destroy (&result);
    return rc;
}

/*  Stop the worker (it must exit 0) and remove its directories. */
static void
s_worker_stop (curve_worker_t *self)
{
    kill (self->pid, SIGTERM);
    int status = -1;
    waitpid (self->pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    harness_remove_dir (self->db_dir);
    harness_remove_dir (self->dir);
}

/*  A REQ socket that talks CURVE to the worker with name's keys, connected,
    or NULL. One socket, one connection: ZeroMQ would reconnect only if the
    worker dropped it, and a new connection with a removed key is refused. */
static zsock_t *
s_curve_req (curve_worker_t *self, const char *name)
{
    char path [400];
    s_cert_path (self, name, path, sizeof (path));
    zcert_t *cert = zcert_load (path);
    zcert_t *server = zcert_load (self->server);
    zsock_t *req = cert && server? zsock_new (ZMQ_REQ): NULL;
    if (req) {
        zsock_set_linger (req, 0);
        zsock_set_sndtimeo (req, 5000);
        zcert_apply (cert, req);
        zsock_set_curve_serverkey (req, zcert_public_txt (server));
        if (zsock_connect (req, "%s", self->endpoint))
            zsock_destroy (&req);
    }
    zcert_destroy (&cert);
    zcert_destroy (&server);
    CHECK (req != NULL);
    return req;
}

/*  Send a category.create of name with id over req; the reply or NULL. */
static json_t *
s_call_create (zsock_t *req, int id, const char *name)
{
    return harness_callf (req, "{\"v\": 1, \"id\": %d, \"ops\": [{\"op\": \"category.create\", \"name\": \"%s\"}]}",
                          id, name);
}

/*  Check reply is denied / KEY_REVOKED for request id; release it. */
static void
s_check_revoked (json_t *reply, int id)
{
    CHECK (reply != NULL);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_INT (harness_int (reply, "id"), id);
    CHECK_STR (harness_str (reply, "error.class"), "denied");
    CHECK_STR (harness_str (reply, "error.code"), "KEY_REVOKED");
    CHECK_INT (harness_bool (reply, "error.retryable"), 0);
    CHECK (json_is_null (harness_get (reply, "error.op")));
    CHECK (json_is_null (harness_get (reply, "error.field")));
    json_decref (reply);
}

/*  Check result is the library's own refusal of a CURVE key: failed,
    class denied, AUTH_REFUSED, not retryable, saying why. */
static void
s_check_auth_refused (ledger_result_t *result)
{
    CHECK (result && ledger_result_status (result) == LEDGER_FAILED);
    if (!result || ledger_result_status (result) != LEDGER_FAILED)
        return;
    CHECK_STR (ledger_result_error_class (result), "denied");
    CHECK_STR (ledger_result_error_code (result), "AUTH_REFUSED");
    CHECK (!ledger_result_retryable (result));
    CHECK (strstr (ledger_result_describe (result),
                   "authentication failed: the worker refused this client's CURVE key") != NULL);
}

/*  Two batches one after the other on one client with a refused key:
    both refused, each at once. */
static void
s_check_auth_refused_twice (const char *endpoint, const char *client_cert, const char *server_key)
{
    ledger_client_t *client = ledger_client_new (endpoint);
    ledger_client_set_timeout (client, 2000);
    CHECK_INT (ledger_client_set_curve (client, client_cert, server_key), 0);
    for (int n = 0; n < 2; n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_ping (batch);
        int64_t started = zclock_mono ();
        ledger_result_t *result = ledger_client_submit (client, batch);
        CHECK (zclock_mono () - started < 1000);
        s_check_auth_refused (result);
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
}

/*  The worker's log has a warn line naming the refused key of the
    certificate at cert_path; exactly one when its refusals all came
    within the worker's one-line-a-second limit (at_most_one). */
static void
s_check_logged_refusal (curve_worker_t *self, const char *cert_path, bool at_most_one)
{
    zcert_t *cert = zcert_load (cert_path);
    CHECK (cert != NULL);
    if (!cert)
        return;
    char expected [120], log [400];
    snprintf (expected, sizeof (expected), "CURVE: refused key %s from ", zcert_public_txt (cert));
    zcert_destroy (&cert);
    snprintf (log, sizeof (log), "%s/ledgerd.log", self->db_dir);
    FILE *file = fopen (log, "r");
    CHECK (file != NULL);
    char line [1024];
    int found = 0;
    while (file && fgets (line, sizeof (line), file)) {
        char *at = strstr (line, expected);
        char *level = strstr (line, " warn ");
        found += at && level && level < at;
    }
    if (file)
        fclose (file);
    CHECK (found >= 1);
    if (at_most_one)
        CHECK_INT (found, 1);
}

static void
test_curve (void)
{
    curve_worker_t worker;
    if (s_worker_start (&worker)) {
        s_worker_stop (&worker);
        return;
    }
    char alice [400], mallory [400];
    s_cert_path (&worker, "alice", alice, sizeof (alice));
    s_cert_path (&worker, "mallory", mallory, sizeof (mallory));

    /*  An unknown key is refused at the handshake and writes nothing: the
        library says so at once, as a refusal (never delivered), not after
        every try as an unknown outcome. */
    int64_t started = zclock_mono ();
    ledger_result_t *result = s_create (worker.endpoint, mallory, worker.server, "Mallory's");
    int64_t took = zclock_mono () - started;
    s_check_auth_refused (result);
    CHECK (took < 1000);
    ledger_result_destroy (&result);
    /*  Again on the same client: its next handshake is refused too. */
    s_check_auth_refused_twice (worker.endpoint, mallory, worker.server);
    /*  The worker logged who was refused, at warn, once for the three
        refusals if they came within a second. */
    s_check_logged_refusal (&worker, mallory, zclock_mono () - started < 1000);

    /*  So is a client without CURVE (the NULL mechanism). */
    result = s_create (worker.endpoint, NULL, NULL, "Anonymous");
    CHECK (result && ledger_result_status (result) == LEDGER_UNKNOWN);
    CHECK (result && strstr (ledger_result_describe (result), "authentication failed") != NULL);
    ledger_result_destroy (&result);

    /*  Removing alice's certificate takes effect for new connections. */
    s_revoke (&worker, "alice");
    result = s_create (worker.endpoint, alice, worker.server, "Alice again");
    s_check_auth_refused (result);
    ledger_result_destroy (&result);

    CHECK_INT (harness_sql_int (worker.db, "SELECT count (*) FROM category"), 1);
    s_worker_stop (&worker);
}

/*  Snapshot files in the worker's database directory. */
static int
s_snapshot_files (curve_worker_t *self)
{
    DIR *dir = opendir (self->db_dir);
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir)))
        count += strncmp (entry->d_name, "ledger.db.backup-", 17) == 0;
    if (dir)
        closedir (dir);
    return count;
}

/*  A backup is a request like any other: a key the worker does not allow
    is refused at the handshake, and no snapshot is taken; an allowed one
    gets its copy through ledgerctl over CURVE. */
static void
test_backup_over_curve (void)
{
    curve_worker_t worker;
    if (s_worker_start (&worker)) {
        s_worker_stop (&worker);
        return;
    }
    char alice [400], mallory [400];
    s_cert_path (&worker, "alice", alice, sizeof (alice));
    s_cert_path (&worker, "mallory", mallory, sizeof (mallory));
    const char *who [] = { mallory, NULL };
    for (int n = 0; n < 2; n++) {
        ledger_client_t *client = ledger_client_new (worker.endpoint);
        ledger_client_set_timeout (client, 500);
        if (who [n])
            CHECK_INT (ledger_client_set_curve (client, who [n], worker.server), 0);
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_backup (batch);
        ledger_result_t *result = ledger_client_submit (client, batch);
        CHECK (result && ledger_result_status (result) != LEDGER_OK);
        CHECK (result && strstr (ledger_result_describe (result), "authentication failed") != NULL);
        if (who [n])
            s_check_auth_refused (result);
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
        ledger_client_destroy (&client);
    }
    CHECK_INT (s_snapshot_files (&worker), 0);

    char copy [400];
    snprintf (copy, sizeof (copy), "%s/copy.db", worker.db_dir);
    pid_t pid = fork ();
    if (pid == 0) {
        freopen ("/dev/null", "w", stdout);
        execl (LEDGERCTL_PATH, LEDGERCTL_PATH, "--endpoint", worker.endpoint, "--curve-secret", alice,
               "--curve-server-key", worker.server, "backup", copy, (char *) NULL);
        _exit (127);
    }
    int status = -1;
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK_INT (harness_sql_int (copy, "SELECT count (*) FROM category WHERE name = 'Alice''s'"), 1);
    CHECK_INT (s_snapshot_files (&worker), 0);
    s_worker_stop (&worker);
}

/*  A key taken out of the allow directory stops working on a connection
    opened before: its requests there are answered denied / KEY_REVOKED
    within a few seconds, and nothing more of them is written. Bob, still
    allowed, goes on writing on his own connection. */
static void
test_revoked_key_on_open_connection (void)
{
    curve_worker_t worker;
    if (s_worker_start (&worker)) {
        s_worker_stop (&worker);
        return;
    }
    zsock_t *alice = s_curve_req (&worker, "alice");
    zsock_t *bob = s_curve_req (&worker, "bob");
    ledger_client_t *client = ledger_client_new (worker.endpoint);
    char alice_cert [400];
    s_cert_path (&worker, "alice", alice_cert, sizeof (alice_cert));
    CHECK_INT (ledger_client_set_curve (client, alice_cert, worker.server), 0);
    ledger_client_set_timeout (client, 2000);
    ledger_client_set_retries (client, 0);
    if (!alice || !bob) {
        zsock_destroy (&alice);
        zsock_destroy (&bob);
        ledger_client_destroy (&client);
        s_worker_stop (&worker);
        return;
    }
    /*  Both of alice's connections are open and writing. */
    json_t *reply = s_call_create (alice, 1, "alice-0");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_create (batch, "alice-library-0", LEDGER_UNSET);
    ledger_result_t *result = ledger_client_submit (client, batch);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);

    /*  Her key goes. Until the worker notices, her batches still commit. */
    s_revoke (&worker, "alice");
    int64_t removed = zclock_mono ();
    int id = 1, written_after = 0;
    json_t *denied = NULL;
    while (!denied && zclock_mono () - removed < REVOKE_DEADLINE_MS) {
        char name [32];
        snprintf (name, sizeof (name), "alice-%d", ++id);
        reply = s_call_create (alice, id, name);
        if (!reply)
            break;              /* the REQ socket is stuck: reported by the harness */
        if (harness_bool (reply, "ok") == 1) {
            written_after++;
            json_decref (reply);
        }
        else
            denied = reply;
    }
    printf ("     %s %lld ms after the removal; %d batches written in between\n",
            denied? "denied": "still not denied", (long long) (zclock_mono () - removed), written_after);
    s_check_revoked (denied, id);

    /*  From then on, everything on that connection is refused, reads too. */
    for (int n = 0; n < 3; n++) {
        id++;
        s_check_revoked (s_call_create (alice, id, "alice-late"), id);
    }
    id++;
    s_check_revoked (harness_callf (alice, "{\"v\": 1, \"id\": %d, \"ops\": [{\"op\": \"sys.ping\"}]}", id), id);
    /*  The library gets the class and does not retry. */
    batch = ledger_batch_new ();
    ledger_batch_category_create (batch, "alice-library-1", LEDGER_UNSET);
    result = ledger_client_submit (client, batch);
    CHECK (result && ledger_result_status (result) == LEDGER_FAILED);
    CHECK (result && ledger_result_error_class (result) && strcmp (ledger_result_error_class (result), "denied") == 0);
    CHECK (result && !ledger_result_retryable (result));
    if (result && ledger_result_status (result) != LEDGER_OK)
        CHECK (strstr (ledger_result_describe (result), "KEY_REVOKED") != NULL);
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    /*  A new connection with her key is refused at the handshake. */
    result = s_create (worker.endpoint, alice_cert, worker.server, "alice-new");
    s_check_auth_refused (result);
    ledger_result_destroy (&result);

    /*  Bob is still in, and sees the refusals counted. */
    reply = s_call_create (bob, 1, "bob-0");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    reply = harness_call (bob, "{\"v\": 1, \"id\": 2, \"ops\": [{\"op\": \"sys.stats\"}]}");
    CHECK_INT (harness_int (reply, "results.0.stats.batches_failed.denied"), 6);
    json_decref (reply);

    zsock_destroy (&alice);
    zsock_destroy (&bob);
    ledger_client_destroy (&client);
    /*  "Alice's", alice-0, alice-library-0, what slipped in before the
        worker noticed, and bob-0: nothing of alice after the refusal. */
    CHECK_INT (harness_sql_int (worker.db, "SELECT count (*) FROM category WHERE name LIKE 'alice-%'"),
               2 + written_after);
    CHECK_INT (harness_sql_int (worker.db, "SELECT count (*) FROM category"), 4 + written_after);
    s_worker_stop (&worker);
}

/*  Run ledgerd with args (NULL-terminated) to its end, its output into
    output; return its exit status, or -1 if it died by a signal or was
    still running after 10 s (then it is killed: a worker that should have
    refused to start fails the test instead of hanging it). */
static int
s_run_ledgerd (char *output, size_t size, const char *const *args)
{
    char log [] = "/tmp/ledgerd-curve-run-XXXXXX";
    int fd = mkstemp (log);
    CHECK (fd >= 0);
    if (fd < 0)
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (fd, STDOUT_FILENO);
        dup2 (fd, STDERR_FILENO);
        const char *argv [16] = { LEDGERD_PATH };
        for (int n = 0; args [n] && n < 14; n++)
            argv [n + 1] = args [n];
        execv (LEDGERD_PATH, (char **) argv);
        _exit (127);
    }
    int status = -1;
    int64_t deadline = zclock_mono () + 10000;
    while (waitpid (pid, &status, WNOHANG) == 0)
        if (zclock_mono () < deadline)
            zclock_sleep (10);
        else {
            fprintf (stderr, "ledgerd still running after 10 s: killed\n");
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
        }
    ssize_t got = pread (fd, output, size - 1, 0);
    output [got > 0? got: 0] = 0;
    close (fd);
    unlink (log);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

/*  "tcp://0.0.0.0:PORT" for a port nothing listens on now, and the same
    port on loopback. */
static void
s_wildcard_endpoint (char *wildcard, char *loopback, size_t size)
{
    char *free_endpoint = harness_free_endpoint ();
    CHECK (free_endpoint != NULL);
    const char *port = free_endpoint? strrchr (free_endpoint, ':') + 1: "1";
    snprintf (wildcard, size, "tcp://0.0.0.0:%s", port);
    snprintf (loopback, size, "tcp://127.0.0.1:%s", port);
    zstr_free (&free_endpoint);
}

/*  Without CURVE or --insecure-bind, a listener beyond loopback is a usage
    error: status 2, saying which endpoint and what to give. */
static void
test_no_public_listener_without_curve (void)
{
    char wildcard [64], loopback [64], db [] = "/tmp/ledgerd-curve-db-XXXXXX", path [100];
    s_wildcard_endpoint (wildcard, loopback, sizeof (wildcard));
    CHECK (mkdtemp (db) != NULL);
    snprintf (path, sizeof (path), "%s/ledger.db", db);
    char output [4096], expect [200];
    const char *const args [] = { "--db", path, "--bind", wildcard, NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), args), 2);
    snprintf (expect, sizeof (expect), "ledgerd: refusing to listen without authentication on %s: give "
              "--curve-secret and --curve-allow, or --insecure-bind; see ledgerd --help\n", wildcard);
    CHECK (strstr (output, expect) == output);
    CHECK (access (path, F_OK) != 0);       /* refused before it opened anything */
    harness_remove_dir (db);
}

/*  --insecure-bind lets the worker listen on every interface without
    CURVE: it answers a ping there (reached over loopback). */
static void
test_insecure_bind_serves_beyond_loopback (void)
{
    char wildcard [64], loopback [64];
    s_wildcard_endpoint (wildcard, loopback, sizeof (wildcard));
    harness_t *worker = harness_start ("--bind", wildcard, "--insecure-bind", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *req = zsock_new (ZMQ_REQ);
    CHECK (req != NULL);
    if (req) {
        zsock_set_linger (req, 0);
        zsock_set_sndtimeo (req, 5000);
        CHECK_INT (zsock_connect (req, "%s", loopback), 0);
        json_t *reply = harness_call (req, "{\"v\": 1, \"ops\": [{\"op\": \"sys.ping\"}]}");
        CHECK_INT (harness_bool (reply, "ok"), 1);
        CHECK_INT (harness_bool (reply, "results.0.pong"), 1);
        json_decref (reply);
        zsock_destroy (&req);
    }
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    TEST_RUN (test_curve);
    TEST_RUN (test_revoked_key_on_open_connection);
    TEST_RUN (test_backup_over_curve);
    TEST_RUN (test_no_public_listener_without_curve);
    TEST_RUN (test_insecure_bind_serves_beyond_loopback);
    return TEST_DONE ();
}

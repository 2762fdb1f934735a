/*  ledgerd -- the batch worker that owns the ledger database.

    main wires the parts: it parses the command line, opens the store (so a
    bad database fails before anything listens), starts the front end (the
    writer, with its reader threads), and turns SIGINT/SIGTERM into a drain: stop reading, reply
    to everything already taken, close the database, exit 0. A second
    signal exits at once; every batch is a transaction, so the database
    stays consistent. A start that fails leaves no database it created. */

#include "auth.h"
#include "cluster.h"
#include "config.h"
#include "frontend.h"
#include "log.h"
#include "metrics_http.h"
#include "stats.h"
#include "store.h"

#include <czmq.h>
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop;
static int s_wake_pipe [2] = { -1, -1 };

static void
s_on_signal (int signum)
{
    if (s_stop)
        _exit (128 + signum);
    s_stop = 1;
    /*  Wakes zmq_poll in the front end even if the signal landed just
        before it started waiting. */
    ssize_t written = write (s_wake_pipe [1], "x", 1);
    (void) written;
}

static int
s_install_signals (void)
{
    if (pipe (s_wake_pipe))
        return -1;
    for (int n = 0; n < 2; n++) {
        fcntl (s_wake_pipe [n], F_SETFL, fcntl (s_wake_pipe [n], F_GETFL) | O_NONBLOCK);
        fcntl (s_wake_pipe [n], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    if (sigaction (SIGINT, &action, NULL) || sigaction (SIGTERM, &action, NULL))
        return -1;
    signal (SIGPIPE, SIG_IGN);
    return 0;
}

static void
s_close_stores (store_t **writer, store_t **readers, int count)
{
    store_destroy (writer);
    for (int n = 0; n < count; n++)
        store_destroy (&readers [n]);
}

/*  SQLite says only "unable to open database file"; say why, from the
    directory the file is (or would be) in, appending to errbuf. */
static void
s_explain_open_failure (const char *path, char *errbuf, size_t errlen)
{
    if (!strstr (errbuf, "unable to open database file"))
        return;
    char copy [PATH_MAX];
    snprintf (copy, sizeof (copy), "%s", path);
    const char *dir = dirname (copy);
    char why [PATH_MAX + 64] = "";
    struct stat st;
    if (stat (dir, &st) && errno == ENOENT)
        snprintf (why, sizeof (why), "directory %s does not exist", dir);
    else
    if (stat (dir, &st))
        snprintf (why, sizeof (why), "directory %s: %s", dir, strerror (errno));
    else
    if (!S_ISDIR (st.st_mode))
        snprintf (why, sizeof (why), "%s is not a directory", dir);
    else
    if (access (path, F_OK) == 0 && access (path, R_OK | W_OK))
        snprintf (why, sizeof (why), "cannot read and write %s: %s", path, strerror (errno));
    else
    if (access (path, F_OK) && access (dir, W_OK | X_OK))
        snprintf (why, sizeof (why), "cannot create files in %s: %s", dir, strerror (errno));
    size_t used = strlen (errbuf);
    if (*why && used < errlen)
        snprintf (errbuf + used, errlen - used, " (%s)", why);
}

/*  Remove a database this start created, with its WAL files: a start that
    fails must leave nothing behind. */
static void
s_remove_new_database (const char *path)
{
    char name [PATH_MAX + 8];
    unlink (path);
    snprintf (name, sizeof (name), "%s-wal", path);
    unlink (name);
    snprintf (name, sizeof (name), "%s-shm", path);
    unlink (name);
}

/*  What sys.ping and sys.stats say of the cluster. */
static const char *
s_cluster_role (void *cluster)
{
    return cluster_role ((cluster_t *) cluster);
}

static void
s_cluster_pack (void *cluster, msgpack_packer *pk)
{
    cluster_pack ((cluster_t *) cluster, pk);
}

static int
s_cluster_admin (void *cluster, bool remove, uint64_t id, char *errbuf, size_t errlen)
{
    return remove? cluster_remove ((cluster_t *) cluster, id, errbuf, errlen)
                 : cluster_transfer ((cluster_t *) cluster, id, errbuf, errlen);
}

int
main (int argc, char *argv [])
{
    config_t config;
    char errbuf [512];
    config_rc_t parsed = config_parse (&config, argc, argv, stdout, errbuf, sizeof (errbuf));
    if (parsed == CONFIG_DONE)
        return 0;
    if (parsed == CONFIG_BAD) {
        fprintf (stderr, "ledgerd: %s; see ledgerd --help\n", errbuf);
        return 2;
    }
    log_set_level (config.log_level);
    log_set_format (config.log_format);

    /*  czmq's own handler would turn SIGINT into zsys_interrupted; we want
        the drain above instead, so it is switched off before czmq starts. */
    zsys_handler_set (NULL);
    if (s_install_signals ()) {
        log_error ("worker.start_failed", "cannot install signal handlers");
        return 1;
    }
    /*  No allocation statistics: they take a global mutex on every
        SQLite malloc and free, a few percent of the writer's time.
        In cluster mode this meets two bugs of Debian's dqlite 1.11, and
        this side is the one that works: with statistics off, valgrind
        sees its VFS read uninitialised WAL frame pointers (harmless with
        glibc's allocator in every run here, 1 M rows included; ASan's
        makes it crash, so the ASan suite leaves the cluster tests out);
        with them on, every follower aborts on its first checkpoint
        ("maybeCheckpoint: Assertion `db->follower == NULL'"), after about
        1000 commits to one database. */
    sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
    stats_t stats;
    stats_init (&stats);
    store_t *store = NULL;
    store_t *readers [CONFIG_MAX_READERS] = { NULL };
    cluster_t *cluster = NULL;
    int schema = -1;
    bool db_new = false;                /* this start creates the database */
    void *ctx = NULL;
    auth_t *auth = NULL;
    frontend_t *frontend = NULL;
    metrics_http_t *metrics = NULL;
    /*  Metrics first: /healthz answers, and /readyz says "starting", while
        the database opens (a migration may take a while). */
    if (config.metrics_bind) {
        if (!(metrics = metrics_http_new (&config, &stats, config.cluster_id? NULL: config.db_path,
                                          errbuf, sizeof (errbuf)))) {
            log_error ("worker.start_failed", "metrics: %s", errbuf);
            return 1;
        }
        log_info_with ("metrics.listen", LOG_FIELDS (LOG_TEXT ("address", config.metrics_bind)),
                       "metrics on http://%s/metrics (and /healthz, /readyz)", config.metrics_bind);
    }
    if (config.cluster_id) {
        /*  Cluster mode: the ledger is on the dqlite nodes; the front end
            opens its store while this node leads. */
        cluster_options_t cluster_options = {
            .id = config.cluster_id,
            .address = config.cluster_bind,
            .join = config.cluster_join,
            .data_dir = config.data_dir,
            .endpoint = config.advertise,
            .latency_ms = (unsigned) config.cluster_latency_ms,
            .snapshot_threshold = (unsigned) config.cluster_snapshot,
            .snapshot_trailing = (unsigned) config.cluster_trailing,
            .timeout_ms = config.cluster_timeout_ms,
            .join_timeout_ms = 60000,
        };
        if (!(cluster = cluster_new (&cluster_options, errbuf, sizeof (errbuf)))) {
            log_error ("worker.start_failed", "cluster: %s", errbuf);
            goto failed;
        }
        stats.cluster = cluster;
        stats.cluster_role = s_cluster_role;
        stats.cluster_pack = s_cluster_pack;
        stats.cluster_admin = s_cluster_admin;
    }
    else {
        store_options_t options = {
            .sync_full = config.sync_full,
            .busy_timeout_ms = config.busy_timeout_ms,
            .dedup_ttl_s = config.dedup_ttl_s,
        };
        db_new = access (config.db_path, F_OK) != 0 && errno == ENOENT;
        if (!(store = store_new (config.db_path, &options, &stats, errbuf, sizeof (errbuf)))) {
            s_explain_open_failure (config.db_path, errbuf, sizeof (errbuf));
            log_error ("worker.start_failed", "%s", errbuf);
            goto failed;
        }
        schema = store_schema_version (store);

        /*  Readers open after the writer has migrated the schema. */
        options.read_only = true;
        for (int n = 0; n < config.readers; n++)
            if (!(readers [n] = store_new (config.db_path, &options, &stats, errbuf, sizeof (errbuf)))) {
                log_error ("worker.start_failed", "reader: %s", errbuf);
                goto failed;
            }
    }

    if (!(ctx = zsys_init ())) {
        log_error ("worker.start_failed", "cannot start ZeroMQ");
        goto failed;
    }
    /*  ZAP handler first: a CURVE client connecting right after bind must
        find it there. It re-reads the allowed keys when the directory changes. */
    if (config.curve_allow && !(auth = auth_new (ctx, config.curve_allow, errbuf, sizeof (errbuf)))) {
        log_error ("worker.start_failed", "%s", errbuf);
        goto failed;
    }
    if (!(frontend = frontend_new (ctx, &config, &stats, &store, readers, cluster, errbuf, sizeof (errbuf)))) {
        log_error ("worker.start_failed", "%s", errbuf);
        goto failed;
    }
    frontend_set_auth (frontend, auth);
    for (int n = 0; n < config.bind_count; n++)
        log_info_with ("worker.listen", LOG_FIELDS (LOG_TEXT ("endpoint", config.binds [n]),
                       LOG_BOOL ("curve", config.curve_secret)),
                  "listening on %s%s", config.binds [n], config.curve_secret? " (CURVE)": "");
    if (config.curve_allow)
        log_info_with ("curve.allow", LOG_FIELDS (LOG_TEXT ("dir", config.curve_allow)),
                  "CURVE: clients must hold a key from %s", config.curve_allow);
    if (cluster)
        log_info_with ("worker.start", LOG_FIELDS (LOG_TEXT ("version", LEDGER_VERSION),
                       LOG_INT ("cluster_id", config.cluster_id), LOG_TEXT ("data_dir", config.data_dir),
                       LOG_TEXT ("advertise", config.advertise), LOG_INT ("group_max", config.group_max)),
                  "ledgerd %s: cluster node %llu, data in %s, advertised as %s, group commit up to %u",
                  LEDGER_VERSION, (unsigned long long) config.cluster_id, config.data_dir, config.advertise,
                  config.group_max);
    else
        log_info_with ("worker.start", LOG_FIELDS (LOG_TEXT ("version", LEDGER_VERSION),
                       LOG_TEXT ("db", config.db_path), LOG_INT ("schema", schema),
                       LOG_TEXT ("sync", config.sync_full? "full": "normal"), LOG_INT ("readers", config.readers),
                       LOG_INT ("group_max", config.group_max)),
                  "ledgerd %s: database %s, schema version %d, sync %s, %d readers, group commit up to %u",
                  LEDGER_VERSION, config.db_path, schema, config.sync_full? "full": "normal", config.readers,
                  config.group_max);

    int rc = frontend_run (frontend, s_wake_pipe [0], &s_stop);
    frontend_destroy (&frontend);
    /*  After the front end: its store is a connection to this node. */
    cluster_destroy (&cluster);
    auth_destroy (&auth);
    zsys_shutdown ();
    metrics_http_destroy (&metrics);
    log_info_with ("worker.stopped", LOG_FIELDS (LOG_INT ("exit_status", rc == 0? 0: 1)), "stopped: database closed");
    return rc == 0? 0: 1;

failed:
    s_close_stores (&store, readers, config.readers);
    auth_destroy (&auth);
    cluster_destroy (&cluster);
    if (ctx)
        zsys_shutdown ();
    if (db_new)
        s_remove_new_database (config.db_path);
    metrics_http_destroy (&metrics);
    return 1;
}

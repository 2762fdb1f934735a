/*  backup -- online backups: consistent snapshots, served in chunks. */

#include "backup.h"
#include "job.h"
#include "log.h"
#include "proto_reply.h"
#include "reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Random bytes in a token (it is sent as twice as many hex digits). */
#define TOKEN_BYTES 16
#define TOKEN_LEN (2 * TOKEN_BYTES)

/* Pages copied per sqlite3_backup_step: between two, a cancel is seen. */
#define STEP_PAGES 1024

/* What a snapshot file's name adds to the database's path. */
#define FILE_INFIX ".backup-"

typedef struct {
    bool used;
    char token [TOKEN_LEN + 1];
    char path [PATH_MAX + 64];
    int fd;                     /* open for reading, O_RDONLY */
    int64_t size;
    int64_t last_used_us;       /* monotonic: taken, or last read */
} snapshot_t;

typedef struct {
    char token [TOKEN_LEN + 1];
    bool expired;               /* else ended by sys.backup_end */
} gone_t;

struct _backup_t {
    pthread_t thread;
    void *pipe;                 /* the thread's end of the PAIR */
    char db_path [PATH_MAX];
    int64_t idle_us;
    int nice;                   /* this much nicer than the writer, as the readers */
    stats_t *stats;
    atomic_bool cancelled;
    snapshot_t snapshots [BACKUP_MAX_SNAPSHOTS];
    gone_t gone [BACKUP_GONE_MAX];
    size_t gone_next;           /* ring: the slot the next one takes */
    uint8_t *chunk;             /* PROTO_CHUNK_MAX bytes, for sys.backup_read */
};

/*  The error a failed SQLite call on the snapshot's path turns into: a
    full disk or an I/O failure is for the operator, and a retry may work. */
static void
s_sqlite_error (proto_error_t *err, sqlite3 *db, int rc, const char *what)
{
    proto_class_t klass = PROTO_CLASS_IO;
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
        klass = PROTO_CLASS_INTERNAL;
    proto_error_set (err, klass, 0, NULL, "BACKUP_FAILED", "%s: %s", what,
                     db? sqlite3_errmsg (db): sqlite3_errstr (rc));
}

/*  Remove a snapshot file and the journal SQLite may have left beside it. */
static void
s_unlink_files (const char *path)
{
    char other [PATH_MAX + 96];
    unlink (path);
    static const char *suffixes [] = { "-journal", "-wal", "-shm" };
    for (size_t n = 0; n < sizeof (suffixes) / sizeof (suffixes [0]); n++) {
        snprintf (other, sizeof (other), "%s%s", path, suffixes [n]);
        unlink (other);
    }
}

/*  Remove DB.backup-* files: a worker killed outright (SIGKILL, power
    loss) leaves its snapshots; nobody can read them any more. */
static void
s_remove_stale (const char *db_path)
{
    char dir [PATH_MAX];
    snprintf (dir, sizeof (dir), "%s", db_path);
    char *slash = strrchr (dir, '/');
    const char *base = slash? slash + 1: db_path;
    if (slash)
        *(slash == dir? slash + 1: slash) = 0;
    else
        strcpy (dir, ".");
    char prefix [PATH_MAX + 16];
    snprintf (prefix, sizeof (prefix), "%s" FILE_INFIX, base);
    DIR *listing = opendir (dir);
    if (!listing)
        return;
    struct dirent *entry;
    while ((entry = readdir (listing)))
        if (strncmp (entry->d_name, prefix, strlen (prefix)) == 0) {
            char path [2 * PATH_MAX];
            snprintf (path, sizeof (path), "%s/%s", dir, entry->d_name);
            if (unlink (path) == 0)
                log_info_with ("backup.stale_removed", LOG_FIELDS (LOG_TEXT ("path", path)),
                               "backup: removed %s, a snapshot an earlier worker left", path);
        }
    closedir (listing);
}

static void
s_drop (backup_t *self, snapshot_t *snapshot, bool expired)
{
    if (snapshot->fd >= 0)
        close (snapshot->fd);
    s_unlink_files (snapshot->path);
    gone_t *gone = &self->gone [self->gone_next];
    self->gone_next = (self->gone_next + 1) % BACKUP_GONE_MAX;
    memcpy (gone->token, snapshot->token, sizeof (gone->token));
    gone->expired = expired;
    memset (snapshot, 0, sizeof (*snapshot));
    snapshot->fd = -1;
}

/*  Remove the snapshots nobody has read for the idle timeout. */
static void
s_sweep (backup_t *self)
{
    int64_t now = stats_monotonic_us ();
    for (int n = 0; n < BACKUP_MAX_SNAPSHOTS; n++) {
        snapshot_t *snapshot = &self->snapshots [n];
        if (snapshot->used && now - snapshot->last_used_us > self->idle_us) {
            log_info_with ("backup.expired", LOG_FIELDS (LOG_TEXT ("token", snapshot->token)),
                           "backup: snapshot %.8s… expired after %lld s unread: removed", snapshot->token,
                           (long long) (self->idle_us / 1000000));
            s_drop (self, snapshot, true);
        }
    }
}

/*  Copy the database into path, as of one commit. The source connection
    holds one read transaction for the whole copy, so every step sees the
    same snapshot (sqlite3_backup_step uses a transaction already open
    rather than starting one per step, which would restart the copy at
    every commit of the writer); in WAL mode that read transaction stops no
    writer. The copy is then switched to rollback journal mode, so that it
    is one self-contained file, opened read-only anywhere. Returns 0, or -1
    with err set. */
static int
s_copy (backup_t *self, const char *path, proto_error_t *err)
{
    sqlite3 *source = NULL, *copy = NULL;
    sqlite3_backup *backup = NULL;
    int rc = sqlite3_open_v2 (self->db_path, &source, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout (source, 5000);
        rc = sqlite3_exec (source, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        s_sqlite_error (err, source, rc, "cannot read the database");
        goto cleanup;
    }
    rc = sqlite3_open_v2 (path, &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (copy, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;", NULL, NULL, NULL);
    if (rc == SQLITE_OK && !(backup = sqlite3_backup_init (copy, "main", source, "main")))
        rc = sqlite3_errcode (copy);
    if (rc != SQLITE_OK) {
        s_sqlite_error (err, copy, rc, "cannot write the snapshot");
        goto cleanup;
    }
    do {
        if (atomic_load (&self->cancelled)) {
            proto_error_set (err, PROTO_CLASS_OVERLOADED, -1, NULL, "SHUTTING_DOWN",
                             "the worker is stopping; retry later");
            goto cleanup;
        }
        rc = sqlite3_backup_step (backup, STEP_PAGES);
    } while (rc == SQLITE_OK);
    rc = sqlite3_backup_finish (backup);
    backup = NULL;
    if (rc != SQLITE_OK) {
        s_sqlite_error (err, copy, rc, "cannot copy the database");
        goto cleanup;
    }
    sqlite3_exec (source, "COMMIT", NULL, NULL, NULL);
    sqlite3_close (source);
    source = NULL;
    /*  Page 1 came from a WAL database and says so: reopened, the copy
        goes into WAL mode, and leaving it rewrites the header. Never
        synced: a snapshot is read back from the page cache and removed
        within seconds, usually before the kernel writes it at all, and an
        fsync of it would put the whole database in the disk's queue ahead
        of the writer's next commit (measured: tens of ms). */
    sqlite3_close (copy);
    copy = NULL;
    rc = sqlite3_open_v2 (path, &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (copy, "PRAGMA synchronous = OFF; PRAGMA journal_mode = DELETE;", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        s_sqlite_error (err, copy, rc, "cannot finish the snapshot");

cleanup:
    if (backup)
        sqlite3_backup_finish (backup);
    sqlite3_close (copy);
    sqlite3_close (source);
    return proto_error_is_set (err)? -1: 0;
}

/*  The size and the SHA-256 (as hex) of the file open at fd. */
static int
s_digest (backup_t *self, int fd, int64_t *size_p, char hex [crypto_hash_sha256_BYTES * 2 + 1])
{
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    int64_t size = 0;
    while (true) {
        ssize_t got = pread (fd, self->chunk, PROTO_CHUNK_MAX, size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        crypto_hash_sha256_update (&state, self->chunk, (unsigned long long) got);
        size += got;
    }
    unsigned char digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final (&state, digest);
    sodium_bin2hex (hex, crypto_hash_sha256_BYTES * 2 + 1, digest, sizeof (digest));
    *size_p = size;
    return 0;
}

/*  sys.backup: take a snapshot; answer its token, size and digest. */
static int
s_take (backup_t *self, msgpack_packer *pk, proto_error_t *err)
{
    snapshot_t *snapshot = NULL;
    for (int n = 0; n < BACKUP_MAX_SNAPSHOTS && !snapshot; n++)
        if (!self->snapshots [n].used)
            snapshot = &self->snapshots [n];
    if (!snapshot) {
        proto_error_set (err, PROTO_CLASS_OVERLOADED, 0, NULL, "TOO_MANY_BACKUPS",
                         "%d backups are open; end one (sys.backup_end) or wait for one to expire",
                         BACKUP_MAX_SNAPSHOTS);
        return -1;
    }
    unsigned char random [TOKEN_BYTES];
    randombytes_buf (random, sizeof (random));
    sodium_bin2hex (snapshot->token, sizeof (snapshot->token), random, sizeof (random));
    snprintf (snapshot->path, sizeof (snapshot->path), "%s" FILE_INFIX "%s", self->db_path, snapshot->token);
    int64_t started = stats_monotonic_us ();
    char hex [crypto_hash_sha256_BYTES * 2 + 1];
    if (s_copy (self, snapshot->path, err))
        goto failed;
    snapshot->fd = open (snapshot->path, O_RDONLY | O_CLOEXEC);
    if (snapshot->fd < 0 || s_digest (self, snapshot->fd, &snapshot->size, hex)) {
        proto_error_set (err, PROTO_CLASS_IO, 0, NULL, "BACKUP_FAILED", "cannot read the snapshot: %s",
                         strerror (errno));
        goto failed;
    }
    snapshot->used = true;
    snapshot->last_used_us = stats_monotonic_us ();
    log_info_with ("backup.taken", LOG_FIELDS (LOG_TEXT ("token", snapshot->token), LOG_INT ("bytes", snapshot->size),
                                               LOG_INT ("ms", (snapshot->last_used_us - started) / 1000)),
                   "backup: snapshot %.8s… taken: %lld bytes in %lld ms", snapshot->token, (long long) snapshot->size,
                   (long long) ((snapshot->last_used_us - started) / 1000));
    msgpack_pack_map (pk, 5);
    proto_pack_cstr (pk, "token");
    proto_pack_cstr (pk, snapshot->token);
    proto_pack_cstr (pk, "size");
    msgpack_pack_int64 (pk, snapshot->size);
    proto_pack_cstr (pk, "sha256");
    proto_pack_cstr (pk, hex);
    proto_pack_cstr (pk, "chunk_max");
    msgpack_pack_int64 (pk, PROTO_CHUNK_MAX);
    proto_pack_cstr (pk, "idle_timeout_s");
    msgpack_pack_int64 (pk, self->idle_us / 1000000);
    return 0;

failed:
    if (snapshot->fd >= 0)
        close (snapshot->fd);
    s_unlink_files (snapshot->path);
    memset (snapshot, 0, sizeof (*snapshot));
    snapshot->fd = -1;
    return -1;
}

/*  The snapshot the op's token names, or NULL with err set: a token never
    given out, or one whose snapshot ended or expired. */
static snapshot_t *
s_find (backup_t *self, const proto_op_t *op, proto_error_t *err)
{
    const proto_value_t *token = &op->value [PROTO_FIELD_TOKEN];
    for (int n = 0; n < BACKUP_MAX_SNAPSHOTS; n++) {
        snapshot_t *snapshot = &self->snapshots [n];
        if (snapshot->used && token->len == TOKEN_LEN && memcmp (snapshot->token, token->str, TOKEN_LEN) == 0)
            return snapshot;
    }
    for (int n = 0; n < BACKUP_GONE_MAX; n++) {
        gone_t *gone = &self->gone [n];
        if (gone->token [0] && token->len == TOKEN_LEN && memcmp (gone->token, token->str, TOKEN_LEN) == 0) {
            if (gone->expired)
                proto_error_set (err, PROTO_CLASS_NOT_FOUND, 0, "token", "BACKUP_EXPIRED",
                                 "this backup was removed after %lld s without a read: start again",
                                 (long long) (self->idle_us / 1000000));
            else
                proto_error_set (err, PROTO_CLASS_NOT_FOUND, 0, "token", "BACKUP_ENDED",
                                 "this backup was ended (sys.backup_end)");
            return NULL;
        }
    }
    proto_error_set (err, PROTO_CLASS_NOT_FOUND, 0, "token", "UNKNOWN_BACKUP",
                     "no backup has this token (this worker never gave it out, or has restarted since)");
    return NULL;
}

/*  sys.backup_read: up to length bytes of the snapshot from position. */
static int
s_read (backup_t *self, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    snapshot_t *snapshot = s_find (self, op, err);
    if (!snapshot)
        return -1;
    int64_t position = op->value [PROTO_FIELD_POSITION].i;
    int64_t length = op->value [PROTO_FIELD_LENGTH].i;
    if (position > snapshot->size) {
        proto_error_set (err, PROTO_CLASS_INVALID, 0, "position", "POSITION_PAST_END",
                         "position %lld is past the end of the backup (%lld bytes)", (long long) position,
                         (long long) snapshot->size);
        return -1;
    }
    if (length > snapshot->size - position)
        length = snapshot->size - position;
    ssize_t got;
    size_t done = 0;
    while (done < (size_t) length) {
        got = pread (snapshot->fd, self->chunk + done, (size_t) length - done, position + (off_t) done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            proto_error_set (err, PROTO_CLASS_IO, 0, NULL, "BACKUP_FAILED", "cannot read the snapshot: %s",
                             got < 0? strerror (errno): "it is shorter than it was");
            return -1;
        }
        done += (size_t) got;
    }
    snapshot->last_used_us = stats_monotonic_us ();
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, "data");
    msgpack_pack_bin (pk, done);
    msgpack_pack_bin_body (pk, self->chunk, done);
    return 0;
}

/*  sys.backup_end: remove the snapshot now. */
static int
s_end (backup_t *self, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    snapshot_t *snapshot = s_find (self, op, err);
    if (!snapshot)
        return -1;
    s_drop (self, snapshot, false);
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, "done");
    msgpack_pack_true (pk);
    return 0;
}

/*  Answer the job's one op (the decoder lets a backup op go alone only)
    into its reply, as sys_ops_run answers the ops without the ledger. */
static void
s_run (backup_t *self, job_t *job)
{
    const proto_request_t *request = job->request;
    const proto_op_t *op = &request->ops [0];
    msgpack_sbuffer results;
    msgpack_sbuffer_init (&results);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &results, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 1);
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    int rc = -1;
    stats_block_t *counts = stats_block (self->stats, STATS_BACKUP);
    stats_count_ops (counts, op->code, 1);
    if (atomic_load (&self->cancelled))
        proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, "SHUTTING_DOWN", "the worker is stopping; retry later");
    else
    if (op->code == PROTO_OP_SYS_BACKUP)
        rc = s_take (self, &pk, &err);
    else
    if (op->code == PROTO_OP_SYS_BACKUP_READ)
        rc = s_read (self, op, &pk, &err);
    else
    if (op->code == PROTO_OP_SYS_BACKUP_END)
        rc = s_end (self, op, &pk, &err);
    else
        proto_error_set (&err, PROTO_CLASS_INTERNAL, 0, "op", "INTERNAL", "not a backup op");
    bool independent = request->mode == PROTO_MODE_INDEPENDENT;
    if (rc == 0)
        proto_reply_ok (&job->reply, request, results.data, results.size, independent? 0: -1, false);
    else
    if (independent && err.klass == PROTO_CLASS_INVALID) {
        msgpack_sbuffer_clear (&results);
        msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 1);
        proto_pack_cstr (&pk, "error");
        proto_pack_error (&pk, &err);
        proto_reply_ok (&job->reply, request, results.data, results.size, 1, false);
    }
    else
        proto_reply_error (&job->reply, request, &err);
    stats_count_batch (counts, rc == 0 || independent? PROTO_CLASS_NONE: err.klass);
    msgpack_sbuffer_destroy (&results);
}

/*  Writes come first, as for the readers (reader.c): this thread runs
    nicer than the writer by --reader-nice, and its disk I/O (a copy of the
    whole database, then reading it back for the digest) at the lowest
    best-effort I/O priority, so that the writer's fsyncs go ahead of it
    in the disk's queue. Neither needs privilege; if either fails, the
    thread just runs as is. */
static void
s_lower_priority (backup_t *self)
{
    if (reader_lower_priority (self->nice))
        log_warn ("backup.nice", "backup: cannot lower its CPU priority: %s", strerror (errno));
#ifdef SYS_ioprio_set
    pid_t tid = (pid_t) syscall (SYS_gettid);
    enum { IOPRIO_WHO_PROCESS = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_SHIFT = 13, IOPRIO_LOWEST = 7 };
    if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | IOPRIO_LOWEST))
        log_warn ("backup.ionice", "backup: cannot lower its I/O priority: %s", strerror (errno));
#endif
}

static void *
s_backup_main (void *arg)
{
    backup_t *self = (backup_t *) arg;
    s_lower_priority (self);
    while (true) {
        zmq_pollitem_t item = { self->pipe, 0, ZMQ_POLLIN, 0 };
        long tick_ms = self->idle_us / 4000;
        int rc = zmq_poll (&item, 1, tick_ms < 1000? (tick_ms > 10? tick_ms: 10): 1000);
        s_sweep (self);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc <= 0) {
            if (rc == -1) {
                log_error ("backup.poll", "backup: cannot poll the front end's pipe: %s", zmq_strerror (errno));
                break;
            }
            continue;
        }
        job_t *job;
        rc = zmq_recv (self->pipe, &job, sizeof (job), 0);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc != (int) sizeof (job)) {
            log_error ("backup.recv", "backup: cannot read from the front end: %s", zmq_strerror (errno));
            break;
        }
        if (!job)
            break;              /* the stop signal */
        s_run (self, job);
        while (zmq_send (self->pipe, &job, sizeof (job), 0) == -1 && errno == EINTR)
            ;
    }
    return NULL;
}

backup_t *
backup_new (void *ctx, const char *endpoint, const char *db_path, int idle_s, int nice, stats_t *stats,
            char *errbuf, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (errbuf, errlen, "cannot initialise libsodium");
        return NULL;
    }
    backup_t *self = calloc (1, sizeof (backup_t));
    if (!self || !(self->chunk = malloc (PROTO_CHUNK_MAX))) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    if (strlen (db_path) + strlen (FILE_INFIX) + TOKEN_LEN + 16 >= sizeof (self->db_path)) {
        snprintf (errbuf, errlen, "the database path is too long for its backups' names");
        goto failed;
    }
    strcpy (self->db_path, db_path);
    self->idle_us = (int64_t) idle_s * 1000000;
    self->nice = nice;
    self->stats = stats;
    atomic_init (&self->cancelled, false);
    for (int n = 0; n < BACKUP_MAX_SNAPSHOTS; n++)
        self->snapshots [n].fd = -1;
    s_remove_stale (db_path);
    self->pipe = zmq_socket (ctx, ZMQ_PAIR);
    int unlimited = 0;
    if (!self->pipe
    ||  zmq_setsockopt (self->pipe, ZMQ_SNDHWM, &unlimited, sizeof (unlimited))
    ||  zmq_setsockopt (self->pipe, ZMQ_RCVHWM, &unlimited, sizeof (unlimited))
    ||  zmq_connect (self->pipe, endpoint)) {
        snprintf (errbuf, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror (errno));
        goto failed;
    }
    /*  Signals belong to the front end's thread, which drains on them. */
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    int rc = pthread_create (&self->thread, NULL, s_backup_main, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf (errbuf, errlen, "cannot start its thread: %s", strerror (rc));
        goto failed;
    }
    return self;

failed:
    if (self && self->pipe)
        zmq_close (self->pipe);
    if (self)
        free (self->chunk);
    free (self);
    return NULL;
}

void
backup_cancel (backup_t *self)
{
    if (self)
        atomic_store (&self->cancelled, true);
}

void
backup_destroy (backup_t **self_p, void *pipe)
{
    if (!self_p || !*self_p)
        return;
    backup_t *self = *self_p;
    backup_cancel (self);
    job_t *stop = NULL;
    zmq_send (pipe, &stop, sizeof (stop), 0);
    pthread_join (self->thread, NULL);
    zmq_close (self->pipe);
    for (int n = 0; n < BACKUP_MAX_SNAPSHOTS; n++)
        if (self->snapshots [n].used)
            s_drop (self, &self->snapshots [n], false);
    free (self->chunk);
    free (self);
    *self_p = NULL;
}

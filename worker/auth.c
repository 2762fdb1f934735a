/*  auth -- the ZAP handler: which CURVE clients may talk to the worker.

    The keys live in a hash set that only the handler thread replaces,
    whole, under a mutex; auth_allows takes the same mutex for one lookup.
    Whether the directory changed is judged from a digest of its entries'
    names, inodes, sizes and times, so looking costs a readdir and a stat
    per file, and reading certificates happens only when something moved.
    The digest is taken before the certificates are read: a file that
    changes while they are read makes the next look differ, and read again. */

#include "auth.h"
#include "log.h"

#include <assert.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where libzmq looks for the ZAP handler of a context (RFC 27). */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* A request's frames: version, request id, domain, address, identity,
   mechanism, then the mechanism's credentials (CURVE: one, the key). */
#define ZAP_FRAMES 7

/* A certificate is a few hundred bytes; a larger file is not read. */
#define CERT_BYTES_MAX 65536

#define KEY_BYTES 32
#define KEY_TEXT_LEN 40

struct _auth_t {
    char *dir;                  /* the allow directory */
    void *handler;              /* REP socket on ZAP_ENDPOINT; the thread's while it runs */
    zactor_t *actor;            /* the handler thread */
    pthread_mutex_t lock;       /* guards keys */
    zhashx_t *keys;             /* Z85 public key -> &s_present */
    /*  Only the thread that reads the directory touches these. */
    bool loaded;                /* keys were read at least once */
    bool readable;              /* the directory could be read last time */
    uint64_t digest;            /* of the directory when keys were read */
    /*  Only the handler thread touches these. */
    int64_t warned_at;          /* when a refusal was last logged (ms, monotonic) */
    size_t unlogged;            /* refusals not logged since then */
};

/* At most one refusal logged per this many ms: a client retrying a
   refused key in a loop must not flood the log. */
#define REFUSAL_LOG_MS 1000

/* The item every key of the set maps to (a lookup's NULL means absent). */
static char s_present;

/*  True when a file named name may be a client's public certificate:
    hidden files and czmq's secret halves are not. */
static bool
s_is_candidate (const char *name)
{
    size_t len = strlen (name);
    return name [0] != '.' && !(len >= 7 && strcmp (name + len - 7, "_secret") == 0);
}

typedef void (s_visit_fn) (const char *path, const struct stat *info, void *arg);

/*  Call visit for every candidate regular file directly in dir (symbolic
    links followed). Returns 0, or -1 with errno set if dir cannot be read. */
static int
s_walk (const char *dir, s_visit_fn *visit, void *arg)
{
    DIR *handle = opendir (dir);
    if (!handle)
        return -1;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        char path [PATH_MAX];
        struct stat info;
        if (!s_is_candidate (entry->d_name)
        ||  snprintf (path, sizeof (path), "%s/%s", dir, entry->d_name) >= (int) sizeof (path)
        ||  stat (path, &info) || !S_ISREG (info.st_mode))
            continue;
        visit (path, &info, arg);
    }
    closedir (handle);
    return 0;
}

/*  FNV-1a over size bytes at data, continuing from hash. */
static uint64_t
s_fnv (uint64_t hash, const void *data, size_t size)
{
    const unsigned char *bytes = (const unsigned char *) data;
    for (size_t n = 0; n < size; n++)
        hash = (hash ^ bytes [n]) * 1099511628211u;
    return hash;
}

/*  Add one file to the digest at arg. Files are summed, so the order
    readdir gives them in does not matter. */
static void
s_digest_file (const char *path, const struct stat *info, void *arg)
{
    uint64_t fields [] = {
        (uint64_t) info->st_dev, (uint64_t) info->st_ino, (uint64_t) info->st_size,
        (uint64_t) info->st_mtim.tv_sec, (uint64_t) info->st_mtim.tv_nsec,
        (uint64_t) info->st_ctim.tv_sec, (uint64_t) info->st_ctim.tv_nsec,
    };
    uint64_t hash = s_fnv (14695981039346656037u, path, strlen (path));
    *(uint64_t *) arg += s_fnv (hash, fields, sizeof (fields));
}

/*  The regular file at path as a string, if it has at most CERT_BYTES_MAX
    bytes, else NULL. The caller frees it. (Not zconfig_load: czmq 4.2.1
    leaks a zfile_t for every file it cannot parse.) */
static char *
s_read_small (const char *path)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat info;
    if (fd == -1)
        return NULL;
    char *text = NULL;
    if (fstat (fd, &info) == 0 && S_ISREG (info.st_mode) && info.st_size <= CERT_BYTES_MAX
    && (text = malloc (CERT_BYTES_MAX + 1))) {
        size_t size = 0;
        while (size <= CERT_BYTES_MAX) {
            ssize_t got = read (fd, text + size, CERT_BYTES_MAX + 1 - size);
            if (got == 0)
                break;
            if (got > 0)
                size += (size_t) got;
            else
            if (errno != EINTR)
                size = CERT_BYTES_MAX + 1;      /* unreadable: no key from it */
        }
        if (size > CERT_BYTES_MAX) {
            free (text);
            text = NULL;
        }
        else
            text [size] = 0;
    }
    close (fd);
    return text;
}

/*  Put the public key of the certificate at path into the set at arg.
    A file that holds none, or an invalid or all-zero one, is skipped. */
static void
s_load_file (const char *path, const struct stat *info, void *arg)
{
    zhashx_t *keys = (zhashx_t *) arg;
    char *contents = s_read_small (path);
    zconfig_t *root = contents? zconfig_str_load (contents): NULL;
    zstr_free (&contents);
    const char *text = root? zconfig_get (root, "curve/public-key", NULL): NULL;
    byte key [KEY_BYTES];
    static const byte zeros [KEY_BYTES] = { 0 };
    if (text && strlen (text) == KEY_TEXT_LEN && zmq_z85_decode (key, text)
    &&  memcmp (key, zeros, KEY_BYTES) != 0) {
        char canonical [KEY_TEXT_LEN + 1];
        zmq_z85_encode (canonical, key, KEY_BYTES);
        zhashx_insert (keys, canonical, &s_present);
    }
    else
        log_warn ("curve.bad_certificate", "CURVE: %s holds no client public key; skipped", path);
    zconfig_destroy (&root);
}

/*  Read the allow directory again if it changed since it was last read.
    A directory that cannot be read allows nobody. */
static void
s_refresh (auth_t *self)
{
    uint64_t digest = 0;
    int rc = s_walk (self->dir, s_digest_file, &digest);
    int error = errno;
    bool readable = rc == 0;
    if (self->loaded && readable == self->readable && digest == self->digest)
        return;
    zhashx_t *keys = zhashx_new ();
    if (!keys)
        return;                 /* try again at the next look */
    if (readable)
        s_walk (self->dir, s_load_file, keys);
    pthread_mutex_lock (&self->lock);
    zhashx_t *old = self->keys;
    self->keys = keys;
    pthread_mutex_unlock (&self->lock);
    zhashx_destroy (&old);
    if (readable)
        log_info_with ("curve.keys", LOG_FIELDS (LOG_INT ("keys", zhashx_size (keys)), LOG_TEXT ("dir", self->dir)),
                  "CURVE: %zu client keys allowed from %s", zhashx_size (keys), self->dir);
    else
        log_warn ("curve.dir_unreadable", "CURVE: cannot read %s (%s): no client is allowed until it can be read",
                  self->dir, strerror (error));
    self->loaded = true;
    self->readable = readable;
    self->digest = digest;
}

/*  True when frame holds exactly the text. */
static bool
s_frame_is (zframe_t *frame, const char *text)
{
    return frame && zframe_size (frame) == strlen (text)
        && memcmp (zframe_data (frame), text, zframe_size (frame)) == 0;
}

/*  Log a refused handshake at warn: who (the key, if any) and from where,
    at most once every REFUSAL_LOG_MS, saying how many went unlogged. */
static void
s_log_refusal (auth_t *self, const char *user_id, zframe_t *address, const char *refusal)
{
    int64_t now = zclock_mono ();
    if (self->warned_at && now - self->warned_at < REFUSAL_LOG_MS) {
        self->unlogged++;
        return;
    }
    int address_len = address? (int) (zframe_size (address) < 64? zframe_size (address): 64): 0;
    char more [96] = "";
    if (self->unlogged)
        snprintf (more, sizeof (more), " (and %zu more refused since the last such line)", self->unlogged);
    log_warn_with ("curve.refused", LOG_FIELDS (LOG_TEXT ("key", user_id), LOG_TEXT ("reason", refusal),
                   LOG_INT ("unlogged", self->unlogged)),
              "CURVE: refused %s%s from %.*s: %s%s", *user_id? "key ": "a client", user_id,
              address_len, address? (const char *) zframe_data (address): "", refusal, more);
    self->warned_at = now;
    self->unlogged = 0;
}

/*  Receive one ZAP request and answer it: 200 with the key as user id for
    a CURVE client whose key is allowed, else 400. A REP socket must answer
    every request, so a malformed one gets a 400 too. */
static void
s_answer (auth_t *self)
{
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    zframe_t *frames [ZAP_FRAMES] = { NULL };
    size_t count = zmsg_size (request);
    zframe_t *frame = zmsg_first (request);
    for (size_t n = 0; n < ZAP_FRAMES && n < count; n++, frame = zmsg_next (request))
        frames [n] = frame;

    char user_id [KEY_TEXT_LEN + 1] = "";
    const char *refusal = NULL;
    if (count < ZAP_FRAMES - 1 || !s_frame_is (frames [0], "1.0"))
        refusal = "malformed ZAP request";
    else
    if (!s_frame_is (frames [5], "CURVE"))
        refusal = "only CURVE clients are served";
    else
    if (count != ZAP_FRAMES || zframe_size (frames [6]) != KEY_BYTES)
        refusal = "malformed CURVE credentials";
    else {
        /*  A handshake sees the directory as it is now, not as it was at
            the last look: a certificate removed a moment ago lets nobody
            in. Looking is cheap next to the handshake's own crypto. */
        s_refresh (self);
        zmq_z85_encode (user_id, zframe_data (frames [6]), KEY_BYTES);
        if (!auth_allows (self, user_id))
            refusal = "this key is not allowed";
    }
    zframe_t *address = count > 3? frames [3]: NULL;
    if (refusal) {
        s_log_refusal (self, user_id, address, refusal);
        user_id [0] = 0;
    }
    else {
        int address_len = address? (int) (zframe_size (address) < 64? zframe_size (address): 64): 0;
        log_debug ("curve.admitted", "ZAP: admitted %s from %.*s", user_id, address_len, (const char *) zframe_data (address));
    }

    zmsg_t *reply = zmsg_new ();
    if (reply) {
        zmsg_addstr (reply, "1.0");
        if (count > 1)
            zmsg_addmem (reply, zframe_data (frames [1]), zframe_size (frames [1]));
        else
            zmsg_addmem (reply, NULL, 0);
        zmsg_addstr (reply, refusal? "400": "200");
        zmsg_addstr (reply, refusal? refusal: "OK");
        zmsg_addstr (reply, user_id);
        zmsg_addmem (reply, NULL, 0);          /* no metadata */
        zmsg_send (&reply, self->handler);
    }
    zmsg_destroy (&request);
}

/*  The handler thread: answer ZAP requests, look at the directory every
    AUTH_CHECK_MS, stop on $TERM from the pipe. */
static void
s_actor (zsock_t *pipe, void *args)
{
    auth_t *self = (auth_t *) args;
    zsock_signal (pipe, 0);
    int64_t next_look = zclock_mono () + AUTH_CHECK_MS;
    bool running = true;
    while (running) {
        zmq_pollitem_t items [] = {
            { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
            { self->handler, 0, ZMQ_POLLIN, 0 },
        };
        int64_t wait = next_look - zclock_mono ();
        if (zmq_poll (items, 2, wait > 0? (long) wait: 0) == -1) {
            if (zmq_errno () == EINTR)
                continue;
            log_error ("curve.zap_failed", "ZAP handler: %s", zmq_strerror (zmq_errno ()));
            break;
        }
        if (items [0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            running = command && strcmp (command, "$TERM") != 0;
            zstr_free (&command);
        }
        if (running && (items [1].revents & ZMQ_POLLIN))
            s_answer (self);
        if (running && zclock_mono () >= next_look) {
            s_refresh (self);
            next_look = zclock_mono () + AUTH_CHECK_MS;
        }
    }
}

auth_t *
auth_new (void *ctx, const char *allow_dir, char *errbuf, size_t errlen)
{
    assert (ctx);
    assert (allow_dir);
    auth_t *self = calloc (1, sizeof (auth_t));
    if (!self || pthread_mutex_init (&self->lock, NULL)) {
        snprintf (errbuf, errlen, "out of memory");
        free (self);
        return NULL;
    }
    self->dir = strdup (allow_dir);
    if (!self->dir) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    /*  A directory that is not there at start is a mistake in the
        command line, not a reason to refuse everyone in silence. */
    DIR *probe = opendir (allow_dir);
    if (!probe) {
        snprintf (errbuf, errlen, "cannot read the directory of allowed keys %s: %s", allow_dir, strerror (errno));
        goto failed;
    }
    closedir (probe);
    s_refresh (self);
    int linger = 0;
    self->handler = zmq_socket (ctx, ZMQ_REP);
    if (!self->handler
    ||  zmq_setsockopt (self->handler, ZMQ_LINGER, &linger, sizeof (linger))
    ||  zmq_bind (self->handler, ZAP_ENDPOINT)) {
        snprintf (errbuf, errlen, "cannot start the ZAP handler: %s", zmq_strerror (zmq_errno ()));
        goto failed;
    }
    /*  The socket moves to the thread; zactor_new's handshake is the
        memory barrier libzmq asks for when a socket changes threads. */
    self->actor = zactor_new (s_actor, self);
    if (!self->actor) {
        snprintf (errbuf, errlen, "cannot start the ZAP handler thread");
        goto failed;
    }
    return self;

failed:
    auth_destroy (&self);
    return NULL;
}

void
auth_destroy (auth_t **self_p)
{
    assert (self_p);
    auth_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    if (self->handler)
        zmq_close (self->handler);
    zhashx_destroy (&self->keys);
    pthread_mutex_destroy (&self->lock);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

bool
auth_allows (auth_t *self, const char *user_id)
{
    assert (self);
    if (!user_id)
        return false;
    pthread_mutex_lock (&self->lock);
    bool allowed = self->keys && zhashx_lookup (self->keys, user_id) != NULL;
    pthread_mutex_unlock (&self->lock);
    return allowed;
}

size_t
auth_size (auth_t *self)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    size_t size = self->keys? zhashx_size (self->keys): 0;
    pthread_mutex_unlock (&self->lock);
    return size;
}

/*  Unit: auth, the ZAP handler. Its answers to ZAP requests (RFC 27), a
    real CURVE handshake that brings the key to the server as the message's
    User-Id, and the allow list following its directory: a removed
    certificate stops being allowed within a second, a new or rewritten one
    starts, and a directory that is gone allows nobody. */

#include "auth.h"
#include "testing.h"

#include <czmq.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* How long a change of the directory may take to show, at most (it should
   take AUTH_CHECK_MS and a little; this leaves room for a loaded machine). */
#define CHANGE_MS 2000

typedef struct {
    char dir [64];              /* the allow directory */
    zcert_t *alice;             /* allowed from the start */
    zcert_t *bob;               /* only his secret file is in the directory */
    zcert_t *mallory;           /* never in the directory (but see below) */
    zcert_t *server;
    auth_t *auth;
} fixture_t;

/*  Write cert's public certificate as dir/name. */
static void
s_write_public (const char *dir, const char *name, zcert_t *cert)
{
    char path [256];
    snprintf (path, sizeof (path), "%s/%s", dir, name);
    CHECK_INT (zcert_save_public (cert, path), 0);
}

/*  Write text as dir/name. */
static void
s_write_text (const char *dir, const char *name, const char *text)
{
    char path [256];
    snprintf (path, sizeof (path), "%s/%s", dir, name);
    FILE *file = fopen (path, "w");
    CHECK (file != NULL);
    if (file) {
        fputs (text, file);
        fclose (file);
    }
}

static void
s_remove (const char *dir, const char *name)
{
    char path [256];
    snprintf (path, sizeof (path), "%s/%s", dir, name);
    CHECK_INT (unlink (path), 0);
}

/*  A directory holding alice's public certificate and files that must not
    count: bob's secret half alone, mallory's key in a hidden file, a file
    that is no certificate, and a certificate whose key is all zeros. */
static void
s_setup (fixture_t *self)
{
    memset (self, 0, sizeof (*self));
    snprintf (self->dir, sizeof (self->dir), "/tmp/ledgerd-auth-XXXXXX");
    CHECK (mkdtemp (self->dir) != NULL);
    self->alice = zcert_new ();
    self->bob = zcert_new ();
    self->mallory = zcert_new ();
    self->server = zcert_new ();
    s_write_public (self->dir, "alice.cert", self->alice);
    char path [256];
    snprintf (path, sizeof (path), "%s/bob", self->dir);
    CHECK_INT (zcert_save (self->bob, path), 0);
    s_remove (self->dir, "bob");
    s_write_public (self->dir, ".mallory.cert", self->mallory);
    s_write_text (self->dir, "notes.txt", "not a certificate\n");
    s_write_text (self->dir, "zero.cert",
                  "curve\n    public-key = \"0000000000000000000000000000000000000000\"\n");
    char errbuf [256] = "";
    self->auth = auth_new (zsys_init (), self->dir, errbuf, sizeof (errbuf));
    if (!self->auth)
        fprintf (stderr, "auth_new: %s\n", errbuf);
    CHECK (self->auth != NULL);
}

static void
s_teardown (fixture_t *self)
{
    auth_destroy (&self->auth);
    CHECK (self->auth == NULL);
    auth_destroy (&self->auth);         /* twice is harmless */
    zcert_destroy (&self->alice);
    zcert_destroy (&self->bob);
    zcert_destroy (&self->mallory);
    zcert_destroy (&self->server);
    char command [128];
    snprintf (command, sizeof (command), "rm -rf '%s'", self->dir);
    CHECK_INT (system (command), 0);
}

/*  Wait until auth_allows (key) is expected, looking every 10 ms. Returns
    the milliseconds it took, or -1 if it did not happen in CHANGE_MS. */
static int64_t
s_wait_allows (auth_t *auth, const char *key, bool expected)
{
    int64_t start = zclock_mono ();
    while (auth_allows (auth, key) != expected) {
        if (zclock_mono () - start > CHANGE_MS)
            return -1;
        zclock_sleep (10);
    }
    return zclock_mono () - start;
}

/*  Send a ZAP request of count frames (frame n is frames [n], sizes [n]
    bytes) and return the reply, or NULL if none came within 5 s. */
static zmsg_t *
s_zap (zsock_t *req, const char **frames, const size_t *sizes, size_t count)
{
    zmsg_t *request = zmsg_new ();
    for (size_t n = 0; n < count; n++)
        zmsg_addmem (request, frames [n], sizes [n]);
    CHECK_INT (zmsg_send (&request, req), 0);
    return zmsg_recv (req);
}

/*  A well-formed ZAP request for mechanism with credentials (NULL: none). */
static zmsg_t *
s_zap_request (zsock_t *req, const char *mechanism, const void *credentials, size_t size)
{
    const char *frames [] = { "1.0", "42", "ledgerd", "127.0.0.1", "", mechanism, (const char *) credentials };
    size_t sizes [] = { 3, 2, 7, 9, 0, strlen (mechanism), size };
    return s_zap (req, frames, sizes, credentials? 7: 6);
}

/*  Check reply is a whole ZAP reply to request id "42" with status and
    user_id. Destroys the reply. */
static void
s_check_reply (zmsg_t **reply_p, const char *status, const char *user_id)
{
    zmsg_t *reply = *reply_p;
    CHECK (reply != NULL);
    if (!reply)
        return;
    CHECK_INT (zmsg_size (reply), 6);
    if (zmsg_size (reply) == 6) {
        char *version = zmsg_popstr (reply), *request_id = zmsg_popstr (reply),
             *code = zmsg_popstr (reply), *text = zmsg_popstr (reply), *user = zmsg_popstr (reply);
        zframe_t *metadata = zmsg_pop (reply);
        CHECK_STR (version, "1.0");
        CHECK_STR (request_id, "42");
        CHECK_STR (code, status);
        CHECK (text && *text);
        CHECK_STR (user, user_id);
        CHECK_INT (zframe_size (metadata), 0);
        zstr_free (&version);
        zstr_free (&request_id);
        zstr_free (&code);
        zstr_free (&text);
        zstr_free (&user);
        zframe_destroy (&metadata);
    }
    zmsg_destroy (reply_p);
}

static void
test_missing_directory (void)
{
    char errbuf [256] = "";
    auth_t *auth = auth_new (zsys_init (), "/nonexistent/ledgerd-allowed", errbuf, sizeof (errbuf));
    CHECK (auth == NULL);
    CHECK (strstr (errbuf, "/nonexistent/ledgerd-allowed") != NULL);
}

static void
test_allows_what_the_directory_holds (void)
{
    fixture_t fixture;
    s_setup (&fixture);
    if (!fixture.auth) {
        s_teardown (&fixture);
        return;
    }
    CHECK_INT (auth_size (fixture.auth), 1);
    CHECK (auth_allows (fixture.auth, zcert_public_txt (fixture.alice)));
    CHECK (!auth_allows (fixture.auth, zcert_public_txt (fixture.bob)));
    CHECK (!auth_allows (fixture.auth, zcert_public_txt (fixture.mallory)));
    CHECK (!auth_allows (fixture.auth, "0000000000000000000000000000000000000000"));
    CHECK (!auth_allows (fixture.auth, ""));
    CHECK (!auth_allows (fixture.auth, NULL));

    /*  One handler per context: a second one cannot bind. */
    char errbuf [256] = "";
    auth_t *second = auth_new (zsys_init (), fixture.dir, errbuf, sizeof (errbuf));
    CHECK (second == NULL);
    CHECK (strstr (errbuf, "ZAP") != NULL);
    s_teardown (&fixture);
}

static void
test_zap_answers (void)
{
    fixture_t fixture;
    s_setup (&fixture);
    zsock_t *req = zsock_new_req (">" ZAP_ENDPOINT);
    CHECK (req != NULL);
    if (!fixture.auth || !req) {
        zsock_destroy (&req);
        s_teardown (&fixture);
        return;
    }
    zsock_set_rcvtimeo (req, 5000);

    zmsg_t *reply = s_zap_request (req, "CURVE", zcert_public_key (fixture.alice), 32);
    s_check_reply (&reply, "200", zcert_public_txt (fixture.alice));
    reply = s_zap_request (req, "CURVE", zcert_public_key (fixture.mallory), 32);
    s_check_reply (&reply, "400", "");
    static const byte zeros [32] = { 0 };
    reply = s_zap_request (req, "CURVE", zeros, 32);
    s_check_reply (&reply, "400", "");
    reply = s_zap_request (req, "CURVE", zcert_public_key (fixture.alice), 31);
    s_check_reply (&reply, "400", "");
    reply = s_zap_request (req, "CURVE", NULL, 0);
    s_check_reply (&reply, "400", "");
    reply = s_zap_request (req, "PLAIN", "alice", 5);
    s_check_reply (&reply, "400", "");
    reply = s_zap_request (req, "NULL", NULL, 0);
    s_check_reply (&reply, "400", "");

    /*  Malformed requests get a 400 too, and the handler goes on. */
    const char *frames [] = { "2.0", "42", "ledgerd", "127.0.0.1", "", "CURVE",
                              (const char *) zcert_public_key (fixture.alice) };
    size_t sizes [] = { 3, 2, 7, 9, 0, 5, 32 };
    reply = s_zap (req, frames, sizes, 7);
    s_check_reply (&reply, "400", "");
    frames [0] = "1.0";
    reply = s_zap (req, frames, sizes, 2);
    s_check_reply (&reply, "400", "");
    reply = s_zap (req, frames, sizes, 1);
    CHECK (reply && zmsg_size (reply) == 6);
    zmsg_destroy (&reply);
    reply = s_zap_request (req, "CURVE", zcert_public_key (fixture.alice), 32);
    s_check_reply (&reply, "200", zcert_public_txt (fixture.alice));

    /*  A handshake looks at the directory itself: a certificate removed
        just before is not let in, whenever the last periodic look was. */
    s_remove (fixture.dir, "alice.cert");
    reply = s_zap_request (req, "CURVE", zcert_public_key (fixture.alice), 32);
    s_check_reply (&reply, "400", "");

    zsock_destroy (&req);
    s_teardown (&fixture);
}

/*  Start a dealer with cert's keys, its handshake events on monitor (a PAIR
    socket the caller destroys), and connect it to endpoint. */
static zsock_t *
s_curve_dealer (zcert_t *cert, zcert_t *server, const char *endpoint, zsock_t **monitor_p)
{
    static int monitors;
    char monitor_endpoint [64];
    snprintf (monitor_endpoint, sizeof (monitor_endpoint), "inproc://test-auth-monitor-%d", monitors++);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    zcert_apply (cert, dealer);
    zsock_set_curve_serverkey (dealer, zcert_public_txt (server));
    CHECK_INT (zmq_socket_monitor (zsock_resolve (dealer), monitor_endpoint,
                                   ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH), 0);
    *monitor_p = zsock_new_pair (monitor_endpoint);
    zsock_set_rcvtimeo (*monitor_p, 5000);
    CHECK_INT (zsock_connect (dealer, "%s", endpoint), 0);
    return dealer;
}

/*  The first handshake event on monitor, its value in *value_p; 0 if none
    came within 5 s. */
static int
s_handshake_event (zsock_t *monitor, uint32_t *value_p)
{
    zmsg_t *event = zmsg_recv (monitor);
    int kind = 0;
    zframe_t *frame = event? zmsg_first (event): NULL;
    if (frame && zframe_size (frame) == 6) {
        uint16_t number;
        memcpy (&number, zframe_data (frame), 2);
        memcpy (value_p, zframe_data (frame) + 2, 4);
        kind = number;
    }
    zmsg_destroy (&event);
    return kind;
}

static void
test_curve_handshake (void)
{
    fixture_t fixture;
    s_setup (&fixture);
    if (!fixture.auth) {
        s_teardown (&fixture);
        return;
    }
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (router, 0);
    zcert_apply (fixture.server, router);
    zsock_set_curve_server (router, 1);
    zsock_set_zap_domain (router, "ledgerd");
    zsock_set_rcvtimeo (router, 5000);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);

    /*  Alice gets through, and her key comes with her message. */
    zsock_t *monitor = NULL;
    zsock_t *alice = s_curve_dealer (fixture.alice, fixture.server, endpoint, &monitor);
    uint32_t value = 0;
    CHECK_INT (s_handshake_event (monitor, &value), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    CHECK_INT (zstr_send (alice, "hello"), 0);
    zmq_msg_t identity, body;
    zmq_msg_init (&identity);
    zmq_msg_init (&body);
    CHECK (zmq_msg_recv (&identity, zsock_resolve (router), 0) >= 0);
    CHECK (zmq_msg_recv (&body, zsock_resolve (router), 0) == 5);
    CHECK_STR (zmq_msg_gets (&body, "User-Id"), zcert_public_txt (fixture.alice));
    zmq_msg_close (&identity);
    zmq_msg_close (&body);
    zsock_destroy (&monitor);
    zsock_destroy (&alice);

    /*  Mallory is refused at the handshake with status 400. */
    zsock_t *mallory = s_curve_dealer (fixture.mallory, fixture.server, endpoint, &monitor);
    CHECK_INT (s_handshake_event (monitor, &value), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    CHECK_INT (value, 400);
    zstr_send (mallory, "let me in");
    zmq_pollitem_t item = { zsock_resolve (router), 0, ZMQ_POLLIN, 0 };
    CHECK_INT (zmq_poll (&item, 1, 0), 0);
    zsock_destroy (&monitor);
    zsock_destroy (&mallory);
    zsock_destroy (&router);
    s_teardown (&fixture);
}

static void
test_follows_the_directory (void)
{
    fixture_t fixture;
    s_setup (&fixture);
    if (!fixture.auth) {
        s_teardown (&fixture);
        return;
    }
    auth_t *auth = fixture.auth;
    const char *alice = zcert_public_txt (fixture.alice);
    const char *bob = zcert_public_txt (fixture.bob);
    const char *mallory = zcert_public_txt (fixture.mallory);

    /*  A removed certificate stops working within a second or so. */
    s_remove (fixture.dir, "alice.cert");
    int64_t took = s_wait_allows (auth, alice, false);
    CHECK (took >= 0 && took < 1000 + AUTH_CHECK_MS);
    CHECK_INT (auth_size (auth), 0);
    /*  Back again. */
    s_write_public (fixture.dir, "alice.cert", fixture.alice);
    CHECK (s_wait_allows (auth, alice, true) >= 0);
    /*  The same file rewritten with another key (same name, same size). */
    s_write_public (fixture.dir, "alice.cert", fixture.mallory);
    CHECK (s_wait_allows (auth, mallory, true) >= 0);
    CHECK (!auth_allows (auth, alice));
    /*  A new file. */
    s_write_public (fixture.dir, "bob.cert", fixture.bob);
    CHECK (s_wait_allows (auth, bob, true) >= 0);
    CHECK_INT (auth_size (auth), 2);

    /*  A directory that is gone allows nobody; back, it is read again. */
    char moved [80];
    snprintf (moved, sizeof (moved), "%s.moved", fixture.dir);
    CHECK_INT (rename (fixture.dir, moved), 0);
    CHECK (s_wait_allows (auth, bob, false) >= 0);
    CHECK (!auth_allows (auth, mallory));
    CHECK_INT (rename (moved, fixture.dir), 0);
    CHECK (s_wait_allows (auth, bob, true) >= 0);
    CHECK (auth_allows (auth, mallory));
    s_teardown (&fixture);
}

int
main (void)
{
    TEST_RUN (test_missing_directory);
    TEST_RUN (test_allows_what_the_directory_holds);
    TEST_RUN (test_zap_answers);
    TEST_RUN (test_curve_handshake);
    TEST_RUN (test_follows_the_directory);
    zsys_shutdown ();
    return TEST_DONE ();
}

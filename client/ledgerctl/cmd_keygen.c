/*  cmd_keygen -- `keygen NAME`: a CURVE certificate pair for a client or a
    worker, written by czmq as NAME (public, to hand out) and NAME_secret
    (private, to keep). It needs no worker. */

#include "ctl_commands.h"

#include <czmq.h>
#include <string.h>
#include <unistd.h>

int
ctl_cmd_keygen (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = { CTL_COMMON_OPTIONS };
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        int status = ctl_option (ctl, opt, optarg, argv);
        if (status != CTL_CONTINUE)
            return status;
    }
    if (optind != argc - 1)
        return ctl_usage (ctl, "takes one NAME");
    const char *name = argv [optind];
    char secret [4096];
    snprintf (secret, sizeof (secret), "%s_secret", name);
    /*  Never overwrite a key: someone may already trust it, or hold it. */
    if (access (name, F_OK) == 0 || access (secret, F_OK) == 0)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "%s or %s exists already; not overwriting it", name, secret);
    zcert_t *cert = zcert_new ();
    if (!cert)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "cannot make a key pair");
    const char *base = strrchr (name, '/');
    zcert_set_meta (cert, "name", "%s", base? base + 1: name);
    int rc = zcert_save (cert, name);
    if (rc == 0)
        printf ("wrote %s (public: put it in the worker's --curve-allow directory, or pass it as --curve-server-key)\n"
                "  and %s (secret: keep it private)\npublic key: %s\n", name, secret, zcert_public_txt (cert));
    zcert_destroy (&cert);
    if (rc)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "cannot write %s: %s", name, strerror (errno));
    return CTL_EXIT_OK;
}

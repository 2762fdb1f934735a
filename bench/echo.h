/*  echo -- the floor under a round trip: a bare ZeroMQ echo.

    A ROUTER on its own thread echoes every message back; a DEALER on this
    thread sends one message of --echo-bytes, waits for it to come back,
    and sends the next (window 1), over tcp on the loopback interface: the
    same sockets, transport and pattern as a client and ledgerd, with no
    work in between. 1000 round trips warm the connection up off the
    clock. Target 4 compares the worker's 1-op round trip with this one. */

#ifndef BENCH_ECHO_H
#define BENCH_ECHO_H

#include "tally.h"

#include <stddef.h>
#include <stdint.h>

/* Run round trips of size bytes for duration_s seconds, or count of them
   if count > 0, into tally (each round trip is one ok "batch"). Returns 0,
   or -1 with errbuf set if a socket call failed. */
int echo_run (size_t size, double duration_s, uint64_t count, tally_t *tally, tally_live_t *live,
              char *errbuf, size_t errlen);

#endif

/*  connections -- issue 13's load: many producers, each on a connection of
    its own, each sending one small keyed batch now and then.

    --connections DEALER sockets (so as many TCP connections; no delimiter
    frame: the body is the only frame), shared out among --threads threads.
    Each thread waits on its sockets with one epoll set over their ZMQ_FD
    descriptors: zmq_poll looks at every socket on every call, which over
    1500 sockets costs a few milliseconds of CPU a call, and this machine's
    two cores are the worker's too. Each connection sends a 1-op txn.create
    batch with a unique key and id every --interval-ms, starting at a random
    phase within the first interval, for --duration seconds: open loop, no
    retries. Replies are matched by id. A batch unanswered after
    --timeout-ms is given up; after the last send, replies are awaited for
    up to --timeout-ms more, and a reply to a batch already given up is
    counted as late.

    Every connection answers a ping before the clock starts. The worker's
    CPU time and peak RSS come from /proc, its counters from sys.stats, and
    a spawned worker's database is counted after it stops: how many batches
    it applied, including those whose producer had given up ("applied for
    nobody"). */

#ifndef BENCH_CONNECTIONS_H
#define BENCH_CONNECTIONS_H

#include "options.h"

/* Run the load with options (mode BENCH_CONNECTIONS) and report it.
   Returns the exit status: 0 the run completed, every reply was ok or
   overloaded and the worker stopped cleanly; 1 another error came back, a
   batch answered ok is not in the database, the worker did not stop
   cleanly or the run was interrupted; 3 set-up failed. */
int connections_main (const options_t *options);

#endif

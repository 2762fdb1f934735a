"""Failover as in libledger: the socket monitor ends a try whose connection
broke at once, and an endpoint where nothing listens is left at once. Each
test uses a timeout (and a backoff) far beyond what it allows: only leaving
at once passes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import struct
import threading
import time

import ledgerd
import ledgerd.aio
from ledgerd import Batch

from conftest import free_endpoint

LONG = 30.0                     # per-try timeout and backoff step: never waited out here
QUICK = 10.0                    # what a test allows, a third of LONG


def dying_listener():
    """A plain TCP listener that accepts one connection, resets it (RST,
    SO_LINGER 0) and stops listening: a node killed mid-handshake."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(QUICK)
    state = {"reset": False}

    def run():
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        finally:
            listener.close()
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        state["reset"] = True

    thread = threading.Thread(target=run)
    thread.start()
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}", thread, state


def test_node_dying_mid_handshake_is_left_at_once(start_worker):
    worker = start_worker()
    dying, thread, state = dying_listener()
    with ledgerd.Client([dying, worker.endpoint], timeout=LONG, retries=2, backoff=(LONG, LONG)) as client:
        started = time.monotonic()
        assert client.create_category("survivor-sync") > 0
        assert time.monotonic() - started < QUICK
    thread.join()
    assert state["reset"]


def test_async_node_dying_mid_handshake_is_left_at_once(start_worker):
    worker = start_worker()
    dying, thread, state = dying_listener()

    async def main():
        async with ledgerd.aio.Client([dying, worker.endpoint], timeout=LONG, retries=2,
                                      backoff=(LONG, LONG)) as client:
            started = time.monotonic()
            assert await client.create_category("survivor-aio") > 0
            assert time.monotonic() - started < QUICK
    asyncio.run(main())
    thread.join()
    assert state["reset"]


def queued_bytes(port):
    """Bytes waiting unread in the receive queues of the connections
    accepted on port (from /proc/net/tcp)."""
    total = 0
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if int(local.split(":")[1], 16) == port and state == "01":     # ESTABLISHED
                total += int(fields[4].split(":")[1], 16)
        return total


def kill_once_request_arrives(worker):
    """SIGKILL the stopped worker once a request sits unread in its socket."""
    port = int(worker.endpoint.rsplit(":", 1)[1])
    deadline = time.monotonic() + QUICK
    while queued_bytes(port) == 0:
        assert time.monotonic() < deadline, "the request never reached the stopped worker"
        time.sleep(0.01)
    worker.signal(signal.SIGKILL)
    return time.monotonic()


def test_worker_killed_with_request_in_flight(start_worker):
    first, second = start_worker(), start_worker()
    with ledgerd.Client([first.endpoint, second.endpoint], timeout=LONG, retries=2,
                        backoff=(LONG, LONG)) as client:
        client.ping()                   # connected to the first
        first.signal(signal.SIGSTOP)
        killed = []
        killer = threading.Thread(target=lambda: killed.append(kill_once_request_arrives(first)))
        killer.start()
        batch = Batch()
        batch.create_category("moved-on")
        result = client.submit(batch, raise_errors=False)
        done = time.monotonic()
        killer.join()
        assert result.ok, result.error
        assert result.tries == 2        # the lost try, then the second worker
        assert done - killed[0] < QUICK
        assert client.endpoints[0] == second.endpoint


def test_async_worker_killed_with_request_in_flight(start_worker):
    first, second = start_worker(), start_worker()

    async def main():
        async with ledgerd.aio.Client([first.endpoint, second.endpoint], timeout=LONG, retries=2,
                                      backoff=(LONG, LONG)) as client:
            await client.ping()
            first.signal(signal.SIGSTOP)
            batch = Batch()
            batch.create_category("moved-on-aio")
            submit = asyncio.ensure_future(client.submit(batch, raise_errors=False))
            killed = await asyncio.get_running_loop().run_in_executor(None, kill_once_request_arrives, first)
            result = await submit
            assert result.ok, result.error
            assert result.tries == 2
            assert time.monotonic() - killed < QUICK
    asyncio.run(main())


def test_refused_first_endpoint_costs_no_backoff(start_worker):
    worker = start_worker()
    nothing = free_endpoint()
    started = time.monotonic()
    # Fresh clients, as a command-line tool run in a loop: each starts on
    # the dead endpoint, and must leave it at once, not after a backoff.
    for n in range(5):
        with ledgerd.Client([nothing, worker.endpoint], timeout=LONG, retries=2, backoff=(LONG, LONG)) as client:
            result = client.submit(_ping(), raise_errors=False)
            assert result.ok, result.error
            assert result.tries == 2    # queued for the dead endpoint, then sent to the live one
    # One client: after the first call it stays on the endpoint that answers.
    with ledgerd.Client([nothing, worker.endpoint], timeout=LONG, retries=2, backoff=(LONG, LONG)) as client:
        tries = [client.submit(_ping()).tries for _ in range(20)]
        assert tries == [2] + [1] * 19
    assert time.monotonic() - started < QUICK


def test_async_refused_first_endpoint_costs_no_backoff(start_worker):
    worker = start_worker()
    nothing = free_endpoint()

    async def main():
        for n in range(5):
            async with ledgerd.aio.Client([nothing, worker.endpoint], timeout=LONG, retries=2,
                                          backoff=(LONG, LONG)) as client:
                result = await client.submit(_ping(), raise_errors=False)
                assert result.ok, result.error
                assert result.tries == 2
    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < QUICK


def test_every_endpoint_refusing_waits_a_backoff_step_not_a_spin():
    endpoints = [free_endpoint(), free_endpoint()]
    with ledgerd.Client(endpoints, timeout=0.5, retries=1, backoff=(0.4, 0.4)) as client:
        started = time.monotonic()
        result = client.submit(_ping(), raise_errors=False)
        elapsed = time.monotonic() - started
    assert isinstance(result.error, ledgerd.OutcomeUnknown)
    assert "connection refused" in str(result.error)
    # Refused at once on both, then once a backoff step (0.2-0.4 s) for as
    # long as the tries would have waited (2 x 0.5 s): a few sends, no spin.
    assert result.tries < 12
    assert elapsed >= 0.9


def _ping():
    batch = Batch()
    batch.ping()
    return batch

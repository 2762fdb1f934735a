"""Safe retries: a batch is applied once whatever the timeouts, and a batch
nobody answered is OutcomeUnknown, not a failure."""

from __future__ import annotations

import signal
import threading
import time
from datetime import datetime, timezone

import pytest
import zmq

import ledgerd
from ledgerd import Batch

NOW = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)


def count_rows(client, external_prefix):
    return sum(1 for t in client.transactions() if (t.external_id or "").startswith(external_prefix))


def test_replay_after_timeout_applies_once(start_worker):
    worker = start_worker()
    timer = threading.Timer(0.5, worker.signal, (signal.SIGCONT,))
    try:
        with ledgerd.Client(worker.endpoint, timeout=0.3, retries=5, backoff=(0.01, 0.02)) as client:
            client.ping()               # connected: the first try reaches the stopped worker's socket
            worker.signal(signal.SIGSTOP)
            # Resumed while the client waits on a later try: the first try is
            # then read and committed too, so the later one must be a replay.
            timer.start()
            batch = Batch()
            batch.create_category("once")
            batch.create_transaction(100, NOW, category="once", description="once")
            result = client.submit(batch)
            assert result.tries >= 2
            assert result.ok
            assert [c.name for c in client.categories()].count("once") == 1
            assert sum(1 for t in client.transactions() if t.description == "once") == 1
            stats = client.stats()
            assert stats["replays"] >= 1     # the later try was answered from the log
    finally:
        timer.cancel()
        worker.signal(signal.SIGCONT)


def test_outcome_unknown_when_worker_never_answers(start_worker):
    worker = start_worker()
    worker.signal(signal.SIGSTOP)
    try:
        with ledgerd.Client(worker.endpoint, timeout=0.2, retries=1, backoff=(0.01, 0.02)) as client:
            batch = Batch()
            batch.create_category("maybe")
            started = time.monotonic()
            with pytest.raises(ledgerd.OutcomeUnknown) as unknown:
                client.submit(batch)
            assert unknown.value.tries == 2 and time.monotonic() - started < 2
            assert not isinstance(unknown.value, ledgerd.LedgerError)
            result = client.submit(batch, raise_errors=False)
            assert result.outcome_unknown and not result.ok
            key = result.key
    finally:
        worker.signal(signal.SIGCONT)
    # Sent again with its key: applied once (or answered from the log).
    with ledgerd.Client(worker.endpoint) as client:
        assert batch.key is None and batch.auto_key == key
        assert client.submit(batch).ok
        assert [c.name for c in client.categories()].count("maybe") == 1


def test_overloaded_is_retryable_and_retried(start_worker):
    worker = start_worker("--max-queue", "1", "--group-max", "1")
    batches = []
    for n in range(60):
        b = Batch()
        b.create_category(f"o{n}")
        batches.append(b)
    worker.signal(signal.SIGSTOP)
    try:
        with ledgerd.Client(worker.endpoint, timeout=5, retries=0) as client:
            results = client.submit_many(batches[:30], window=30)
            threading.Timer(0.3, worker.signal, (signal.SIGCONT,)).start()
            results = list(results)
    finally:
        worker.signal(signal.SIGCONT)
    refused = [r.error for r in results if not r.ok]
    assert refused, "a queue of one must refuse some of 30 batches sent at once"
    assert all(isinstance(e, ledgerd.OverloadedError) and e.retryable and e.code == "OVERLOADED"
               for e in refused)
    with ledgerd.Client(worker.endpoint, retries=50, backoff=(0.005, 0.05)) as client:
        assert all(r.ok for r in client.submit_many(batches, window=60))
        names = [c.name for c in client.categories()]
    assert sorted(names) == sorted(f"o{n}" for n in range(60))


def test_lazy_pirate_reopens_the_socket(start_worker, monkeypatch):
    worker = start_worker()
    opened = []
    real = ledgerd.Client._reopen

    def counting(self):
        opened.append(1)
        return real(self)
    monkeypatch.setattr(ledgerd.Client, "_reopen", counting)
    worker.signal(signal.SIGSTOP)
    timer = threading.Timer(0.5, worker.signal, (signal.SIGCONT,))
    timer.start()
    try:
        with ledgerd.Client(worker.endpoint, timeout=0.2, retries=10, backoff=(0.01, 0.02)) as client:
            assert client.ping()
        assert len(opened) >= 2         # the first socket, and one after each silence
    finally:
        timer.cancel()
        worker.signal(signal.SIGCONT)


def test_pipelined_1000_batches_in_order(client, unique):
    batches = []
    for n in range(1000):
        b = Batch()
        b.create_transaction(n, NOW, external_id=f"{unique}-{n}")
        batches.append(b)
    started = time.monotonic()
    results = list(client.submit_many(batches, window=64))
    assert all(r.ok for r in results)
    ids = [r.results[0]["id"] for r in results]
    assert ids == sorted(ids) and len(set(ids)) == 1000     # one connection: run in the order sent
    assert len({r.key for r in results}) == 1000
    assert time.monotonic() - started < 30
    assert count_rows(client, f"{unique}-") == 1000

"""The asyncio client: the same calls, as coroutines."""

from __future__ import annotations

import asyncio
import signal
from datetime import date, datetime, timezone

import pytest

import ledgerd
import ledgerd.aio
from ledgerd import Batch

NOW = datetime(2025, 2, 1, 9, tzinfo=timezone.utc)


def run(coroutine):
    return asyncio.run(coroutine)


def test_async_client_every_call(shared_worker, unique):
    async def main():
        async with ledgerd.aio.Client(shared_worker.endpoint) as client:
            assert await client.ping()
            async with client.batch() as b:
                cat = b.create_category(f"{unique}-aio")
                txn = b.create_transaction("-1.25", NOW, category=cat, description="async")
            assert (await client.get_transaction(txn.id)).amount == -125
            assert (await client.get_category(cat.id)).name == f"{unique}-aio"
            assert await client.update_transaction(txn.id, amount=5) == 1
            assert await client.update_category(cat.id, name=f"{unique}-aio2") == 1
            rows = [t async for t in client.transactions(categories=[cat.id], page_size=1)]
            assert [t.amount for t in rows] == [5]
            frame = await client.dataframe(categories=[cat.id])
            assert frame["amount"].tolist() == [5]
            assert f"{unique}-aio2" in [c.name for c in await client.categories()]
            with pytest.raises(ledgerd.ConstraintError):
                await client.create_category(f"{unique}-aio2")
            assert await client.delete_transaction(txn.id) == 1
            assert await client.delete_category(cat.id) == 1
            assert "batches_ok" in await client.stats()
    run(main())


def test_async_concurrent_callers_and_pipeline(shared_worker, unique):
    async def main():
        async with ledgerd.aio.Client(shared_worker.endpoint) as client:
            ids = await asyncio.gather(*(client.create_transaction(n, NOW, external_id=f"{unique}-{n}")
                                         for n in range(50)))
            assert len(set(ids)) == 50
            batches = []
            for n in range(200):
                b = Batch()
                b.create_transaction(n, NOW, external_id=f"{unique}-p{n}")
                batches.append(b)
            results = [r async for r in client.submit_many(batches, window=32)]
            assert [r.ok for r in results] == [True] * 200
            assert [b.results[0]["id"] for b in batches] == [r.results[0]["id"] for r in results]
            rows = [t async for t in client.transactions(from_=date(2025, 2, 1), to=date(2025, 2, 2))]
            assert sum(1 for t in rows if (t.external_id or "").startswith(f"{unique}-")) == 250
    run(main())


def test_async_replay_and_unknown(start_worker):
    worker = start_worker()

    async def main():
        async with ledgerd.aio.Client(worker.endpoint, timeout=0.2, retries=1, backoff=(0.01, 0.02)) as client:
            await client.ping()
            worker.signal(signal.SIGSTOP)
            batch = Batch()
            batch.create_category("async-maybe")
            with pytest.raises(ledgerd.OutcomeUnknown):
                await client.submit(batch)
            worker.signal(signal.SIGCONT)
        async with ledgerd.aio.Client(worker.endpoint) as client:
            assert (await client.submit(batch)).ok
            assert [c.name for c in await client.categories()].count("async-maybe") == 1
    try:
        run(main())
    finally:
        worker.signal(signal.SIGCONT)

"""The asyncio client: the same calls as :class:`ledgerd.Client`, as coroutines.

    async with ledgerd.aio.Client("tcp://127.0.0.1:5555") as client:
        async with client.batch() as b:
            food = b.create_category("Food")
        async for txn in client.transactions():
            ...

Many coroutines may use one client at once: their requests share its socket,
and one task reads every reply and hands each to the coroutine waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, AsyncIterator, Deque, Dict, Iterable, List, Optional, Sequence, Union

import zmq
import zmq.asyncio

from . import _plans as plans
from .batch import UNSET, Batch, BatchResult
from .client import BaseClient
from .frames import summary_frame, transactions_frame
from .values import Category, SummaryRow, Transaction

__all__ = ["Client"]

# The reader wakes at least this often, so a request started while it waits
# has its deadline checked in time.
_TICK = 0.05


class _AsyncBatchScope:
    def __init__(self, client: "Client", batch: Batch, raise_errors: bool) -> None:
        self.client = client
        self.batch = batch
        self.raise_errors = raise_errors

    async def __aenter__(self) -> Batch:
        return self.batch

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None and len(self.batch):
            await self.client.submit(self.batch, raise_errors=self.raise_errors)


class Client(BaseClient):
    """An asyncio client (pyzmq's ``zmq.asyncio``); options as :class:`ledgerd.Client`."""

    def __init__(self, endpoints: Union[str, Sequence[str]] = "tcp://127.0.0.1:5555", **options: Any) -> None:
        super().__init__(endpoints, **options)
        self._context = zmq.asyncio.Context.instance()
        self._socket: Optional[zmq.asyncio.Socket] = None
        self._monitor: Optional[zmq.asyncio.Socket] = None
        self._waiters: Dict[int, "asyncio.Future[BatchResult]"] = {}
        self._reader: Optional["asyncio.Task[None]"] = None

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and close the socket; waiting calls get CancelledError."""
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
            self._reader = None
        for waiter in self._waiters.values():
            waiter.cancel()
        self._waiters.clear()
        self._close_socket()

    def _close_socket(self) -> None:
        self._close(self._socket, self._monitor)
        self._socket = None
        self._monitor = None

    def _reopen(self) -> zmq.asyncio.Socket:
        self._close_socket()
        sock = self._context.socket(zmq.DEALER)
        self._monitor = self._configure(sock, self._context)
        self._socket = sock
        return sock

    async def _read_monitor(self) -> None:
        """Hand the socket monitor's events to the engine."""
        events = []
        while self._monitor is not None:
            try:
                event = self._event(await self._monitor.recv_multipart(zmq.DONTWAIT))
            except zmq.Again:
                break
            if event is not None:
                events.append(event)
        if events:
            self._engine.on_events(events, time.monotonic())

    def _deliver(self) -> None:
        engine = self._engine
        for request in list(engine.finished):
            result = engine.finished.pop(request)
            waiter = self._waiters.pop(request, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(result)

    async def _read(self) -> None:
        """Send what is due and read replies while anyone waits."""
        engine = self._engine
        while self._waiters:
            await self._read_monitor()  # what happened while nobody looked (idle)
            now = time.monotonic()
            reopen, due = engine.due(now)
            sock = self._socket if self._socket is not None and not reopen else self._reopen()
            for pending in due:
                try:
                    sent = sock.send(pending.body, zmq.DONTWAIT)
                    if isinstance(sent, asyncio.Future) and sent.done() and sent.exception():
                        pass            # a lost try: its deadline says so
                except zmq.Again:
                    pass
                engine.sent(pending, now)
            self._deliver()
            wait = min(_TICK, max(0.0, engine.wake_at(now + _TICK) - now))
            poller = zmq.asyncio.Poller()
            poller.register(sock, zmq.POLLIN)
            monitor = self._monitor
            if monitor is not None:
                poller.register(monitor, zmq.POLLIN)
            ready = dict(await poller.poll(int(wait * 1000) + 1))
            # Replies first: a reply that came before the connection broke
            # finishes its request, and only what still waits is a lost try.
            if sock in ready:
                while True:
                    try:
                        frames = await sock.recv_multipart(zmq.DONTWAIT)
                    except zmq.Again:
                        break
                    engine.on_reply(frames, time.monotonic())
            if monitor is not None and monitor in ready:
                await self._read_monitor()
            self._deliver()

    def _start(self, batch: Batch) -> "asyncio.Future[BatchResult]":
        request = self._engine.start(batch, time.monotonic())
        waiter: "asyncio.Future[BatchResult]" = asyncio.get_running_loop().create_future()
        self._waiters[request] = waiter
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._read())
        return waiter

    def batch(self, mode: str = "atomic", key: Optional[str] = None, *,
              raise_errors: bool = True) -> _AsyncBatchScope:
        """``async with client.batch() as b:`` -- see :meth:`ledgerd.Client.batch`."""
        return _AsyncBatchScope(self, Batch(mode, key), raise_errors)

    async def submit(self, batch: Batch, *, raise_errors: bool = True) -> BatchResult:
        """Send batch and wait for its result (see :meth:`ledgerd.Client.submit`)."""
        result = await self._start(batch)
        return result.raise_for_error() if raise_errors else result

    async def submit_many(self, batches: Iterable[Batch], window: int = 64) -> AsyncIterator[BatchResult]:
        """Pipeline batches, yielding BatchResults in the order given."""
        plans.check_window(window)
        source = iter(batches)
        order: Deque["asyncio.Future[BatchResult]"] = deque()
        exhausted = False
        while True:
            while not exhausted and len(order) < window:
                try:
                    order.append(self._start(next(source)))
                except StopIteration:
                    exhausted = True
            if not order:
                return
            yield await order.popleft()

    async def _run(self, plan: plans.Plan) -> Any:
        batch, read = plan
        return read(await self.submit(batch))

    async def create_category(self, name: str, parent: Any = None) -> int:
        return await self._run(plans.create_category(name, parent))

    async def get_category(self, id_or_name: Union[int, str]) -> Category:
        return await self._run(plans.get_category(id_or_name))

    async def update_category(self, id: Any, *, name: Any = UNSET, parent: Any = UNSET,
                              expect_version: Optional[int] = None) -> int:
        return await self._run(plans.update_category(id, name, parent, expect_version))

    async def delete_category(self, id: Any, *, expect_version: Optional[int] = None) -> int:
        return await self._run(plans.delete_category(id, expect_version))

    async def categories(self) -> List[Category]:
        return await self._run(plans.categories())

    async def create_transaction(self, amount: Any, occurred_at: Any, **fields: Any) -> int:
        return await self._run(plans.create_transaction(amount, occurred_at, fields))

    async def get_transaction(self, id: Any) -> Transaction:
        return await self._run(plans.get_transaction(id))

    async def update_transaction(self, id: Any, *, amount: Any = UNSET, occurred_at: Any = UNSET,
                                 description: Any = UNSET, category: Any = UNSET,
                                 expect_version: Optional[int] = None) -> int:
        return await self._run(plans.update_transaction(
            id, plans.changes(amount, occurred_at, description, category), expect_version))

    async def delete_transaction(self, id: Any, *, expect_version: Optional[int] = None) -> int:
        return await self._run(plans.delete_transaction(id, expect_version))

    async def transactions(self, *, from_: Any = None, to: Any = None, categories: Any = None,
                           include_subcategories: Optional[bool] = None, min_amount: Any = None,
                           max_amount: Any = None, page_size: int = 1000) -> AsyncIterator[Transaction]:
        """An async iterator over transactions, a page at a time."""
        filters = self._filters(from_, to, categories, include_subcategories, min_amount, max_amount)
        after: Optional[str] = None
        while True:
            rows, after = await self._run(plans.query_page(filters, page_size, after))
            for row in rows:
                yield row
            if after is None:
                return

    async def summary(self, *, by: str = "category", period: Optional[str] = None, offset: Any = None,
                      rollup: Optional[bool] = None, from_: Any = None, to: Any = None, categories: Any = None,
                      include_subcategories: Optional[bool] = None, min_amount: Any = None,
                      max_amount: Any = None) -> List[SummaryRow]:
        kwargs = self._filters(from_, to, categories, include_subcategories, min_amount, max_amount)
        kwargs.update(by=by, period=period, offset=offset, rollup=rollup)
        return await self._run(plans.summary(kwargs))

    async def dataframe(self, **filters: Any) -> Any:
        return transactions_frame([row async for row in self.transactions(**filters)])

    async def summary_dataframe(self, **kwargs: Any) -> Any:
        return summary_frame(await self.summary(**kwargs))

    async def ping(self) -> str:
        return await self._run(plans.ping())

    async def stats(self) -> Dict[str, Any]:
        return await self._run(plans.stats())

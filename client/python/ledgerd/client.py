"""The blocking client.

    with ledgerd.Client("tcp://127.0.0.1:5555") as client:
        with client.batch() as b:
            food = b.create_category("Food")
            b.create_transaction("-12.34", datetime.now(timezone.utc), category=food)
        print(food.id)
        for txn in client.transactions(from_=date(2025, 1, 1)):
            print(txn.occurred_at, txn.amount, txn.description)
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import zmq
from zmq.utils.monitor import parse_monitor_message

from . import _plans as plans
from ._core import MONITOR_EVENTS, Engine, parse_endpoints
from ._curve import load_client_keys, load_server_key
from .batch import UNSET, Batch, BatchResult
from .frames import summary_frame, transactions_frame
from .values import Category, SummaryRow, Transaction

__all__ = ["Client", "BaseClient"]

_MONITORS = itertools.count()


class BaseClient:
    """What the blocking and the asyncio client share: configuration, the
    request engine, and CURVE keys."""

    def __init__(self, endpoints: Union[str, Sequence[str]] = "tcp://127.0.0.1:5555", *,
                 timeout: float = 5.0, retries: int = 3, curve_secret: Optional[str] = None,
                 curve_server_key: Optional[str] = None, amounts: str = "int",
                 backoff: Tuple[float, float] = (0.1, 5.0)) -> None:
        if amounts not in ("int", "decimal"):
            raise ValueError('amounts must be "int" (minor units) or "decimal" (major units, Decimal)')
        self._engine = Engine(parse_endpoints(endpoints), timeout, retries, backoff, amounts == "decimal")
        self._curve: Optional[Tuple[bytes, bytes, bytes]] = None
        if (curve_secret is None) != (curve_server_key is None):
            raise ValueError("CURVE needs both curve_secret (this client's certificate) and "
                             "curve_server_key (the worker's public key or certificate)")
        if curve_secret is not None and curve_server_key is not None:
            public, secret = load_client_keys(curve_secret)
            self._curve = (public, secret, load_server_key(curve_server_key))

    @property
    def endpoints(self) -> List[str]:
        """The endpoints, the one in use first."""
        e = self._engine
        return e.endpoints[e.current:] + e.endpoints[:e.current]

    @property
    def client_id(self) -> str:
        """The random id this client puts in its idempotency keys."""
        return self._engine.client_id

    def _configure(self, sock: Any, context: Any) -> Any:
        """Set sock up and connect it to the current endpoint; returns the
        PAIR socket its monitor reports on (None if libzmq has none)."""
        sock.setsockopt(zmq.LINGER, 0)
        if self._curve:
            public, secret, server = self._curve
            sock.curve_publickey = public
            sock.curve_secretkey = secret
            sock.curve_serverkey = server
        monitor = None
        address = f"inproc://ledgerd-py-monitor-{os.getpid()}-{next(_MONITORS)}"
        try:
            sock.monitor(address, MONITOR_EVENTS)
            monitor = context.socket(zmq.PAIR)
            # Unbounded: libzmq sends events from its I/O thread, blocking,
            # and a full pipe would stall every socket of the context.
            monitor.setsockopt(zmq.RCVHWM, 0)
            monitor.setsockopt(zmq.LINGER, 0)
            monitor.connect(address)
        except zmq.ZMQError:
            self._close(None, monitor)
            try:
                sock.disable_monitor()  # nobody would read its events
            except zmq.ZMQError:
                pass
            monitor = None              # no monitor: failures wait out the timeout
        self._engine.opened()
        sock.connect(self._engine.endpoint)
        return monitor

    @staticmethod
    def _close(sock: Any, monitor: Any) -> None:
        """Close sock and its monitor. The monitor is stopped first: libzmq
        sends events with a blocking send from its I/O thread, so an event
        for a monitor whose reader is gone would stall every socket of the
        context."""
        if sock is not None and monitor is not None:
            try:
                sock.disable_monitor()
            except zmq.ZMQError:
                pass
        if sock is not None:
            sock.close(0)
        if monitor is not None:
            monitor.close(0)

    @staticmethod
    def _event(frames: List[bytes]) -> Optional[int]:
        try:
            return int(parse_monitor_message(frames)["event"])
        except Exception:
            return None

    @staticmethod
    def _filters(from_: Any, to: Any, categories: Any, include_subcategories: Any, min_amount: Any,
                 max_amount: Any) -> Dict[str, Any]:
        return {"from_": from_, "to": to, "categories": categories,
                "include_subcategories": include_subcategories, "min_amount": min_amount,
                "max_amount": max_amount}


class _BatchScope:
    """``with client.batch() as b:`` -- sent when the block ends without an
    exception; raises the batch's error (nothing applied) unless
    raise_errors is False."""

    def __init__(self, client: "Client", batch: Batch, raise_errors: bool) -> None:
        self.client = client
        self.batch = batch
        self.raise_errors = raise_errors

    def __enter__(self) -> Batch:
        return self.batch

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None and len(self.batch):
            self.client.submit(self.batch, raise_errors=self.raise_errors)


class Client(BaseClient):
    """A blocking client: one DEALER socket, one endpoint at a time.

    ``endpoints``: a list or a comma-separated string; after a silence the
    client moves to the next one, and follows a cluster's leader hint.
    ``timeout``: seconds to wait for each try; ``retries``: tries after the
    first (timeouts and retryable errors), never applying a batch twice.
    ``curve_secret``: this client's certificate file (``ledgerctl keygen``);
    ``curve_server_key``: the worker's public key (Z85) or certificate file.
    ``amounts``: read amounts as ``"int"`` minor units or ``"decimal"``.

    A client is for one thread at a time.
    """

    def __init__(self, endpoints: Union[str, Sequence[str]] = "tcp://127.0.0.1:5555", **options: Any) -> None:
        super().__init__(endpoints, **options)
        self._context = zmq.Context.instance()
        self._socket: Optional[zmq.Socket] = None
        self._monitor: Optional[zmq.Socket] = None
        self._poller = zmq.Poller()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket; requests still in flight are abandoned."""
        self._close(self._socket, self._monitor)
        self._socket = None
        self._monitor = None

    # --- the engine's I/O ---------------------------------------------------

    def _reopen(self) -> zmq.Socket:
        self.close()
        sock = self._context.socket(zmq.DEALER)
        self._monitor = self._configure(sock, self._context)
        self._socket = sock
        self._poller = zmq.Poller()
        self._poller.register(sock, zmq.POLLIN)
        if self._monitor is not None:
            self._poller.register(self._monitor, zmq.POLLIN)
        return sock

    def _read_monitor(self) -> None:
        """Hand the socket monitor's events to the engine."""
        events = []
        while self._monitor is not None:
            try:
                event = self._event(self._monitor.recv_multipart(zmq.DONTWAIT))
            except zmq.Again:
                break
            if event is not None:
                events.append(event)
        if events:
            self._engine.on_events(events, time.monotonic())

    def _pump(self, until: float) -> None:
        """Send what is due, then wait for replies until until or the next timer."""
        engine = self._engine
        self._read_monitor()            # what happened while nobody looked (idle)
        now = time.monotonic()
        finished = len(engine.finished)
        reopen, due = engine.due(now)
        sock = self._socket if self._socket is not None and not reopen else self._reopen()
        for pending in due:
            try:
                sock.send(pending.body, zmq.DONTWAIT)
            except zmq.Again:
                pass                    # a lost try: its deadline says so
            engine.sent(pending, now)
        if len(engine.finished) > finished:
            return                      # a request gave up: let the caller see it
        wait = max(0.0, engine.wake_at(until) - now)
        ready = dict(self._poller.poll(int(wait * 1000) + 1))
        # Replies first: a reply that came before the connection broke
        # finishes its request, and only what still waits is a lost try.
        if sock in ready:
            while True:
                try:
                    frames = sock.recv_multipart(zmq.DONTWAIT)
                except zmq.Again:
                    break
                engine.on_reply(frames, time.monotonic())
        if self._monitor is not None and self._monitor in ready:
            self._read_monitor()

    # --- batches --------------------------------------------------------------

    def batch(self, mode: str = "atomic", key: Optional[str] = None, *, raise_errors: bool = True) -> _BatchScope:
        """A transaction scope: ``with client.batch() as b: b.create_...``.
        Sent when the block ends; all or nothing in atomic mode. Afterwards
        ``b.results`` holds each op's result and ``b.result`` the BatchResult."""
        return _BatchScope(self, Batch(mode, key), raise_errors)

    def submit(self, batch: Batch, *, raise_errors: bool = True) -> BatchResult:
        """Send batch and wait for its result, retrying safely. Raises the
        LedgerError subclass of a refusal, or OutcomeUnknown; with
        raise_errors=False returns the BatchResult whatever happened."""
        engine = self._engine
        request = engine.start(batch, time.monotonic())
        while request not in engine.finished:
            self._pump(float("inf"))
        result = engine.finished.pop(request)
        return result.raise_for_error() if raise_errors else result

    def submit_many(self, batches: Iterable[Batch], window: int = 64) -> Iterator[BatchResult]:
        """Pipeline batches, up to window in flight (below the socket's
        high-water mark), yielding each BatchResult in the order given. Never
        raises for a batch's error: check ``result.ok``."""
        plans.check_window(window)
        engine = self._engine
        source = iter(batches)
        order: Deque[int] = deque()
        exhausted = False
        while True:
            while not exhausted and len(order) < window:
                try:
                    order.append(engine.start(next(source), time.monotonic()))
                except StopIteration:
                    exhausted = True
            if not order:
                return
            if order[0] in engine.finished:
                yield engine.finished.pop(order.popleft())
                continue
            self._pump(float("inf"))

    def _run(self, plan: plans.Plan) -> Any:
        batch, read = plan
        return read(self.submit(batch))

    # --- categories -------------------------------------------------------------

    def create_category(self, name: str, parent: Any = None) -> int:
        """Create a category; returns its id."""
        return self._run(plans.create_category(name, parent))

    def get_category(self, id_or_name: Union[int, str]) -> Category:
        """One category, by id (int) or exact name (str)."""
        return self._run(plans.get_category(id_or_name))

    def update_category(self, id: Any, *, name: Any = UNSET, parent: Any = UNSET,
                        expect_version: Optional[int] = None) -> int:
        """Rename and/or move a category (parent=None: top level)."""
        return self._run(plans.update_category(id, name, parent, expect_version))

    def delete_category(self, id: Any, *, expect_version: Optional[int] = None) -> int:
        """Delete a category that nothing uses."""
        return self._run(plans.delete_category(id, expect_version))

    def categories(self) -> List[Category]:
        """Every category, by id."""
        return self._run(plans.categories())

    # --- transactions ----------------------------------------------------------

    def create_transaction(self, amount: Any, occurred_at: Any, **fields: Any) -> int:
        """Create a transaction (description, category, external_id, if_absent); returns its id."""
        return self._run(plans.create_transaction(amount, occurred_at, fields))

    def get_transaction(self, id: Any) -> Transaction:
        """One transaction."""
        return self._run(plans.get_transaction(id))

    def update_transaction(self, id: Any, *, amount: Any = UNSET, occurred_at: Any = UNSET,
                           description: Any = UNSET, category: Any = UNSET,
                           expect_version: Optional[int] = None) -> int:
        """Change the given fields (description/category None clears them)."""
        return self._run(plans.update_transaction(
            id, plans.changes(amount, occurred_at, description, category), expect_version))

    def delete_transaction(self, id: Any, *, expect_version: Optional[int] = None) -> int:
        """Delete a transaction."""
        return self._run(plans.delete_transaction(id, expect_version))

    def transactions(self, *, from_: Any = None, to: Any = None, categories: Any = None,
                     include_subcategories: Optional[bool] = None, min_amount: Any = None,
                     max_amount: Any = None, page_size: int = 1000) -> Iterator[Transaction]:
        """Transactions oldest first, fetched a page at a time as you iterate
        (``from_`` inclusive, ``to`` exclusive; a date is midnight UTC)."""
        filters = self._filters(from_, to, categories, include_subcategories, min_amount, max_amount)
        after: Optional[str] = None
        while True:
            rows, after = self._run(plans.query_page(filters, page_size, after))
            yield from rows
            if after is None:
                return

    def summary(self, *, by: str = "category", period: Optional[str] = None, offset: Any = None,
                rollup: Optional[bool] = None, from_: Any = None, to: Any = None, categories: Any = None,
                include_subcategories: Optional[bool] = None, min_amount: Any = None,
                max_amount: Any = None) -> List[SummaryRow]:
        """txn.summary: count, total, min and max per category and/or period
        (see :meth:`Batch.summary`), ordered by period then category."""
        kwargs = self._filters(from_, to, categories, include_subcategories, min_amount, max_amount)
        kwargs.update(by=by, period=period, offset=offset, rollup=rollup)
        return self._run(plans.summary(kwargs))

    def dataframe(self, **filters: Any) -> Any:
        """The transactions :meth:`transactions` yields, as a pandas DataFrame
        (see :func:`ledgerd.frames.transactions_frame` for columns and dtypes)."""
        return transactions_frame(self.transactions(**filters))

    def summary_dataframe(self, **kwargs: Any) -> Any:
        """:meth:`summary` as a pandas DataFrame."""
        return summary_frame(self.summary(**kwargs))

    # --- system -----------------------------------------------------------------

    def ping(self) -> str:
        """The worker's version."""
        return self._run(plans.ping())

    def stats(self) -> Dict[str, Any]:
        """The worker's counters."""
        return self._run(plans.stats())

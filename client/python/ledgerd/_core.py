"""The request engine shared by the blocking and the asyncio client.

It decides, and the clients only wait: which requests are due to be sent,
which try timed out, what a reply means (done, retry after a backoff, follow a
cluster leader), when a request has used up its tries. Retries follow the
zguide's Lazy Pirate pattern, as libledger does: after a silence the socket
is closed and reopened (the next endpoint, if there are several) and every
request still waiting is sent again. That is safe because every batch that
writes carries an idempotency key: a try that did commit is answered from
the worker's log, never applied twice.
"""

from __future__ import annotations

import os
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import msgpack

from .batch import Batch, BatchResult
from .errors import OutcomeUnknown, error_from_wire

#: ZeroMQ's default high-water mark: more requests in flight on one
#: connection and the worker drops replies it cannot queue.
SOCKET_HWM = 1000


def parse_endpoints(endpoints: Union[str, Sequence[str]]) -> List[str]:
    """A list of endpoints from a list or a comma-separated string."""
    items = endpoints.split(",") if isinstance(endpoints, str) else list(endpoints)
    result = [item.strip() for item in items if item and item.strip()]
    if not result:
        raise ValueError("no endpoint given (e.g. 'tcp://127.0.0.1:5555')")
    for endpoint in result:
        if "://" not in endpoint:
            raise ValueError(f"endpoint {endpoint!r} has no transport (tcp://host:port, ipc://path)")
    return result


class Pending:
    """One batch in flight."""

    __slots__ = ("id", "batch", "key", "body", "sends", "attempts", "deadline", "resend_at", "timed_out",
                 "last_error")

    def __init__(self, request_id: int, batch: Batch, key: Optional[str], body: bytes, now: float) -> None:
        self.id = request_id
        self.batch = batch
        self.key = key
        self.body = body
        self.sends = 0
        self.attempts = 0               # tries that timed out or got a retryable error
        self.deadline = now
        self.resend_at: Optional[float] = now   # None while waiting for a reply
        self.timed_out = False          # some try got no reply: it may have committed
        self.last_error: Optional[BatchResult] = None


class Engine:
    """Requests in flight, and what to do next with each."""

    def __init__(self, endpoints: Sequence[str], timeout: float, retries: int, backoff: Tuple[float, float],
                 as_decimal: bool) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.endpoints = list(endpoints)
        self.current = 0
        self.switch = False             # reopen on endpoints[current] at the next step
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = backoff
        self.as_decimal = as_decimal
        self.client_id = os.urandom(8).hex()
        self.next_key = 0
        self.next_request = 1
        self.pending: Dict[int, Pending] = {}
        self.finished: Dict[int, BatchResult] = {}

    @property
    def endpoint(self) -> str:
        return self.endpoints[self.current]

    def start(self, batch: Batch, now: float) -> int:
        """Encode batch and put it in flight; returns its request id."""
        if not batch.ops:
            raise ValueError("the batch has no ops")
        key = batch.key
        if key is None and batch.writes:
            if batch.auto_key is None:
                # Fixed-width hex, so one client's keys sort in the order made.
                batch.auto_key = f"py-{self.client_id}-{self.next_key:016x}"
                self.next_key += 1
            key = batch.auto_key
        request: Dict[str, Any] = {"v": 1, "id": self.next_request}
        if key is not None:
            request["key"] = key
        if batch.mode != "atomic":
            request["mode"] = batch.mode
        request["ops"] = batch.ops
        body = msgpack.packb(request, use_bin_type=True)
        pending = Pending(self.next_request, batch, key, body, now)
        self.next_request += 1
        batch.result = None
        self.pending[pending.id] = pending
        return pending.id

    def _backoff(self, attempt: int) -> float:
        initial, cap = self.backoff
        delay = min(cap, initial * (2 ** (attempt - 1)))
        return delay / 2 + random.random() * delay / 2

    def _finish(self, pending: Pending, result: BatchResult) -> None:
        result.tries = pending.sends
        result.key = pending.key
        pending.batch.result = result
        self.finished[pending.id] = result
        del self.pending[pending.id]

    def _try_failed(self, pending: Pending, now: float, timed_out: bool, reason: str) -> None:
        pending.attempts += 1
        pending.timed_out |= timed_out
        if pending.attempts <= self.retries:
            pending.resend_at = now + self._backoff(pending.attempts)
            return
        if pending.timed_out or pending.last_error is None:
            self._finish(pending, BatchResult(False, [], OutcomeUnknown(reason, pending.sends)))
        else:
            self._finish(pending, pending.last_error)

    def _rotate(self) -> None:
        if len(self.endpoints) > 1:
            self.current = (self.current + 1) % len(self.endpoints)
            self.switch = True

    def _follow(self, leader: str) -> None:
        if leader not in self.endpoints:
            self.endpoints.append(leader)
        index = self.endpoints.index(leader)
        if index != self.current:
            self.current = index
            self.switch = True

    def due(self, now: float) -> Tuple[bool, List[Pending]]:
        """Expire silent tries; returns whether the socket must be reopened
        (on endpoints[current]) and the requests to send now."""
        asked = self.endpoint
        reopen = self.switch
        for pending in list(self.pending.values()):
            if pending.resend_at is None and now >= pending.deadline:
                self._try_failed(pending, now, True, f"no reply from {asked} within {self.timeout:g} s")
                if not reopen:
                    self._rotate()
                reopen = True
        if reopen:
            self.switch = False
            # Replies to what waits on the old socket will never be read:
            # send it again on the new one (keyed, so at most a replay).
            for pending in list(self.pending.values()):
                if pending.resend_at is None:
                    pending.timed_out = True
                    if self.retries == 0:
                        self._finish(pending, BatchResult(False, [], OutcomeUnknown(
                            f"the connection to {asked} was closed before the reply "
                            "(another request timed out on it)", pending.sends)))
                    else:
                        pending.resend_at = now
        return reopen, [p for p in self.pending.values() if p.resend_at is not None and p.resend_at <= now]

    def sent(self, pending: Pending, now: float) -> None:
        """pending went out now (or was lost: the deadline tells)."""
        pending.sends += 1
        pending.resend_at = None
        pending.deadline = now + self.timeout

    def wake_at(self, until: float) -> float:
        """The next moment a timer fires, or until."""
        wake = until
        for pending in self.pending.values():
            at = pending.resend_at if pending.resend_at is not None else pending.deadline
            wake = min(wake, at)
        return wake

    def on_reply(self, frames: List[bytes], now: float) -> None:
        """A message arrived: match it to its request, then finish or retry."""
        if len(frames) != 1:
            return                      # not ours: we send no envelope, so none comes back
        try:
            reply = msgpack.unpackb(frames[0], raw=False)
        except Exception:
            return                      # unreadable: its request times out and is retried
        if not isinstance(reply, dict):
            return
        pending = self.pending.get(reply.get("id"))     # type: ignore[arg-type]
        if pending is None or pending.resend_at is not None:
            return                      # stale: done already, or a try we gave up on
        error = reply.get("error")
        if not reply.get("ok") and isinstance(error, dict) and error.get("retryable"):
            if error.get("class") == "unavailable":
                leader = error.get("leader")
                if isinstance(leader, str) and leader:
                    self._follow(leader)
                else:
                    self._rotate()
            pending.last_error = BatchResult(False, [], error_from_wire(error))
            self._try_failed(pending, now, False, str(pending.last_error.error))
            return
        try:
            result = pending.batch.decode_reply(reply, self.as_decimal, pending.sends, pending.key)
        except (KeyError, TypeError, ValueError) as exc:
            result = BatchResult(False, [], OutcomeUnknown(f"unreadable reply: {exc}", pending.sends))
        self._finish(pending, result)

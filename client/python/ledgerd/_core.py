"""The request engine shared by the blocking and the asyncio client.

It decides, and the clients only wait: which requests are due to be sent,
which try timed out, what a reply means (done, retry after a backoff, follow a
cluster leader), when a request has used up its tries. Retries follow the
zguide's Lazy Pirate pattern, as libledger does: after a silence the socket
is closed and reopened (the next endpoint, if there are several) and every
request still waiting is sent again. That is safe because every batch that
writes carries an idempotency key: a try that did commit is answered from
the worker's log, never applied twice.

Like libledger, it also hears the socket monitor (the clients pass on its
events, :meth:`Engine.on_events`): a connection that broke ends the tries
waiting on it at once (a lost try: resent, keyed, to the next endpoint), and
an endpoint where nothing listens is left at once while some endpoint has not
refused since the last reply, otherwise after one backoff step, never a spin.
The engine opens no socket, so all of this is tested with made-up events.
"""

from __future__ import annotations

import os
import random
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import msgpack
import zmq


from .batch import Batch, BatchResult
from .errors import OutcomeUnknown, error_from_wire

#: ZeroMQ's default high-water mark: more requests in flight on one
#: connection and the worker drops replies it cannot queue.
SOCKET_HWM = 1000

#: The socket monitor's events the engine reads (libzmq's numbers).
MONITOR_EVENTS = (zmq.EVENT_CONNECTED | zmq.EVENT_CONNECT_RETRIED | zmq.EVENT_DISCONNECTED
                  | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                  | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH)


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

    __slots__ = ("id", "batch", "key", "body", "sends", "attempts", "started", "deadline", "resend_at",
                 "timed_out", "lost", "last_error")

    def __init__(self, request_id: int, batch: Batch, key: Optional[str], body: bytes, now: float) -> None:
        self.id = request_id
        self.batch = batch
        self.key = key
        self.body = body
        self.sends = 0
        self.attempts = 0               # tries that timed out or got a retryable error
        self.started = now
        self.deadline = now
        self.resend_at: Optional[float] = now   # None while waiting for a reply
        self.timed_out = False          # some try got no reply: it may have committed
        self.lost = False               # its connection broke: resend at once, elsewhere
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
        # What the socket monitor said; the first four are of the socket
        # now open (opened() clears them), the others last until a reply.
        self.connection_lost = False    # the connection broke (the worker died or closed it)
        self.refused = False            # a connect was refused: nothing listens there now
        self.tcp_connected = False      # the current connect attempt reached a listener
        self.handshake_done = False     # a handshake succeeded on this socket
        self.handshake_broken = False   # a handshake was cut short: wrong mechanism or server key
        self.auth_refused = False       # the worker refused our CURVE key
        self.refusals = 0               # endpoints that refused a connect since the last reply

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

    def _follow(self, leader: str) -> bool:
        """Go to the leader a node named; returns True if that is a move."""
        if leader not in self.endpoints:
            self.endpoints.append(leader)
        index = self.endpoints.index(leader)
        if index == self.current:
            return False
        self.current = index
        self.switch = True
        return True

    def _not_now(self, pending: Pending, now: float, error: Optional[BatchResult] = None) -> bool:
        """The node asked could not run pending and said so at once (a
        cluster node with no leader for now, or nothing listening): ask again
        after the first backoff step, not a growing one, and without counting
        a try, for as long as the retries would have waited for silent
        replies. False when that time is spent, or retries is 0: then the
        try counts (at the next due() if there is no error reply)."""
        if self.retries == 0 or now - pending.started >= (self.retries + 1) * self.timeout:
            if error is None:
                pending.deadline = now
            return False
        if error is not None:
            pending.last_error = error
        pending.resend_at = now + self._backoff(1)
        return True

    def _silence_reason(self, asked: str) -> str:
        if self.auth_refused:
            return (f"authentication failed: the worker refused this client's CURVE key "
                    f"(no reply within {self.timeout:g} s)")
        if self.handshake_broken:
            return (f"authentication failed: the worker closed the connection during the handshake "
                    f"(is the server key right? does it require CURVE?; no reply within {self.timeout:g} s)")
        if self.refused:
            return f"nothing answers at {asked} (connection refused)"
        if self.connection_lost:
            return f"the connection to {asked} was lost before the reply"
        return f"no reply from {asked} within {self.timeout:g} s"

    # --- the socket monitor -----------------------------------------------------

    def opened(self) -> None:
        """A new socket was opened (and connected to endpoints[current])."""
        self.connection_lost = False
        self.refused = False
        self.tcp_connected = False
        self.handshake_done = False

    def on_events(self, events: Iterable[int], now: float) -> None:
        """The socket monitor's events (zmq.EVENT_*), oldest first: act on a
        connection that broke or a connect that was refused."""
        for event in events:
            if event & zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.auth_refused = True
            if event & zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.handshake_done = True
            if event & (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
                self.handshake_broken = True
            if event & zmq.EVENT_DISCONNECTED:
                self.connection_lost = True
            if event & zmq.EVENT_CONNECTED:
                self.tcp_connected = True
            # libzmq announces every reconnect it schedules, also after a
            # handshake that failed on a live listener (a wrong key): only
            # an attempt that never connected was refused.
            if event & zmq.EVENT_CONNECT_RETRIED:
                if not self.tcp_connected:
                    self.refused = True
                self.tcp_connected = False
        # A handshake cut short and then a refused connect: the node died
        # while we were shaking hands (a leader killed under a producer),
        # not a wrong key, which fails again on a live listener.
        if self.handshake_broken and self.refused:
            self.handshake_broken = False
        if self.auth_refused or self.handshake_broken:
            return                      # left to the timeout, which says why
        waiting = [p for p in self.pending.values() if p.resend_at is None]
        if self.connection_lost:
            # The worker died or dropped us: no reply will come on this
            # connection, so do not wait out the timeout. What was waiting is
            # a lost try, as after a timeout (its outcome is unknown), and
            # goes again, keyed, to the next endpoint at once (due() does it).
            for pending in waiting:
                pending.deadline = now
                pending.lost = True
            if not self.pending:
                self._rotate()
        elif self.refused and waiting:
            # Nothing listens at this endpoint (a node that is down): what
            # waits here was never delivered. Try the next endpoint at once
            # while some endpoint has not refused since the last reply (a
            # dead node first in the list must not slow every call), then
            # after one backoff step: never a spin of refused connects.
            self.refusals += 1
            untried = self.refusals < len(self.endpoints)
            for pending in waiting:
                if self._not_now(pending, now) and untried:
                    pending.resend_at = now
            self._rotate()
            self.switch = True

    def due(self, now: float) -> Tuple[bool, List[Pending]]:
        """Expire silent tries; returns whether the socket must be reopened
        (on endpoints[current]) and the requests to send now."""
        asked = self.endpoint
        reopen = self.switch
        for pending in list(self.pending.values()):
            if pending.resend_at is None and now >= pending.deadline:
                self._try_failed(pending, now, True, self._silence_reason(asked))
                if not reopen:
                    self._rotate()
                reopen = True
                if pending.lost and pending.resend_at is not None and len(self.endpoints) > 1:
                    pending.resend_at = now     # its node is gone: the next one has not failed
                pending.lost = False
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
        # A reply came: whatever failed before was another connection.
        self.auth_refused = False
        self.handshake_broken = False
        self.refusals = 0
        pending = self.pending.get(reply.get("id"))     # type: ignore[arg-type]
        if pending is None or pending.resend_at is not None:
            return                      # stale: done already, or a try we gave up on
        error = reply.get("error")
        if not reply.get("ok") and isinstance(error, dict) and error.get("retryable"):
            last_error = BatchResult(False, [], error_from_wire(error))
            moved = False
            if error.get("class") == "unavailable":
                # Not the leader: follow its hint at once, or try the next
                # node after the backoff. A cluster without a leader for now
                # (an election takes a fraction of a second) answered at
                # once: ask again soon, without counting a try.
                leader = error.get("leader")
                if isinstance(leader, str) and leader:
                    moved = self._follow(leader)
                else:
                    self._rotate()
                if self._not_now(pending, now, last_error):
                    if moved:
                        pending.resend_at = now
                    return
            pending.last_error = last_error
            self._try_failed(pending, now, False, str(last_error.error))
            if moved and pending.id in self.pending and pending.resend_at is not None:
                pending.resend_at = now
            return
        try:
            result = pending.batch.decode_reply(reply, self.as_decimal, pending.sends, pending.key)
        except (KeyError, TypeError, ValueError) as exc:
            result = BatchResult(False, [], OutcomeUnknown(f"unreadable reply: {exc}", pending.sends))
        self._finish(pending, result)

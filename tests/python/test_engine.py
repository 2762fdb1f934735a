"""The request engine alone, with made-up socket monitor events: no socket,
no worker."""

from __future__ import annotations

import msgpack
import pytest
import zmq

import ledgerd
from ledgerd import Batch
from ledgerd._core import Engine

A, B, C = "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3"
CONNECTED, RETRIED, DISCONNECTED = zmq.EVENT_CONNECTED, zmq.EVENT_CONNECT_RETRIED, zmq.EVENT_DISCONNECTED
BROKEN, SUCCEEDED = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_SUCCEEDED


def engine(endpoints=(A, B, C), timeout=30.0, retries=2, backoff=(10.0, 10.0)):
    e = Engine(list(endpoints), timeout, retries, backoff, False)
    e.opened()
    return e


def send_one(e, now=0.0, op="category.create"):
    batch = Batch()
    if op == "category.create":
        batch.create_category("x")
    else:
        batch.ping()
    request = e.start(batch, now)
    reopen, due = e.due(now)
    for pending in due:
        e.sent(pending, now)
    return e.pending[request]


def reply(e, pending, body, now):
    e.on_reply([msgpack.packb(dict({"v": 1, "id": pending.id}, **body))], now)


def test_dropped_connection_is_a_lost_try_resent_elsewhere_at_once():
    e = engine()
    p = send_one(e)
    e.on_events([CONNECTED, SUCCEEDED, DISCONNECTED], 1.0)
    reopen, due = e.due(1.0)
    assert reopen and e.endpoint == B
    assert due == [p]                   # at once, not after the 5-10 s backoff
    assert p.attempts == 1 and p.timed_out  # lost: its outcome is unknown until a reply
    e.sent(p, 1.0)
    e.opened()
    reply(e, p, {"ok": True, "results": [{"id": 7}]}, 1.1)
    assert e.finished[p.id].ok and e.finished[p.id].tries == 2


def test_dropped_connection_with_one_endpoint_waits_a_backoff_step():
    e = engine(endpoints=(A,))
    p = send_one(e)
    e.on_events([CONNECTED, SUCCEEDED, DISCONNECTED], 1.0)
    reopen, due = e.due(1.0)
    assert reopen and due == [] and 1.0 + 5.0 <= p.resend_at <= 1.0 + 10.0


def test_dropped_connection_without_retries_is_outcome_unknown():
    e = engine(retries=0)
    p = send_one(e)
    e.on_events([CONNECTED, SUCCEEDED, DISCONNECTED], 1.0)
    e.due(1.0)
    error = e.finished[p.id].error
    assert isinstance(error, ledgerd.OutcomeUnknown) and "lost before the reply" in str(error)


def test_refused_endpoint_is_left_at_once_while_one_is_untried():
    e = engine()
    p = send_one(e)
    e.on_events([RETRIED], 0.01)        # no CONNECTED before it: refused
    reopen, due = e.due(0.01)
    assert reopen and e.endpoint == B and due == [p] and p.attempts == 0    # not a try: never delivered
    e.sent(p, 0.01)
    e.opened()
    e.on_events([RETRIED], 0.02)
    reopen, due = e.due(0.02)
    assert reopen and e.endpoint == C and due == [p]
    e.sent(p, 0.02)
    e.opened()
    e.on_events([RETRIED], 0.03)        # all three refused since the last reply
    reopen, due = e.due(0.03)
    assert reopen and e.endpoint == A and due == [] and 0.03 + 5.0 <= p.resend_at <= 0.03 + 10.0
    # A reply starts the count again.
    reopen, due = e.due(p.resend_at)
    e.sent(p, p.resend_at)
    e.opened()
    reply(e, p, {"ok": True, "results": [{"id": 1}]}, 20.0)
    q = send_one(e, 21.0)
    e.on_events([RETRIED], 21.01)
    reopen, due = e.due(21.01)
    assert due == [q] and e.endpoint == B


def test_one_refusing_endpoint_never_spins():
    e = engine(endpoints=(A,))
    p = send_one(e)
    e.on_events([RETRIED], 0.01)
    reopen, due = e.due(0.01)
    assert reopen and due == [] and p.resend_at >= 5.0


def test_refusals_until_the_tries_are_spent_are_outcome_unknown():
    e = engine(timeout=1.0, retries=1, backoff=(0.1, 0.1))
    p = send_one(e)
    now = 0.0
    while p.id in e.pending:
        now += 0.11
        e.on_events([RETRIED], now)
        reopen, due = e.due(now)
        for pending in due:
            e.sent(pending, now)
        e.opened()
        assert now < 5
    error = e.finished[p.id].error
    assert isinstance(error, ledgerd.OutcomeUnknown) and "connection refused" in str(error)


def test_refused_while_idle_changes_nothing():
    e = engine()
    e.on_events([CONNECTED, SUCCEEDED, DISCONNECTED, RETRIED, RETRIED], 1.0)
    # The connection dropped with nothing waiting: the next request goes elsewhere.
    assert e.switch and e.endpoint == B
    e = engine()
    e.on_events([RETRIED, RETRIED], 1.0)
    assert not e.switch and e.endpoint == A


def test_handshake_failing_on_a_live_listener_is_left_to_the_timeout():
    # A wrong server key: the handshake fails, libzmq reconnects (announced
    # by CONNECT_RETRIED after CONNECTED) and it fails again.
    e = engine()
    p = send_one(e)
    e.on_events([CONNECTED, BROKEN, DISCONNECTED, RETRIED, CONNECTED, BROKEN, DISCONNECTED, RETRIED], 1.0)
    reopen, due = e.due(1.0)
    assert not reopen and due == [] and p.deadline == 30.0 and e.endpoint == A
    e.due(30.0)
    assert p.attempts == 1 and e.endpoint == B


def test_handshake_cut_short_then_refused_is_a_dead_node():
    e = engine()
    p = send_one(e)
    e.on_events([CONNECTED, BROKEN, DISCONNECTED], 0.01)
    assert e.due(0.01) == (False, [])   # maybe a wrong key: not yet
    e.on_events([RETRIED, RETRIED], 0.02)  # the reconnect after it, then a refusal
    reopen, due = e.due(0.02)
    assert reopen and e.endpoint == B and due == [p]


def test_unavailable_without_leader_is_asked_again_soon_without_counting_a_try():
    e = engine(backoff=(0.2, 10.0))
    p = send_one(e)
    error = {"class": "unavailable", "code": "NOT_LEADER", "message": "no leader", "retryable": True}
    reply(e, p, {"ok": False, "error": error}, 1.0)
    assert p.attempts == 0 and e.endpoint == B and 1.1 <= p.resend_at <= 1.2
    e.due(p.resend_at)
    e.sent(p, 1.2)
    reply(e, p, {"ok": False, "error": dict(error, leader=C)}, 1.3)
    reopen, due = e.due(1.3)
    assert p.attempts == 0 and e.endpoint == C and due == [p]

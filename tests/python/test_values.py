"""Amounts and timestamps round-trip exactly through the worker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

import ledgerd
from ledgerd import Batch
from ledgerd.values import INT64_MAX, INT64_MIN, decode_time, encode_time

SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda m: timezone(timedelta(minutes=m)))
aware = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
                     timezones=offsets)
# Every decimal string the protocol takes: -?[0-9]+(\.[0-9]{1,2})?, within int64 minor units.
decimal_text = st.builds(
    lambda minor, places, pad, sign: _text(minor, places, pad, sign),
    st.integers(min_value=0, max_value=INT64_MAX), st.sampled_from([0, 1, 2]),
    st.integers(min_value=0, max_value=2), st.booleans())


def _text(minor: int, places: int, pad: int, negative: bool) -> str:
    if places == 0:
        minor -= minor % 100
        text = str(minor // 100)
    elif places == 1:
        minor -= minor % 10
        text = f"{minor // 100}.{(minor % 100) // 10}"
    else:
        text = f"{minor // 100}.{minor % 100:02d}"
    return ("-" if negative else "") + "0" * pad + text


def expected_minor(text: str) -> int:
    return int(Decimal(text) * 100)


@SETTINGS
@given(amount=st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_any_int64_amount(client, amount):
    txn = client.get_transaction(client.create_transaction(amount, NOW))
    assert txn.amount == amount and type(txn.amount) is int


@SETTINGS
@given(text=decimal_text)
def test_any_decimal_string(client, text):
    minor = expected_minor(text)
    txn = client.get_transaction(client.create_transaction(text, NOW))
    assert txn.amount == minor
    with ledgerd.Client(client.endpoints[0], amounts="decimal") as dec:
        again = dec.get_transaction(dec.create_transaction(Decimal(text), NOW))
        assert again.amount == Decimal(text) and again.amount.as_tuple().exponent == -2


@SETTINGS
@given(when=aware)
def test_any_aware_datetime(client, when):
    batch = Batch()
    made = batch.create_transaction(1, when)
    batch.get_transaction(made)
    client.submit(batch)
    back = batch.results[1]["row"].occurred_at
    assert back == when and back.utcoffset() == when.utcoffset()
    assert back.replace(tzinfo=None) == when.replace(tzinfo=None)     # the wall clock it was written in
    found = list(client.transactions(from_=when, to=when + timedelta(microseconds=1)))
    assert made.id in [t.id for t in found]


@given(when=aware)
@settings(max_examples=300, deadline=None, database=None)
def test_encode_decode_offline(when):
    assert decode_time(encode_time(when)) == when

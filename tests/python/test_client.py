"""Every op through the Python API, against the real worker."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

import ledgerd
from ledgerd import Batch

PLUS1 = timezone(timedelta(hours=1))


def at(day: int, hour: int = 12, tz: timezone = timezone.utc) -> datetime:
    return datetime(2025, 1, day, hour, tzinfo=tz)


def test_every_op_in_one_batch_with_refs(client, unique):
    with client.batch() as b:
        food = b.create_category(f"{unique}-Food")
        groceries = b.create_category(f"{unique}-Groceries", parent=food)
        t1 = b.create_transaction("-12.34", at(2, 10, PLUS1), description="Market", category=groceries)
        t2 = b.create_transaction(Decimal("7"), at(3), category=f"{unique}-Food")
        b.update_transaction(t2, description="Tip", category=None)
        b.update_category(groceries, name=f"{unique}-Supermarket")
        got = b.get_transaction(t1)
        by_name = b.get_category(name=f"{unique}-Supermarket")
        listed = b.list_categories()
        b.query_transactions(categories=[food], include_subcategories=True)
        b.ping()
        b.stats()
    assert groceries.result == {"id": groceries.id}
    assert b.results[2] == {"id": t1.id} and t2.id > t1.id
    assert b.results[4] == {"changed": 1} and b.results[5] == {"changed": 1}
    row = got.result["row"]
    assert isinstance(row, ledgerd.Transaction)
    assert (row.amount, row.description, row.category_id) == (-1234, "Market", groceries.id)
    assert row.occurred_at == at(2, 10, PLUS1) and row.occurred_at.utcoffset() == timedelta(hours=1)
    assert by_name.result["row"] == ledgerd.Category(groceries.id, f"{unique}-Supermarket", food.id,
                                                    by_name.result["row"].version)
    assert {c.id for c in listed.result["rows"]} >= {food.id, groceries.id}
    assert [r.id for r in b.results[9]["rows"]] == [t1.id]     # t2 left Food when its category was cleared
    assert b.results[10]["pong"] is True and "batches_ok" in b.results[11]["stats"]
    assert b.result.key and b.result.key.startswith("py-")    # a writing batch is keyed

    assert client.get_transaction(t2.id).description == "Tip"
    assert client.delete_transaction(t2.id) == 1
    assert client.delete_transaction(t1.id) == 1
    assert client.delete_category(groceries.id) == 1
    assert client.update_category(food.id, name=f"{unique}-Eat") == 1
    assert client.get_category(f"{unique}-Eat").id == food.id
    with pytest.raises(ledgerd.NotFoundError):
        client.get_transaction(t1.id)


def test_helpers_and_read_batches_are_not_keyed(client, unique):
    cid = client.create_category(f"{unique}-c")
    tid = client.create_transaction(100, at(5), category=cid, external_id=f"{unique}-x", description="d")
    assert client.get_category(cid).name == f"{unique}-c"
    assert client.get_transaction(tid).external_id == f"{unique}-x"
    assert client.update_transaction(tid, amount="1.50", description=None) == 1
    txn = client.get_transaction(tid)
    assert (txn.amount, txn.description) == (150, None)
    batch = Batch()
    batch.get_transaction(tid)
    assert client.submit(batch).key is None
    again = client.submit(batch)        # the same read batch may be sent again
    assert again.ok and again.results[0]["row"].id == tid


def test_batch_scope_rolls_back_whole_batch(client, unique):
    with pytest.raises(ledgerd.NotFoundError) as caught:
        with client.batch() as b:
            b.create_category(f"{unique}-Rent")
            b.create_transaction("950.00", at(1), category=f"{unique}-Rent", external_id=f"{unique}-rent")
            b.get_transaction(2 ** 62)
    assert (caught.value.op, caught.value.field, caught.value.code) == (2, "id", "NOT_FOUND")
    assert b.result is not None and not b.result.ok
    names = {c.name for c in client.categories()}
    assert f"{unique}-Rent" not in names
    assert not [t for t in client.transactions() if t.external_id == f"{unique}-rent"]


def test_exception_in_block_sends_nothing(client, unique):
    with pytest.raises(RuntimeError):
        with client.batch() as b:
            b.create_category(f"{unique}-never")
            raise RuntimeError("caller's own error")
    assert b.result is None
    assert f"{unique}-never" not in {c.name for c in client.categories()}


def test_independent_mode_per_op_errors(client, unique):
    client.create_category(f"{unique}-Food")
    with client.batch(mode="independent") as b:
        dup = b.create_category(f"{unique}-Food")
        b.create_transaction(100, at(5), category=dup)
        b.create_transaction("1.234", at(5))
        ok = b.create_transaction("3.10", at(5), external_id=f"{unique}-ok")
    assert b.result.ok and b.result.failed == 3
    first, second, third, fourth = b.results
    assert isinstance(first, ledgerd.ConstraintError) and first.field == "name"
    assert isinstance(second, ledgerd.InvalidError) and second.code == "REF_FAILED"
    assert isinstance(third, ledgerd.InvalidError) and third.code == "AMOUNT_NOT_EXACT"
    assert fourth == {"id": ok.id}
    with pytest.raises(ledgerd.ConstraintError):
        _ = dup.id
    assert client.get_transaction(ok.id).amount == 310


def test_non_raising_form(client, unique):
    batch = Batch()
    batch.create_category(f"{unique}-a")
    batch.create_category(f"{unique}-a")
    result = client.submit(batch, raise_errors=False)
    assert not result.ok and not result.outcome_unknown and result.results == []
    assert isinstance(result.error, ledgerd.ConstraintError)
    assert (result.error.error_class, result.error.op, result.error.retryable) == ("constraint", 1, False)
    with client.batch(raise_errors=False) as b:
        b.get_category(name=f"{unique}-none")
    assert isinstance(b.result.error, ledgerd.NotFoundError) and b.result.error.field == "name"
    assert ledgerd.OperationResult is ledgerd.BatchResult


def test_error_classes_with_their_fields(client, unique, shared_worker):
    with pytest.raises(ledgerd.InvalidError) as invalid:
        client.create_transaction("1.", at(1))
    assert (invalid.value.code, invalid.value.field, invalid.value.op) == ("BAD_AMOUNT", "amount", 0)
    with pytest.raises(ledgerd.InvalidError) as naive:
        client.create_transaction(1, "2025-01-01T10:00:00")
    assert naive.value.code == "NAIVE_TIMESTAMP" and naive.value.field == "occurred_at"
    with pytest.raises(ledgerd.NotFoundError) as missing:
        client.create_transaction(1, at(1), category=f"{unique}-none")
    assert missing.value.field == "category" and missing.value.error_class == "not_found"
    cid = client.create_category(f"{unique}-used")
    client.create_transaction(1, at(1), category=cid)
    with pytest.raises(ledgerd.ConstraintError) as in_use:
        client.delete_category(cid)
    assert in_use.value.code == "CATEGORY_IN_USE" and "1 transaction" in in_use.value.message
    bad_key = Batch()
    bad_key.key = "k" * 200         # past the client's own check: the worker's
    bad_key.create_category(f"{unique}-k")
    with pytest.raises(ledgerd.ProtocolError) as protocol:
        client.submit(bad_key)
    assert (protocol.value.code, protocol.value.field, protocol.value.op) == ("BAD_KEY", "key", None)
    big = Batch()
    for n in range(1001):
        big.ping()
    with pytest.raises(ledgerd.TooLargeError) as too_large:
        client.submit(big)
    assert too_large.value.code == "TOO_MANY_OPS" and not too_large.value.retryable
    reused = Batch(key=f"{unique}-key")
    reused.create_category(f"{unique}-r1")
    client.submit(reused)
    other = Batch(key=f"{unique}-key")
    other.create_category(f"{unique}-r2")
    with pytest.raises(ledgerd.InvalidError) as key_reused:
        client.submit(other)
    assert key_reused.value.code == "KEY_REUSED"
    for exc in (invalid, missing, in_use, protocol, too_large):
        assert isinstance(exc.value, ledgerd.LedgerError) and exc.value.message


def test_unknown_class_keeps_retryable_flag():
    error = ledgerd.errors.error_from_wire({"class": "brand_new", "retryable": True, "op": None,
                                            "field": None, "code": "X", "message": "m"})
    assert type(error) is ledgerd.LedgerError and error.retryable and error.error_class == "brand_new"
    conflict = ledgerd.errors.error_from_wire({"class": "conflict", "retryable": False, "op": 0,
                                               "field": "expect_version", "code": "VERSION_MISMATCH",
                                               "message": "row 1 is at version 3"})
    assert isinstance(conflict, ledgerd.ConflictError) and conflict.field == "expect_version"


def test_types_refused_before_sending():
    batch = Batch()
    with pytest.raises(TypeError, match="Decimal"):
        batch.create_transaction(12.5, at(1))
    with pytest.raises(ValueError, match="naive"):
        batch.create_transaction(1, datetime(2025, 1, 1))
    with pytest.raises(TypeError):
        batch.create_transaction(1, date(2025, 1, 1))        # a date is no instant
    with pytest.raises(ValueError, match="two decimal"):
        batch.create_transaction(Decimal("1.234"), at(1))
    with pytest.raises(TypeError):
        batch.create_transaction(True, at(1))
    with pytest.raises(ValueError):
        batch.create_transaction(2 ** 63, at(1))
    with pytest.raises(ValueError, match="whole number of minutes"):
        batch.create_transaction(1, datetime(2025, 1, 1, tzinfo=timezone(timedelta(seconds=30))))
    with pytest.raises(ValueError):
        Batch(mode="fast")
    other = Batch()
    ref = other.create_category("x")
    with pytest.raises(ValueError, match="batch that made it"):
        batch.create_transaction(1, at(1), category=ref)
    assert len(batch) == 0
    with pytest.raises(ValueError):
        ledgerd.Client("")
    with pytest.raises(ValueError, match="window"):
        next(ledgerd.Client("tcp://127.0.0.1:1").submit_many([other], window=1000))


def test_transactions_iterator_pages_lazily(client, unique):
    batch = Batch()
    for n in range(25):
        batch.create_transaction(n, at(1 + n % 28), external_id=f"{unique}-{n}", description=unique)
    client.submit(batch)
    sent = []
    real = client.submit

    def counting(b, **kw):
        sent.append(b.ops[0])
        return real(b, **kw)
    client.submit = counting
    rows = client.transactions(from_=date(2025, 1, 1), to=date(2025, 2, 1), min_amount=0, max_amount=24,
                               page_size=10)
    assert sent == []               # nothing is asked before the first row is wanted
    first = next(rows)
    assert len(sent) == 1 and sent[0]["limit"] == 10 and sent[0]["from"] == "2025-01-01"
    mine = [first] + [r for r in rows]
    mine = [r for r in mine if r.description == unique]
    assert sorted(r.amount for r in mine) == list(range(25))
    assert [r.occurred_at for r in mine] == sorted(r.occurred_at for r in mine)
    assert len(sent) >= 3 and all(s.get("after") for s in sent[1:])


def test_amounts_as_decimal(shared_worker, unique):
    with ledgerd.Client(shared_worker.endpoint, amounts="decimal") as client:
        tid = client.create_transaction("-12.34", at(1), external_id=f"{unique}-d")
        row = client.get_transaction(tid)
        assert row.amount == Decimal("-12.34") and isinstance(row.amount, Decimal)
        frame = client.dataframe(min_amount="-12.34", max_amount="-12.34")
        assert frame["amount"].dtype == object and Decimal("-12.34") in list(frame["amount"])


def test_dataframe_columns_and_dtypes(client, unique):
    cid = client.create_category(f"{unique}-df")
    client.create_transaction(-500, at(4, 9, PLUS1), category=cid, description="a")
    client.create_transaction(250, at(5), category=cid)
    frame = client.dataframe(categories=[cid])
    assert list(frame.columns) == ["id", "amount", "occurred_at", "description", "category_id", "created_at",
                                   "updated_at", "external_id", "version"]
    assert str(frame["id"].dtype) == "int64" and str(frame["amount"].dtype) == "int64"
    assert str(frame["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["category_id"].dtype) == "Int64" and str(frame["version"].dtype) == "Int64"
    assert frame["amount"].tolist() == [-500, 250]
    assert frame["description"].tolist() == ["a", None]
    assert frame["occurred_at"].iloc[0].isoformat() == "2025-01-04T08:00:00+00:00"
    empty = client.dataframe(categories=[cid], min_amount=10 ** 6)
    assert len(empty) == 0 and list(empty.columns) == list(frame.columns)


def test_dataframe_without_pandas_says_so(client, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="needs pandas"):
        client.dataframe()


def test_endpoints_list_or_comma_string_fail_over(shared_worker, unique):
    dead = "tcp://127.0.0.1:1"
    with ledgerd.Client(f"{dead},{shared_worker.endpoint}", timeout=0.3, retries=2) as client:
        assert client.endpoints == [dead, shared_worker.endpoint]
        cid = client.create_category(f"{unique}-fo")      # the first endpoint is silent: the second answers
        assert client.endpoints[0] == shared_worker.endpoint
    with ledgerd.Client([shared_worker.endpoint]) as client:
        assert client.get_category(cid).id == cid


def test_busy_error_when_another_process_holds_the_lock(start_worker):
    worker = start_worker("--busy-timeout-ms", "50")
    holder = sqlite3.connect(worker.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with ledgerd.Client(worker.endpoint, retries=0) as client:
            with pytest.raises(ledgerd.BusyError) as busy:
                client.create_category("locked")
        assert busy.value.retryable and busy.value.code.startswith("SQLITE_BUSY")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with ledgerd.Client(worker.endpoint) as client:
        assert client.create_category("locked") > 0


def test_storage_io_error_when_the_database_is_removed(start_worker):
    import os
    worker = start_worker()
    os.remove(worker.db)
    with ledgerd.Client(worker.endpoint, retries=0) as client:
        with pytest.raises(ledgerd.StorageIOError) as io:
            client.create_category("gone")
    assert (io.value.error_class, io.value.code, io.value.retryable) == ("io", "DATABASE_MOVED", True)
    assert not issubclass(ledgerd.StorageIOError, OSError)

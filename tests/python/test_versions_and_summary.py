"""Row versions with expect_version (class conflict), and txn.summary.

These need the worker side of issue 10 (row versions; txn.summary): on a
worker without it they fail with UNKNOWN_FIELD / UNKNOWN_OP, or a row
without a version.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

import ledgerd
from conftest import LEDGERCTL, ROOT
from ledgerd import Batch
from ledgerd.values import INT64_MAX

UTC = timezone.utc


# --- row versions ---------------------------------------------------------------

def test_category_versions_and_conflict(client, unique):
    cid = client.create_category(f"{unique}-v")
    assert client.get_category(cid).version == 1
    assert client.update_category(cid, name=f"{unique}-v2") == 1
    assert client.get_category(cid).version == 2
    with pytest.raises(ledgerd.ConflictError) as stale:
        client.update_category(cid, name=f"{unique}-v3", expect_version=1)
    error = stale.value
    assert (error.error_class, error.code, error.field, error.op, error.retryable) == \
        ("conflict", "VERSION_MISMATCH", "expect_version", 0, False)
    assert "2" in error.message                         # names the current version
    assert client.get_category(cid).name == f"{unique}-v2"
    assert client.update_category(cid, name=f"{unique}-v3", expect_version=2) == 1
    listed = {c.id: c for c in client.categories()}
    assert listed[cid].version == 3
    with pytest.raises(ledgerd.ConflictError):
        client.delete_category(cid, expect_version=2)
    assert client.delete_category(cid, expect_version=3) == 1


def test_transaction_versions_and_conflict(client, unique):
    when = datetime(2025, 5, 1, 8, tzinfo=UTC)
    tid = client.create_transaction(100, when, external_id=f"{unique}-t")
    assert client.get_transaction(tid).version == 1
    client.update_transaction(tid, amount=200)
    with pytest.raises(ledgerd.ConflictError) as stale:
        client.update_transaction(tid, amount=300, expect_version=1)
    assert stale.value.code == "VERSION_MISMATCH" and stale.value.field == "expect_version"
    assert client.get_transaction(tid).amount == 200
    assert client.update_transaction(tid, amount=300, expect_version=2) == 1
    row = [t for t in client.transactions(from_=when, to=when + timedelta(seconds=1)) if t.id == tid][0]
    assert (row.amount, row.version) == (300, 3)
    frame = client.dataframe(from_=when, to=when + timedelta(seconds=1))
    assert 3 in frame["version"].tolist()
    with pytest.raises(ledgerd.ConflictError):
        client.delete_transaction(tid, expect_version=1)
    assert client.delete_transaction(tid, expect_version=3) == 1


def test_conflict_rolls_back_atomic_batch_and_is_per_op_in_independent(client, unique):
    when = datetime(2025, 5, 2, tzinfo=UTC)
    tid = client.create_transaction(1, when, external_id=f"{unique}-a")
    with pytest.raises(ledgerd.ConflictError) as caught:
        with client.batch() as b:
            b.create_category(f"{unique}-never")
            b.update_transaction(tid, amount=2, expect_version=7)
    assert caught.value.op == 1
    assert f"{unique}-never" not in [c.name for c in client.categories()]
    with client.batch(mode="independent") as b:
        b.update_transaction(tid, amount=5, expect_version=9)
        b.update_transaction(tid, amount=6, expect_version=1)
    assert isinstance(b.results[0], ledgerd.ConflictError) and b.results[1] == {"changed": 1}
    assert client.get_transaction(tid).version == 2


def test_keyed_replay_with_expect_version(client, unique):
    tid = client.create_transaction(1, datetime(2025, 5, 3, tzinfo=UTC), external_id=f"{unique}-r")
    batch = Batch(key=f"{unique}-replay")
    batch.update_transaction(tid, amount=10, expect_version=1)
    assert client.submit(batch).ok
    again = client.submit(batch)
    assert again.ok and again.replayed            # not a conflict: the stored reply
    assert client.get_transaction(tid).version == 2


# --- txn.summary --------------------------------------------------------------------

def label(when: datetime, period: str, offset: timedelta) -> str:
    local = when.astimezone(timezone(offset))
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        iso = local.isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    return f"{local.year:04d}"


def expected(rows, by, period=None, offset=timedelta(0), rollup=False, parents=None):
    """{(category_id, period): (count, total, min, max)} computed here."""
    groups = defaultdict(list)
    for txn in rows:
        periods = [label(txn.occurred_at, period, offset)] if by in ("period", "both") else [None]
        if by in ("category", "both"):
            cats = [txn.category_id]
            if rollup and txn.category_id is not None:
                cats = []
                node = txn.category_id
                while node is not None:
                    cats.append(node)
                    node = parents[node]
        else:
            cats = [None]
        for cat in cats:
            for p in periods:
                groups[(cat, p)].append(txn.amount)
    return {k: (len(v), sum(v), min(v), max(v)) for k, v in groups.items()}


def got(rows):
    result = {(r.category_id, r.period): (r.count, r.total, r.min, r.max) for r in rows}
    assert len(result) == len(rows)
    return result


@pytest.fixture(scope="module")
def summary_ledger(tmp_path_factory):
    """A worker of its own with a category tree and 300 transactions around
    month and ISO-week boundaries, written with assorted offsets."""
    from conftest import Worker
    worker = Worker(str(tmp_path_factory.mktemp("summary")), []).start()
    rng = random.Random(10)
    with ledgerd.Client(worker.endpoint) as client:
        with client.batch() as b:
            food = b.create_category("Food")
            groceries = b.create_category("Groceries", parent=food)
            b.create_category("Organic", parent=groceries)
            b.create_category("Rent")
        cats = [c.id for c in client.categories()]
        parents = {c.id: c.parent_id for c in client.categories()}
        batch = Batch()
        start = datetime(2024, 12, 27, tzinfo=UTC)
        for n in range(300):
            when = start + timedelta(minutes=rng.randrange(0, 70 * 24 * 60))
            written = when.astimezone(timezone(timedelta(minutes=rng.choice([-300, 0, 60, 330]))))
            batch.create_transaction(rng.randrange(-50000, 20000), written,
                                     category=rng.choice(cats + [None]))
        # Right at the boundaries in +05:30 (18:30Z is local midnight).
        for when in ("2025-01-31T18:29:59Z", "2025-01-31T18:30:00Z", "2025-02-02T18:29:59Z",
                     "2025-02-02T18:30:00Z", "2024-12-29T18:30:00Z", "2024-12-31T18:30:00Z"):
            batch.create_transaction(1000, when, category=cats[0])
        client.submit(batch)
        rows = list(client.transactions())
    yield worker, rows, parents
    worker.stop()


@pytest.mark.parametrize("period", ["day", "week", "month", "year"])
@pytest.mark.parametrize("offset", ["Z", "+05:30", "-03:00"])
def test_summary_by_period_and_both(summary_ledger, period, offset):
    worker, rows, parents = summary_ledger
    delta = timedelta(0) if offset == "Z" else \
        (1 if offset[0] == "+" else -1) * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    with ledgerd.Client(worker.endpoint) as client:
        by_period = client.summary(by="period", period=period, offset=offset)
        assert got(by_period) == expected(rows, "period", period, delta)
        assert [r.period for r in by_period] == sorted(r.period for r in by_period)
        both = client.summary(by="both", period=period, offset=offset)
        assert got(both) == expected(rows, "both", period, delta)
        assert [r.period for r in both] == sorted(r.period for r in both)


def test_summary_boundaries_in_offset(summary_ledger):
    worker, _, _ = summary_ledger
    with ledgerd.Client(worker.endpoint) as client:
        months = {r.period for r in client.summary(by="period", period="month", offset="+05:30",
                                                   from_="2025-01-31T18:29:59Z", to="2025-01-31T18:30:01Z")}
        assert months == {"2025-01", "2025-02"}
        weeks = {r.period for r in client.summary(by="period", period="week", offset=timedelta(hours=5, minutes=30),
                                                  from_="2025-02-02T18:29:59Z", to="2025-02-02T18:30:01Z")}
        assert weeks == {"2025-W05", "2025-W06"}
        new_year = client.summary(by="period", period="week", offset="+05:30",
                                  from_="2024-12-29T18:30:00Z", to="2024-12-29T18:30:01Z")
        assert [r.period for r in new_year] == ["2025-W01"]       # Monday 30 December, local


def test_summary_by_category_with_rollup_and_filters(summary_ledger):
    worker, rows, parents = summary_ledger
    with ledgerd.Client(worker.endpoint) as client:
        assert got(client.summary()) == expected(rows, "category")
        assert got(client.summary(by="category", rollup=True)) == \
            expected(rows, "category", rollup=True, parents=parents)
        low, high = -20000, 5000
        start, end = datetime(2025, 1, 10, tzinfo=UTC), datetime(2025, 2, 10, tzinfo=UTC)
        chosen = [r for r in rows if low <= r.amount <= high and start <= r.occurred_at < end]
        filtered = client.summary(by="category", from_=start, to=end, min_amount=low, max_amount=high)
        assert got(filtered) == expected(chosen, "category")
        food = [c for c, p in parents.items() if p is None][0]
        subtree = {food} | {c for c in parents if parents[c] == food} | \
            {c for c in parents if parents.get(parents[c]) == food}
        mine = [r for r in rows if r.category_id in subtree]
        assert got(client.summary(by="period", period="year", categories=[food], include_subcategories=True)) \
            == expected(mine, "period", "year")
    with ledgerd.Client(worker.endpoint, amounts="decimal") as client:
        dec = client.summary(by="period", period="year")
        assert sum(r.total for r in dec) == sum(r.amount for r in rows) / ledgerd.values.Decimal(100)
        frame = client.summary_dataframe(by="both", period="month")
        assert list(frame.columns) == ["category_id", "period", "count", "total", "min", "max"]
        assert str(frame["count"].dtype) == "int64" and str(frame["category_id"].dtype) == "Int64"


def test_summary_overflow_is_invalid(start_worker):
    worker = start_worker()
    with ledgerd.Client(worker.endpoint) as client:
        when = datetime(2025, 1, 1, tzinfo=UTC)
        client.create_transaction(INT64_MAX, when)
        client.create_transaction(INT64_MAX, when)
        with pytest.raises(ledgerd.InvalidError) as overflow:
            client.summary(by="period", period="month")
        assert overflow.value.op == 0 and overflow.value.code != "UNKNOWN_OP"
        with pytest.raises(ledgerd.InvalidError) as no_period:
            client.summary(by="category", period="month")     # period without a period grouping
        assert no_period.value.field == "period"
        # Up to the limit, the total is exact.
        big = client.create_category("big")
        client.create_transaction(INT64_MAX - 1, when, category=big)
        client.create_transaction(1, when, category=big)
        (row,) = client.summary(by="category", categories=[big])
        assert (row.category_id, row.count, row.total, row.min, row.max) == (big, 2, INT64_MAX, 1, INT64_MAX - 1)


def test_monthly_report_prints_table_and_png(start_worker, tmp_path):
    worker = start_worker()
    imported = subprocess.run([LEDGERCTL, "--endpoint", worker.endpoint, "import",
                               str(ROOT / "examples" / "sample.csv"), "--create-categories"],
                              capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    png = tmp_path / "out.png"
    report = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "monthly_report.py"),
                             "--endpoint", worker.endpoint, "--png", str(png)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "2025-01" in report.stdout and "Food" in report.stdout and "Rent" in report.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

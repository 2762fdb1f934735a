#!/usr/bin/env python3
"""Import a bank-statement CSV into ledgerd, in keyed batches.

    python3 examples/python/import_statement.py examples/sample.csv --create-categories

Columns as `ledgerctl import` reads them (any case): date/occurred_at/time/
timestamp, amount, description/desc/memo, category, external_id. Every row is
sent with an external_id -- the file's own, or the same digest ledgerctl
makes of the row (date, amount, description and its occurrence among
identical rows) -- and if_absent, so a row already in the ledger is never
added again, whichever tool imported it. Each batch's idempotency key is made
of the file's digest, the batch size and the batch number, so re-running the
import after an interruption is answered from the worker's log.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "client" / "python"))  # run from the tree
import ledgerd  # noqa: E402
from ledgerd.values import decode_time  # noqa: E402

COLUMNS = {"date": "time", "occurred_at": "time", "time": "time", "timestamp": "time", "amount": "amount",
           "description": "description", "desc": "description", "memo": "description",
           "category": "category", "external_id": "external_id"}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Row:
    def __init__(self, line: int, when: datetime, amount: int, description: Optional[str],
                 category: Optional[str], external_id: Optional[str]) -> None:
        self.line, self.when, self.amount = line, when, amount
        self.description, self.category, self.external_id = description, category, external_id


def parse_time(text: str, line: int) -> datetime:
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    try:
        return decode_time(text[:10] + "T" + text[11:].upper() if len(text) > 10 else text)
    except ValueError:
        raise SystemExit(f"line {line}: date {text!r} is not YYYY-MM-DD or RFC 3339 with an offset")


def parse_amount(text: str, line: int) -> int:
    digits = text[1:] if text.startswith("+") and not text.startswith("+-") else text
    try:
        minor = Decimal(digits).scaleb(2)
    except InvalidOperation:
        raise SystemExit(f"line {line}: amount {text!r} is not a decimal number like -12.34")
    if minor != minor.to_integral_value():
        raise SystemExit(f"line {line}: amount {text!r} has more than two decimals")
    return int(minor)


def read_rows(data: bytes) -> List[Row]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader, None)
    if not header:
        raise SystemExit("the file is empty: expected a header row (date,amount,description,category)")
    index: Dict[str, int] = {}
    for n, name in enumerate(header):
        column = COLUMNS.get(name.strip().lower())
        if column:
            index[column] = n
    if "time" not in index or "amount" not in index:
        raise SystemExit("the header needs a date and an amount column")
    rows = []
    for record in reader:
        line = reader.line_num
        value = {c: record[i].strip() if i < len(record) else "" for c, i in index.items()}
        rows.append(Row(line, parse_time(value["time"], line), parse_amount(value["amount"], line),
                        value.get("description") or None, value.get("category") or None,
                        value.get("external_id") or None))
    name_rows(rows)
    return rows


def name_rows(rows: List[Row]) -> None:
    """external_id = ledgerctl's digest for rows without one (import_rows.c)."""
    seen: Dict[str, int] = {}
    for row in rows:
        if row.external_id:
            continue
        offset = row.when.utcoffset()
        micros = (row.when - EPOCH) // timedelta(microseconds=1)
        identity = f"{micros}|{int(offset.total_seconds()) // 60}|{row.amount}|{row.description or ''}"
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        digest = hashlib.sha1(f"{identity}|{occurrence}".encode()).hexdigest().upper()
        row.external_id = f"row-sha1:{digest}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="the statement (CSV with a header row)")
    parser.add_argument("--endpoint", default=os.environ.get("LEDGER_ENDPOINT", "tcp://127.0.0.1:5555"))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--create-categories", action="store_true", help="create categories the file names")
    args = parser.parse_args()
    data = Path(args.csv).read_bytes()
    rows = read_rows(data)
    prefix = f"py-import-{hashlib.sha1(data).hexdigest()[:32]}-{args.batch_size}-"
    added = already = 0
    with ledgerd.Client(args.endpoint) as client:
        if args.create_categories:
            known = {c.name for c in client.categories()}
            missing = sorted({r.category for r in rows if r.category and r.category not in known})
            if missing:
                with client.batch() as b:
                    for name in missing:
                        b.create_category(name)
        batches = []
        for first in range(0, len(rows), args.batch_size):
            batch = ledgerd.Batch(key=f"{prefix}{first // args.batch_size}")
            for row in rows[first:first + args.batch_size]:
                batch.create_transaction(row.amount, row.when, description=row.description,
                                         category=row.category, external_id=row.external_id, if_absent=True)
            batches.append(batch)
        for batch, result in zip(batches, client.submit_many(batches, window=8)):
            if not result.ok:
                print(f"{args.csv}: {result.error}", file=sys.stderr)
                return 1
            for entry in result.results:
                # A batch answered from the log was applied by an earlier run.
                if result.replayed and result.tries == 1 or entry.get("existed"):
                    already += 1
                else:
                    added += 1
    print(f"{args.csv}: {len(rows)} rows, {added} new, {already} already in the ledger; "
          f"{len(batches)} batch{'es' if len(batches) != 1 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Spending per category per month, from ledgerd's txn.summary.

    python3 examples/python/monthly_report.py [--from 2025-01-01] [--to 2026-01-01]
                                              [--offset +01:00] [--png out.png]

Prints one line per month and category with the category's name; with
--png (and matplotlib installed) also writes a stacked bar chart of the
monthly totals.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "client" / "python"))  # run from the tree
import ledgerd  # noqa: E402


def table(rows: List[ledgerd.SummaryRow], names: Dict[int, str]) -> str:
    lines = [f"{'month':<8} {'category':<24} {'count':>6} {'total':>12}"]
    for row in rows:
        name = names.get(row.category_id, "(none)") if row.category_id is not None else "(none)"
        lines.append(f"{row.period:<8} {name[:24]:<24} {row.count:>6} {row.total:>12}")
    return "\n".join(lines)


def chart(rows: List[ledgerd.SummaryRow], names: Dict[int, str], path: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--png needs matplotlib, which is not installed: apt install python3-matplotlib, "
                         "or pip install 'ledgerd[plot]'")
    months = sorted({row.period for row in rows})
    totals: Dict[str, Dict[str, float]] = defaultdict(dict)
    for row in rows:
        name = names.get(row.category_id, "(none)") if row.category_id is not None else "(none)"
        totals[name][row.period] = float(row.total)
    figure, axes = plt.subplots(figsize=(max(6, len(months) * 1.2), 5))
    below_pos = [0.0] * len(months)
    below_neg = [0.0] * len(months)
    for name, by_month in sorted(totals.items()):
        values = [by_month.get(m, 0.0) for m in months]
        bottoms = [below_pos[i] if v >= 0 else below_neg[i] for i, v in enumerate(values)]
        axes.bar(months, values, bottom=bottoms, label=name)
        for i, v in enumerate(values):
            if v >= 0:
                below_pos[i] += v
            else:
                below_neg[i] += v
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_ylabel("total")
    axes.set_title("Per category per month")
    axes.legend(fontsize="small", ncol=2)
    figure.tight_layout()
    figure.savefig(path)


def main() -> int:
    parser = argparse.ArgumentParser(description="spending per category per month")
    parser.add_argument("--endpoint", default=os.environ.get("LEDGER_ENDPOINT", "tcp://127.0.0.1:5555"))
    parser.add_argument("--from", dest="from_", type=date.fromisoformat, help="first day (UTC), inclusive")
    parser.add_argument("--to", type=date.fromisoformat, help="last day (UTC), exclusive")
    parser.add_argument("--offset", default="Z", help="the wall clock months start in: Z or +hh:mm")
    parser.add_argument("--png", help="also write a bar chart to this file (needs matplotlib)")
    args = parser.parse_args()
    try:
        with ledgerd.Client(args.endpoint, amounts="decimal") as client:
            rows = client.summary(by="both", period="month", offset=args.offset, from_=args.from_, to=args.to)
            names = {c.id: c.name for c in client.categories()}
    except (ledgerd.LedgerError, ledgerd.OutcomeUnknown) as error:
        print(f"monthly_report: {error}", file=sys.stderr)
        return 1
    print(table(rows, names))
    if args.png:
        chart(rows, names, args.png)
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""pandas DataFrames of rows (pandas is optional: ``pip install 'ledgerd[pandas]'``)."""

from __future__ import annotations

from typing import Any, Iterable, List

from .values import SummaryRow, Transaction

TRANSACTION_COLUMNS = ["id", "amount", "occurred_at", "description", "category_id", "created_at",
                       "updated_at", "external_id", "version"]
SUMMARY_COLUMNS = ["category_id", "period", "count", "total", "min", "max"]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("ledgerd's dataframe() needs pandas, which is not installed: "
                          "apt install python3-pandas, or pip install 'ledgerd[pandas]'") from exc
    return pandas


def _instants(pd: Any, values: List[Any]) -> Any:
    """UTC datetime64 when every instant fits pandas' range (1677-2262);
    otherwise the aware datetimes themselves (dtype object), never a loss."""
    try:
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
        return pd.Series(values, dtype=object)


def _amounts(pd: Any, values: List[Any]) -> Any:
    if values and not isinstance(values[0], int):
        return pd.Series(values, dtype=object)     # Decimal: exact, so object
    return pd.Series(values, dtype="int64")


def transactions_frame(rows: Iterable[Transaction]) -> Any:
    """Columns: id int64; amount int64 minor units (object of Decimal when the
    client reads amounts as Decimal); occurred_at, created_at, updated_at
    datetime64[ns, UTC] (occurred_at's written offset is in the rows, not the
    frame); description, external_id object (None when unset); category_id
    and version Int64 (nullable)."""
    pd = _pandas()
    rows = list(rows)
    data = {
        "id": pd.Series([r.id for r in rows], dtype="int64"),
        "amount": _amounts(pd, [r.amount for r in rows]),
        "occurred_at": _instants(pd, [r.occurred_at for r in rows]),
        "description": pd.Series([r.description for r in rows], dtype=object),
        "category_id": pd.Series([r.category_id for r in rows], dtype="Int64"),
        "created_at": _instants(pd, [r.created_at for r in rows]),
        "updated_at": _instants(pd, [r.updated_at for r in rows]),
        "external_id": pd.Series([r.external_id for r in rows], dtype=object),
        "version": pd.Series([r.version for r in rows], dtype="Int64"),
    }
    return pd.DataFrame(data, columns=TRANSACTION_COLUMNS)


def summary_frame(rows: Iterable[SummaryRow]) -> Any:
    """Columns: category_id Int64 (nullable), period object (str or None),
    count int64, total/min/max int64 (object of Decimal when the client reads
    amounts as Decimal)."""
    pd = _pandas()
    rows = list(rows)
    data = {
        "category_id": pd.Series([r.category_id for r in rows], dtype="Int64"),
        "period": pd.Series([r.period for r in rows], dtype=object),
        "count": pd.Series([r.count for r in rows], dtype="int64"),
        "total": _amounts(pd, [r.total for r in rows]),
        "min": _amounts(pd, [r.min for r in rows]),
        "max": _amounts(pd, [r.max for r in rows]),
    }
    return pd.DataFrame(data, columns=SUMMARY_COLUMNS)

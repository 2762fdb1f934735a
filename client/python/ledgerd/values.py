"""Values on the wire, exactly: amounts, instants, rows.

Amounts are integer minor units (cents). They are sent from ``int`` (minor
units), :class:`decimal.Decimal` or ``str`` (major units, at most two
places) and never from ``float``. Instants are sent from timezone-aware
:class:`datetime.datetime` (query bounds also take :class:`datetime.date`)
and come back as aware datetimes in the offset they were written with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, Dict, Mapping, Optional, Union

__all__ = ["Amount", "Category", "Transaction", "SummaryRow", "encode_amount", "decode_amount",
           "encode_time", "decode_time", "encode_offset", "INT64_MIN", "INT64_MAX"]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

#: What an amount may be given as.
Amount = Union[int, Decimal, str]


def encode_amount(value: Any, field: str = "amount") -> Union[int, str]:
    """The wire form of an amount: ``int`` minor units as they are, a
    ``Decimal`` of major units as exact minor units, a ``str`` unchanged
    (the worker checks it: ``"-12.34"``, ``"7"``).

    >>> encode_amount(Decimal("-12.34"))
    -1234
    """
    if isinstance(value, bool):
        raise TypeError(f"{field} must be an int (minor units), a Decimal or a str, not bool")
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{field} {value} does not fit in 64-bit minor units")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{field} {value} is not a finite number")
        minor = value.scaleb(2)
        if minor != minor.to_integral_value():
            raise ValueError(f"{field} {value} has more than two decimal places: not exact in minor units")
        return encode_amount(int(minor), field)
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        raise TypeError(f"{field} must not be a float (floats are not exact money): use decimal.Decimal"
                        f"({str(value)!r}), a str, or int minor units")
    raise TypeError(f"{field} must be an int (minor units), a decimal.Decimal or a str, "
                    f"not {type(value).__name__}")


def decode_amount(minor: int, as_decimal: bool) -> Union[int, Decimal]:
    """Minor units from the wire, as ``int`` or as a ``Decimal`` of major units."""
    return Decimal(minor).scaleb(-2) if as_decimal else minor


def _offset_text(offset: timedelta, what: str) -> str:
    if offset % timedelta(minutes=1):
        raise ValueError(f"{what}: UTC offset {offset} is not a whole number of minutes")
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    if hours > 23:
        raise ValueError(f"{what}: UTC offset {offset} is beyond ±23:59")
    return f"{sign}{hours:02d}:{mins:02d}"


def encode_time(value: Any, field: str = "occurred_at", allow_date: bool = False) -> str:
    """RFC 3339 text for an aware datetime, in its own offset.

    ``str`` is passed through (the worker checks it); with ``allow_date``
    (query bounds) a :class:`datetime.date` is that day's midnight UTC.

    >>> encode_time(datetime(2025, 1, 2, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    '2025-01-02T10:00:00+01:00'
    """
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            raise ValueError(f"{field}: naive datetime {value.isoformat()} has no UTC offset; give it a "
                             f"tzinfo (e.g. datetime(..., tzinfo=timezone.utc)): the ledger keeps the offset")
        text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
                f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
        if value.microsecond:
            text += f".{value.microsecond:06d}"
        return text + _offset_text(offset, field)
    if isinstance(value, date):
        if not allow_date:
            raise TypeError(f"{field} needs an instant: a timezone-aware datetime, not a date")
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, str):
        return value
    raise TypeError(f"{field} must be a timezone-aware datetime{', a date' if allow_date else ''} or "
                    f"an RFC 3339 str, not {type(value).__name__}")


def encode_offset(value: Any) -> str:
    """A summary's ``offset``: "Z", "±hh:mm", a timedelta or a fixed tzinfo."""
    if isinstance(value, str):
        return value
    if isinstance(value, timedelta):
        return _offset_text(value, "offset")
    if isinstance(value, tzinfo):
        offset = value.utcoffset(None)
        if offset is None:
            raise ValueError("offset: this tzinfo has no fixed offset; give a timedelta or '+01:00'")
        return _offset_text(offset, "offset")
    raise TypeError(f"offset must be a str like '+01:00', a timedelta or a tzinfo, not {type(value).__name__}")


_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)\Z")


def decode_time(text: str) -> datetime:
    """An aware datetime from the worker's output form, in its written offset."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"not a ledgerd timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(1, 7))
    micro = int((match.group(7) or "0").ljust(6, "0"))
    zone = match.group(8)
    if zone == "Z":
        tz: tzinfo = timezone.utc
    else:
        minutes = int(zone[1:3]) * 60 + int(zone[4:6])
        tz = timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


@dataclass(frozen=True)
class Category:
    """A category row. ``version`` is None from a worker without row versions."""
    id: int
    name: str
    parent_id: Optional[int]
    version: Optional[int] = None

    @classmethod
    def from_wire(cls, row: Mapping[str, Any]) -> "Category":
        return cls(row["id"], row["name"], row.get("parent_id"), row.get("version"))


@dataclass(frozen=True)
class Transaction:
    """A transaction row: ``amount`` as int minor units or Decimal (the
    client's choice), times as aware datetimes (``occurred_at`` in the
    offset it was written with, the others UTC)."""
    id: int
    amount: Union[int, Decimal]
    occurred_at: datetime
    description: Optional[str]
    category_id: Optional[int]
    created_at: datetime
    updated_at: datetime
    external_id: Optional[str] = None
    version: Optional[int] = None

    @classmethod
    def from_wire(cls, row: Mapping[str, Any], as_decimal: bool) -> "Transaction":
        return cls(row["id"], decode_amount(row["amount"], as_decimal), decode_time(row["occurred_at"]),
                   row.get("description"), row.get("category_id"), decode_time(row["created_at"]),
                   decode_time(row["updated_at"]), row.get("external_id"), row.get("version"))


@dataclass(frozen=True)
class SummaryRow:
    """One row of ``txn.summary``: a category (None: uncategorised, or not
    grouped by category), a period label ("2025-01", "2025-W05", "2025-01-31",
    "2025"; None when not grouped by period), and count/total/min/max."""
    category_id: Optional[int]
    period: Optional[str]
    count: int
    total: Union[int, Decimal]
    min: Union[int, Decimal]
    max: Union[int, Decimal]

    @classmethod
    def from_wire(cls, row: Mapping[str, Any], as_decimal: bool) -> "SummaryRow":
        return cls(row.get("category_id"), row.get("period"), row["count"],
                   decode_amount(row["total"], as_decimal), decode_amount(row["min"], as_decimal),
                   decode_amount(row["max"], as_decimal))


def as_dict(row: Any) -> Dict[str, Any]:
    """A row dataclass as a plain dict (for DataFrames and JSON)."""
    return dict(row.__dict__)

"""The calls both clients offer, as a batch to send and a function that
reads its result: written once, awaited or not by each client."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .batch import UNSET, Batch, BatchResult
from .values import Category, SummaryRow, Transaction

Plan = Tuple[Batch, Callable[[BatchResult], Any]]


def _first(result: BatchResult) -> Dict[str, Any]:
    return result.results[0]


def create_category(name: str, parent: Any) -> Plan:
    batch = Batch()
    batch.create_category(name, parent)
    return batch, lambda r: int(_first(r)["id"])


def get_category(id_or_name: Any) -> Plan:
    batch = Batch()
    if isinstance(id_or_name, str):
        batch.get_category(name=id_or_name)
    else:
        batch.get_category(id_or_name)
    return batch, lambda r: _first(r)["row"]


def update_category(id: Any, name: Any, parent: Any, expect_version: Optional[int]) -> Plan:
    batch = Batch()
    batch.update_category(id, name=name, parent=parent, expect_version=expect_version)
    return batch, lambda r: int(_first(r)["changed"])


def delete_category(id: Any, expect_version: Optional[int]) -> Plan:
    batch = Batch()
    batch.delete_category(id, expect_version=expect_version)
    return batch, lambda r: int(_first(r)["changed"])


def categories() -> Plan:
    batch = Batch()
    batch.list_categories()
    return batch, lambda r: list(_first(r)["rows"])


def create_transaction(amount: Any, occurred_at: Any, kwargs: Dict[str, Any]) -> Plan:
    batch = Batch()
    batch.create_transaction(amount, occurred_at, **kwargs)
    return batch, lambda r: int(_first(r)["id"])


def get_transaction(id: Any) -> Plan:
    batch = Batch()
    batch.get_transaction(id)
    return batch, lambda r: _first(r)["row"]


def update_transaction(id: Any, changes: Dict[str, Any], expect_version: Optional[int]) -> Plan:
    batch = Batch()
    batch.update_transaction(id, expect_version=expect_version, **changes)
    return batch, lambda r: int(_first(r)["changed"])


def delete_transaction(id: Any, expect_version: Optional[int]) -> Plan:
    batch = Batch()
    batch.delete_transaction(id, expect_version=expect_version)
    return batch, lambda r: int(_first(r)["changed"])


def query_page(filters: Dict[str, Any], page_size: int, after: Optional[str]) -> Plan:
    batch = Batch()
    batch.query_transactions(limit=page_size, after=after, **filters)
    return batch, lambda r: (list(_first(r)["rows"]), _first(r).get("next"))


def summary(kwargs: Dict[str, Any]) -> Plan:
    batch = Batch()
    batch.summary(**kwargs)
    return batch, lambda r: list(_first(r)["rows"])


def ping() -> Plan:
    batch = Batch()
    batch.ping()
    return batch, lambda r: str(_first(r).get("version", ""))


def stats() -> Plan:
    batch = Batch()
    batch.stats()
    return batch, lambda r: dict(_first(r)["stats"])


def changes(amount: Any, occurred_at: Any, description: Any, category: Any) -> Dict[str, Any]:
    """The fields of an update that were given."""
    given = {"amount": amount, "occurred_at": occurred_at, "description": description, "category": category}
    return {k: v for k, v in given.items() if v is not UNSET}


def check_window(window: int) -> None:
    from ._core import SOCKET_HWM
    if not 1 <= window < SOCKET_HWM:
        raise ValueError(f"window must be 1 to {SOCKET_HWM - 1}: at the socket's high-water mark "
                         f"({SOCKET_HWM}) the worker drops replies")


__all__ = ["Plan", "Category", "Transaction", "SummaryRow", "List"]

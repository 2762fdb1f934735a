"""Batches: ops built with typed calls, sent together, all or nothing.

    batch = ledgerd.Batch()
    food = batch.create_category("Food")
    batch.create_transaction("-12.34", datetime(2025, 1, 2, 10, tzinfo=timezone.utc), category=food)
    result = client.submit(batch)
    result.results        # [{'id': 1}, {'id': 1}]
    food.id               # 1: the id op 0 created

Each builder returns a :class:`Ref` to its op: pass it as ``category=``,
``parent=`` or ``id=`` of a later op of the same batch (``{"ref": k}`` on the
wire), and read ``ref.id`` / ``ref.result`` once the batch has run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from .errors import LedgerError, OutcomeUnknown, error_from_wire
from .values import (Category, SummaryRow, Transaction, encode_amount, encode_offset, encode_time)

__all__ = ["Batch", "Ref", "UNSET", "BatchResult", "OperationResult", "WRITE_OPS"]


class _Unset:
    """Leave the field out (on update: keep it). ``None`` sends nil (clear)."""
    _instance = None

    def __new__(cls) -> "_Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()

WRITE_OPS = frozenset({"category.create", "category.update", "category.delete",
                       "txn.create", "txn.update", "txn.delete"})
_CREATES = {"category.create": "category", "txn.create": "txn"}


class Ref:
    """The id that op ``index`` of ``batch`` creates (or created)."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: "Batch", index: int) -> None:
        self.batch = batch
        self.index = index

    @property
    def result(self) -> Any:
        """This op's result once the batch has run (a dict, or in independent
        mode possibly a LedgerError)."""
        if self.batch.result is None:
            raise RuntimeError("the batch has not run yet")
        return self.batch.result.results[self.index]

    @property
    def id(self) -> int:
        """The id this op created."""
        result = self.result
        if isinstance(result, LedgerError):
            raise result
        return int(result["id"])

    def __repr__(self) -> str:
        return f"Ref({self.index})"


@dataclass
class BatchResult:
    """What happened to a batch (the seed's ``OperationResult``).

    ``ok`` is True when the worker ran it. ``results`` holds one entry per op:
    a dict (``{'id': 3}``, ``{'changed': 1}``, ``{'row': Transaction(...)}``,
    ``{'rows': [...], 'next': ...}``) or, in independent mode, the
    :class:`LedgerError` of an op that failed. ``error`` is the batch's
    :class:`LedgerError`, or :class:`OutcomeUnknown` when no try got an
    answer (it may have been applied), or None.
    """
    ok: bool
    results: List[Any] = field(default_factory=list)
    error: Optional[Exception] = None
    replayed: bool = False
    failed: int = 0
    tries: int = 0
    key: Optional[str] = None

    @property
    def outcome_unknown(self) -> bool:
        """True when the batch may or may not have been applied."""
        return isinstance(self.error, OutcomeUnknown)

    def raise_for_error(self) -> "BatchResult":
        """Raise ``error`` if there is one; return self otherwise."""
        if self.error is not None:
            raise self.error
        return self


OperationResult = BatchResult

CategoryArg = Union[int, str, Ref, Category, None]
IdArg = Union[int, Ref, Category, Transaction]


class Batch:
    """Ops to run together, in order.

    ``mode="atomic"`` (default): all or nothing. ``mode="independent"``: each op
    commits or fails on its own and failed ops come back as errors in
    ``results``. ``key``: the idempotency key; a batch that writes gets one
    made by the client unless you give one (use a key derived from the
    content when a retry may come from another process, e.g. an import).
    """

    def __init__(self, mode: str = "atomic", key: Optional[str] = None) -> None:
        if mode not in ("atomic", "independent"):
            raise ValueError('mode must be "atomic" or "independent"')
        if key is not None and not (isinstance(key, str) and 1 <= len(key.encode()) <= 128):
            raise ValueError("key must be a str of 1 to 128 bytes")
        self.mode = mode
        self.key = key
        self.auto_key: Optional[str] = None     # the key the client made, kept for resends
        self.ops: List[Dict[str, Any]] = []
        self.result: Optional[BatchResult] = None

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def writes(self) -> bool:
        """Whether any op changes the ledger (then the batch is keyed)."""
        return any(op["op"] in WRITE_OPS for op in self.ops)

    @property
    def results(self) -> List[Any]:
        """Each op's result, once the batch has run."""
        if self.result is None:
            raise RuntimeError("the batch has not run yet")
        return self.result.results

    # --- encoding of arguments ------------------------------------------

    def _ref(self, ref: Ref, kind: str, field_name: str) -> Dict[str, int]:
        if ref.batch is not self:
            raise ValueError(f"{field_name}: a Ref can only be used in the batch that made it")
        made = _CREATES.get(self.ops[ref.index]["op"])
        if made != kind:
            raise ValueError(f"{field_name}: op {ref.index} does not create a {kind}")
        return {"ref": ref.index}

    def _id(self, value: Any, kind: str, field_name: str = "id") -> Any:
        if isinstance(value, Ref):
            return self._ref(value, kind, field_name)
        if isinstance(value, (Category, Transaction)):
            return value.id
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TypeError(f"{field_name} must be an int id or a Ref, not {type(value).__name__}")

    def _category(self, value: Any, field_name: str) -> Any:
        if value is None or isinstance(value, str):
            return value
        return self._id(value, "category", field_name)

    @staticmethod
    def _version(op: Dict[str, Any], expect_version: Optional[int]) -> None:
        if expect_version is None:
            return
        if isinstance(expect_version, bool) or not isinstance(expect_version, int):
            raise TypeError("expect_version must be an int")
        op["expect_version"] = expect_version

    def add(self, op: Dict[str, Any]) -> Ref:
        """Append a raw op map (``{"op": "sys.ping"}``); prefer the typed calls."""
        if self.auto_key is not None:
            self.auto_key = None        # another batch now: it needs its own key
        self.result = None
        self.ops.append(op)
        return Ref(self, len(self.ops) - 1)

    # --- categories ------------------------------------------------------

    def create_category(self, name: str, parent: CategoryArg = None) -> Ref:
        """category.create; ``parent`` an id, name, Ref or None (top level)."""
        op: Dict[str, Any] = {"op": "category.create", "name": name}
        if parent is not None:
            op["parent"] = self._category(parent, "parent")
        return self.add(op)

    def update_category(self, id: IdArg, *, name: Any = UNSET, parent: Any = UNSET,
                        expect_version: Optional[int] = None) -> Ref:
        """category.update: a new ``name`` and/or ``parent`` (None detaches).
        With ``expect_version`` the change is refused (ConflictError) unless the
        row still has that version."""
        op: Dict[str, Any] = {"op": "category.update", "id": self._id(id, "category")}
        if name is not UNSET:
            op["name"] = name
        if parent is not UNSET:
            op["parent"] = self._category(parent, "parent")
        self._version(op, expect_version)
        return self.add(op)

    def delete_category(self, id: IdArg, *, expect_version: Optional[int] = None) -> Ref:
        """category.delete (refused while transactions or subcategories use it)."""
        op: Dict[str, Any] = {"op": "category.delete", "id": self._id(id, "category")}
        self._version(op, expect_version)
        return self.add(op)

    def get_category(self, id: Optional[IdArg] = None, *, name: Optional[str] = None) -> Ref:
        """category.get by id or by exact name."""
        op: Dict[str, Any] = {"op": "category.get"}
        if id is not None:
            op["id"] = self._id(id, "category")
        if name is not None:
            op["name"] = name
        return self.add(op)

    def list_categories(self) -> Ref:
        """category.list: every category, by id."""
        return self.add({"op": "category.list"})

    # --- transactions ----------------------------------------------------

    def create_transaction(self, amount: Any, occurred_at: Any, *, description: Optional[str] = None,
                           category: CategoryArg = None, external_id: Optional[str] = None,
                           if_absent: bool = False) -> Ref:
        """txn.create. With ``external_id`` and ``if_absent=True`` a transaction
        already holding that external_id is the answer (``existed: True``)."""
        op: Dict[str, Any] = {"op": "txn.create", "amount": encode_amount(amount),
                              "occurred_at": encode_time(occurred_at)}
        if description is not None:
            op["description"] = description
        if category is not None:
            op["category"] = self._category(category, "category")
        if external_id is not None:
            op["external_id"] = external_id
        if if_absent:
            op["if_absent"] = True
        return self.add(op)

    def update_transaction(self, id: IdArg, *, amount: Any = UNSET, occurred_at: Any = UNSET,
                           description: Any = UNSET, category: Any = UNSET,
                           expect_version: Optional[int] = None) -> Ref:
        """txn.update of the given fields; ``description=None`` / ``category=None``
        clear them."""
        op: Dict[str, Any] = {"op": "txn.update", "id": self._id(id, "txn")}
        if amount is not UNSET:
            op["amount"] = encode_amount(amount)
        if occurred_at is not UNSET:
            op["occurred_at"] = encode_time(occurred_at)
        if description is not UNSET:
            op["description"] = description
        if category is not UNSET:
            op["category"] = self._category(category, "category")
        self._version(op, expect_version)
        return self.add(op)

    def delete_transaction(self, id: IdArg, *, expect_version: Optional[int] = None) -> Ref:
        """txn.delete."""
        op: Dict[str, Any] = {"op": "txn.delete", "id": self._id(id, "txn")}
        self._version(op, expect_version)
        return self.add(op)

    def get_transaction(self, id: IdArg) -> Ref:
        """txn.get."""
        return self.add({"op": "txn.get", "id": self._id(id, "txn")})

    def _filters(self, op: Dict[str, Any], from_: Any, to: Any, categories: Optional[Iterable[Any]],
                 include_subcategories: Optional[bool], min_amount: Any, max_amount: Any) -> None:
        if from_ is not None:
            op["from"] = encode_time(from_, "from", allow_date=True)
        if to is not None:
            op["to"] = encode_time(to, "to", allow_date=True)
        if categories is not None:
            if isinstance(categories, (str, int, Ref, Category)):
                categories = [categories]
            op["categories"] = [self._category(c, "categories") for c in categories]
        if include_subcategories is not None:
            op["include_subcategories"] = bool(include_subcategories)
        if min_amount is not None:
            op["min_amount"] = encode_amount(min_amount, "min_amount")
        if max_amount is not None:
            op["max_amount"] = encode_amount(max_amount, "max_amount")

    def query_transactions(self, *, from_: Union[date, str, None] = None, to: Union[date, str, None] = None,
                           categories: Optional[Sequence[Any]] = None,
                           include_subcategories: Optional[bool] = None, min_amount: Any = None,
                           max_amount: Any = None, limit: Optional[int] = None,
                           after: Optional[str] = None) -> Ref:
        """txn.query: one page (``limit`` rows) from ``after`` on. ``from_`` is
        inclusive, ``to`` exclusive; a date is that day's midnight UTC."""
        op: Dict[str, Any] = {"op": "txn.query"}
        self._filters(op, from_, to, categories, include_subcategories, min_amount, max_amount)
        if limit is not None:
            op["limit"] = limit
        if after is not None:
            op["after"] = after
        return self.add(op)

    def summary(self, *, by: str = "category", period: Optional[str] = None, offset: Any = None,
                rollup: Optional[bool] = None, from_: Any = None, to: Any = None,
                categories: Optional[Sequence[Any]] = None, include_subcategories: Optional[bool] = None,
                min_amount: Any = None, max_amount: Any = None) -> Ref:
        """txn.summary: count, total, min and max per category and/or period.
        ``by`` is "category", "period" or "both"; ``period`` "day", "week"
        (ISO), "month" (default) or "year"; ``offset`` the wall clock periods
        start in ("Z", "+01:00", a timedelta); ``rollup`` counts a category's
        descendants in its row."""
        op: Dict[str, Any] = {"op": "txn.summary", "by": by}
        self._filters(op, from_, to, categories, include_subcategories, min_amount, max_amount)
        if period is not None:
            op["period"] = period
        if offset is not None:
            op["offset"] = encode_offset(offset)
        if rollup is not None:
            op["rollup"] = bool(rollup)
        return self.add(op)

    # --- system ------------------------------------------------------------

    def ping(self) -> Ref:
        """sys.ping: ``{'pong': True, 'version': 'x.y.z'}``."""
        return self.add({"op": "sys.ping"})

    def stats(self) -> Ref:
        """sys.stats: the worker's counters."""
        return self.add({"op": "sys.stats"})

    # --- results -----------------------------------------------------------

    def decode_reply(self, reply: Dict[str, Any], as_decimal: bool, tries: int, key: Optional[str]) -> BatchResult:
        """A wire reply to this batch as a BatchResult with typed rows."""
        if not reply.get("ok"):
            return BatchResult(False, [], error_from_wire(reply.get("error") or {}), tries=tries, key=key)
        results = [self._decode_op(n, entry, as_decimal) for n, entry in enumerate(reply.get("results", []))]
        return BatchResult(True, results, None, bool(reply.get("replayed", False)), int(reply.get("failed", 0)),
                           tries, key)

    def _decode_op(self, index: int, entry: Dict[str, Any], as_decimal: bool) -> Any:
        if "error" in entry and isinstance(entry["error"], dict):
            return error_from_wire(entry["error"])
        name = self.ops[index]["op"] if index < len(self.ops) else ""
        out = dict(entry)
        if name.startswith("category.") and "row" in entry:
            out["row"] = Category.from_wire(entry["row"])
        elif name == "category.list":
            out["rows"] = [Category.from_wire(row) for row in entry.get("rows", [])]
        elif name in ("txn.get",):
            out["row"] = Transaction.from_wire(entry["row"], as_decimal)
        elif name == "txn.query":
            out["rows"] = [Transaction.from_wire(row, as_decimal) for row in entry.get("rows", [])]
        elif name == "txn.summary":
            out["rows"] = [SummaryRow.from_wire(row, as_decimal) for row in entry.get("rows", [])]
        return out

"""Exceptions: one class per error class of the wire protocol.

Every refusal by the worker is a :class:`LedgerError` carrying the error
object's fields; catch the subclass for the class you handle::

    try:
        client.create_category("Food")
    except ledgerd.ConstraintError as error:
        print(error.code, error.field)      # SQLITE_CONSTRAINT_UNIQUE name

:class:`OutcomeUnknown` is not a refusal: no try got an answer, so the batch
may have been applied. Sending the same batch again (same key) is safe.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "LedgerError", "ProtocolError", "TooLargeError", "InvalidError", "NotFoundError",
    "ConstraintError", "ConflictError", "BusyError", "StorageIOError", "OverloadedError",
    "UnavailableError", "DeniedError", "InternalError", "OutcomeUnknown", "error_from_wire",
]


class LedgerError(Exception):
    """The worker refused the batch (or, in independent mode, one op).

    Attributes mirror the protocol's error object: ``error_class``
    ("constraint"), ``code`` ("SQLITE_CONSTRAINT_UNIQUE"), ``op`` (index of
    the failing op or None), ``field`` ("name" or None), ``message`` (for
    people), ``retryable`` and, in cluster mode, ``leader``.
    """

    error_class: str = ""

    def __init__(self, message: str, *, error_class: Optional[str] = None, code: str = "",
                 op: Optional[int] = None, field: Optional[str] = None, retryable: bool = False,
                 leader: Optional[str] = None) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class
        self.code = code
        self.op = op
        self.field = field
        self.message = message
        self.retryable = retryable
        self.leader = leader

    def __str__(self) -> str:
        where = ""
        if self.op is not None:
            where += f" at op {self.op}"
        if self.field is not None:
            where += f" ({self.field})"
        return f"{self.error_class}{where}: {self.code}: {self.message}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(error_class={self.error_class!r}, code={self.code!r}, "
                f"op={self.op!r}, field={self.field!r}, message={self.message!r})")


class ProtocolError(LedgerError):
    """The request's envelope was wrong (a client bug)."""
    error_class = "protocol"


class TooLargeError(LedgerError):
    """More ops than --max-ops, or a message over --max-msg-bytes."""
    error_class = "too_large"


class InvalidError(LedgerError):
    """A bad op or value: unknown field, inexact amount, naive time, bad ref..."""
    error_class = "invalid"


class NotFoundError(LedgerError):
    """An id or category name that does not exist."""
    error_class = "not_found"


class ConstraintError(LedgerError):
    """A name taken, a category in use, an external_id already in the ledger."""
    error_class = "constraint"


class ConflictError(LedgerError):
    """``expect_version`` did not match the row's version: re-read, then decide."""
    error_class = "conflict"


class BusyError(LedgerError):
    """The database stayed locked by another process (retryable)."""
    error_class = "busy"


class StorageIOError(LedgerError):
    """Class ``io``: the worker's storage failed (retryable). Named so as not
    to shadow the builtin ``IOError``."""
    error_class = "io"


class OverloadedError(LedgerError):
    """The worker could not take or start the batch in time (retryable)."""
    error_class = "overloaded"


class UnavailableError(LedgerError):
    """Cluster mode: this node cannot run the batch now (retryable)."""
    error_class = "unavailable"


class DeniedError(LedgerError):
    """The client's CURVE key is not (or no longer) allowed."""
    error_class = "denied"


class InternalError(LedgerError):
    """Anything else on the worker's side; a retry cannot help."""
    error_class = "internal"


_CLASSES: Dict[str, Type[LedgerError]] = {
    cls.error_class: cls for cls in (
        ProtocolError, TooLargeError, InvalidError, NotFoundError, ConstraintError, ConflictError,
        BusyError, StorageIOError, OverloadedError, UnavailableError, DeniedError, InternalError)
}


def error_from_wire(error: Mapping[str, Any]) -> LedgerError:
    """The exception for a wire error object; a class this client does not
    know becomes a plain :class:`LedgerError` with its ``retryable`` flag."""
    klass = str(error.get("class", ""))
    cls = _CLASSES.get(klass, LedgerError)
    op = error.get("op")
    return cls(str(error.get("message", "")), error_class=klass, code=str(error.get("code", "")),
               op=op if isinstance(op, int) else None, field=error.get("field"),
               retryable=bool(error.get("retryable", False)), leader=error.get("leader"))


class OutcomeUnknown(Exception):
    """No try of the batch got an answer: it may or may not have been applied.

    This is not a failure. The batch carried an idempotency key, so
    submitting the same batch again is safe: the worker either runs it for
    the first time or answers from its log. ``tries`` is how many times it
    was sent; ``reason`` says what the last try saw.
    """

    def __init__(self, reason: str, tries: int) -> None:
        super().__init__(f"outcome unknown after {tries} {'try' if tries == 1 else 'tries'}: {reason}")
        self.reason = reason
        self.tries = tries

"""ledgerd: a Python client for the ledgerd worker (ZeroMQ + msgpack).

    import ledgerd
    from datetime import datetime, timezone

    with ledgerd.Client("tcp://127.0.0.1:5555") as client:
        with client.batch() as b:
            coffee = b.create_category("Coffee")
            b.create_transaction("-3.50", datetime.now(timezone.utc), category=coffee)
        print(coffee.id, b.results)

See :class:`Client`, :class:`Batch`, :mod:`ledgerd.aio` and :mod:`ledgerd.errors`.
"""

from .batch import UNSET, Batch, BatchResult, OperationResult, Ref
from .client import Client
from .errors import (BusyError, ConflictError, ConstraintError, DeniedError, InternalError, InvalidError,
                     LedgerError, NotFoundError, OutcomeUnknown, OverloadedError, ProtocolError,
                     StorageIOError, TooLargeError, UnavailableError)
from .values import Category, SummaryRow, Transaction

__version__ = "0.1.0"

__all__ = [
    "Client", "Batch", "BatchResult", "OperationResult", "Ref", "UNSET",
    "Category", "Transaction", "SummaryRow",
    "LedgerError", "ProtocolError", "TooLargeError", "InvalidError", "NotFoundError", "ConstraintError",
    "ConflictError", "BusyError", "StorageIOError", "OverloadedError", "UnavailableError", "DeniedError",
    "InternalError", "OutcomeUnknown",
]

"""CURVE keys from the certificate files ``ledgerctl keygen NAME`` writes
(czmq's format: NAME holds the public key, NAME_secret both keys)."""

from __future__ import annotations

import os
from typing import Optional, Tuple

import zmq.auth
from zmq.utils import z85


def load_client_keys(path: str) -> Tuple[bytes, bytes]:
    """(public, secret) Z85 keys of the client certificate at path: NAME or
    NAME_secret, as libledger's ledger_client_set_curve takes it."""
    for candidate in (path + "_secret", path):
        if os.path.exists(candidate):
            public, secret = zmq.auth.load_certificate(candidate)
            if secret:
                return public, secret
    raise ValueError(f"no secret key in {path} or {path}_secret: give the certificate "
                     f"'ledgerctl keygen NAME' made (NAME, with NAME_secret beside it)")


def load_server_key(value: str) -> bytes:
    """The worker's public key: 40 Z85 characters, or its public certificate file."""
    if len(value) == 40 and not os.path.exists(value):
        try:
            z85.decode(value.encode())
        except Exception as exc:
            raise ValueError("curve_server_key is not 40 Z85 characters nor a certificate file") from exc
        return value.encode()
    public: Optional[bytes]
    public, _ = zmq.auth.load_certificate(value)
    if not public:
        raise ValueError(f"no public key in {value}")
    return public

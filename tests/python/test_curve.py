"""CURVE with certificates made by ledgerctl keygen."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

import ledgerd
from conftest import LEDGERCTL


def keygen(path):
    subprocess.run([LEDGERCTL, "keygen", str(path)], check=True, stdout=subprocess.DEVNULL)


def test_curve_with_keygen_certificates(start_worker, tmp_path):
    allow = tmp_path / "allow"
    allow.mkdir()
    keygen(tmp_path / "server")
    keygen(tmp_path / "client")
    keygen(tmp_path / "stranger")
    (allow / "client").write_bytes((tmp_path / "client").read_bytes())
    worker = start_worker("--curve-secret", str(tmp_path / "server_secret"), "--curve-allow", str(allow))
    with ledgerd.Client(worker.endpoint, curve_secret=str(tmp_path / "client"),
                        curve_server_key=str(tmp_path / "server"), timeout=2) as client:
        assert client.create_category("curved") > 0
        # The server key as 40 Z85 characters works too.
        public = [l for l in (tmp_path / "server").read_text().splitlines() if "public-key" in l][0]
        z85 = public.split('"')[1]
        with ledgerd.Client(worker.endpoint, curve_secret=str(tmp_path / "client_secret"),
                            curve_server_key=z85) as again:
            assert again.get_category("curved").name == "curved"
        # Its certificate taken out of the allow directory: refused, class denied.
        os.remove(allow / "client")
        deadline = time.monotonic() + 5
        while True:
            try:
                client.ping()
            except ledgerd.DeniedError as denied:
                assert denied.code == "KEY_REVOKED" and not denied.retryable
                break
            assert time.monotonic() < deadline, "the revoked key was never refused"
            time.sleep(0.05)
    # A key the worker does not know gets no answer, and nothing is applied.
    with ledgerd.Client(worker.endpoint, curve_secret=str(tmp_path / "stranger"),
                        curve_server_key=str(tmp_path / "server"), timeout=0.3, retries=0) as stranger:
        with pytest.raises(ledgerd.OutcomeUnknown):
            stranger.create_category("stranger")
    with pytest.raises(ValueError, match="both"):
        ledgerd.Client(worker.endpoint, curve_secret=str(tmp_path / "client"))
    with pytest.raises(ValueError, match="secret"):
        ledgerd.Client(worker.endpoint, curve_secret=str(tmp_path / "nothing"), curve_server_key=z85)

"""examples/python/import_statement.py: keyed, and in agreement with ledgerctl import."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import LEDGERCTL, ROOT

IMPORT = str(ROOT / "examples" / "python" / "import_statement.py")
SAMPLE = str(ROOT / "examples" / "sample.csv")


def run(*args, **kwargs):
    return subprocess.run([*args], capture_output=True, text=True, timeout=60, **kwargs)


def test_import_twice_adds_nothing(start_worker):
    worker = start_worker()
    first = run(sys.executable, IMPORT, SAMPLE, "--create-categories", "--endpoint", worker.endpoint)
    assert first.returncode == 0, first.stderr
    assert "40 rows, 40 new, 0 already in the ledger" in first.stdout
    second = run(sys.executable, IMPORT, SAMPLE, "--create-categories", "--endpoint", worker.endpoint,
                 "--batch-size", "7")
    assert second.returncode == 0, second.stderr
    assert "40 rows, 0 new, 40 already in the ledger; 6 batches" in second.stdout
    import ledgerd
    with ledgerd.Client(worker.endpoint) as client:
        assert len(list(client.transactions())) == 40
        assert len(client.categories()) == 13


def test_import_agrees_with_ledgerctl(start_worker):
    worker = start_worker()
    ctl = run(LEDGERCTL, "--endpoint", worker.endpoint, "import", SAMPLE, "--create-categories")
    assert ctl.returncode == 0, ctl.stderr
    ours = run(sys.executable, IMPORT, SAMPLE, "--endpoint", worker.endpoint)
    assert ours.returncode == 0, ours.stderr
    assert "40 rows, 0 new, 40 already in the ledger" in ours.stdout    # same external ids as ledgerctl's

"""Fixtures: the real ledgerd on a temporary database and a free port.

LEDGERD names the worker binary and LEDGERCTL the command-line tool (ctest
sets both); by default they are taken from build/bin/ of this tree.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator, List, Optional

import msgpack
import pytest
import zmq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "client" / "python"))

LEDGERD = os.path.abspath(os.environ.get("LEDGERD", str(ROOT / "build" / "bin" / "ledgerd")))
LEDGERCTL = os.path.abspath(os.environ.get("LEDGERCTL", str(ROOT / "build" / "bin" / "ledgerctl")))


def free_endpoint() -> str:
    """tcp://127.0.0.1:PORT where nothing listens now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


class Worker:
    """One ledgerd process in its own directory (database, log)."""

    def __init__(self, directory: str, extra: List[str]) -> None:
        self.dir = directory
        self.db = os.path.join(directory, "ledger.db")
        self.log_path = os.path.join(directory, "ledgerd.log")
        self.extra = extra
        self.endpoint = ""
        self.process: Optional[subprocess.Popen] = None

    def start(self, endpoint: Optional[str] = None) -> "Worker":
        for _ in range(3):          # another process may take the port first
            self.endpoint = endpoint or free_endpoint()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [LEDGERD, "--db", self.db, "--bind", self.endpoint, *self.extra],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.dir)
            if self._wait_ready():
                return self
            if endpoint or "already in use" not in self.log():
                break
        raise RuntimeError(f"ledgerd did not start:\n{self.log()}")

    def _wait_ready(self) -> bool:
        """Ping until the worker answers (10 s at most)."""
        context = zmq.Context.instance()
        deadline = time.monotonic() + 10
        body = msgpack.packb({"v": 1, "id": 1, "ops": [{"op": "sys.ping"}]})
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if "--curve-secret" in self.extra:
                # A ping without this worker's keys gets no answer: its
                # start-up line, logged once it listens, says it is ready.
                if "schema version" in self.log():
                    return True
                time.sleep(0.05)
                continue
            sock = context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            try:
                sock.connect(self.endpoint)
                sock.send(body)
                if sock.poll(500, zmq.POLLIN):
                    return True
            finally:
                sock.close(0)
        return False

    def log(self) -> str:
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -1


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator:
    """A factory: start_worker(*extra_args) -> a started Worker, stopped after the test."""
    workers: List[Worker] = []

    def start(*extra: str, directory: Optional[str] = None, endpoint: Optional[str] = None) -> Worker:
        path = directory or tempfile.mkdtemp(dir=tmp_path)
        worker = Worker(path, list(extra)).start(endpoint)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="session")
def shared_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One worker for the tests that only add rows of their own."""
    worker = Worker(str(tmp_path_factory.mktemp("ledgerd")), ["--max-ops", "1000"]).start()
    yield worker
    worker.stop()


@pytest.fixture
def client(shared_worker: Worker) -> Iterator:
    import ledgerd
    with ledgerd.Client(shared_worker.endpoint, timeout=5.0) as c:
        yield c


@pytest.fixture
def unique() -> str:
    """A prefix no other test uses, for category names and external ids."""
    return uuid.uuid4().hex[:10]

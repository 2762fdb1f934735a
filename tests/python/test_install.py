"""The README's install line works offline: a virtual environment that sees
Debian's python3-zmq and python3-msgpack, and pip building the package with
the system's setuptools (no index, no build isolation)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import ROOT


def test_pip_install_into_venv(tmp_path, shared_worker):
    source = tmp_path / "python"
    shutil.copytree(ROOT / "client" / "python", source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", "--no-build-isolation", str(source)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    script = ("import ledgerd, ledgerd.aio, pathlib, sys\n"
              "assert pathlib.Path(ledgerd.__file__).is_relative_to(sys.prefix), ledgerd.__file__\n"
              "assert (pathlib.Path(ledgerd.__file__).parent / 'py.typed').exists()\n"
              "with ledgerd.Client(sys.argv[1]) as client:\n"
              "    print(client.ping())\n")
    run = subprocess.run([str(venv / "bin" / "python"), "-c", script, shared_worker.endpoint],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "0.1.0"

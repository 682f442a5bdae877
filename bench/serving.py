"""What the benches that talk to a real server share: a free port of 127.0.0.1, and gunicorn
started and waited for until its /healthz answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


class BenchError(RuntimeError):
    """Something other than a figure went wrong; the message says what."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(options: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """`gunicorn --bind 127.0.0.1:<port> <options> wsgi:app`, once its /healthz answers 200
    (within 30 s); its output goes to `log`, which a failure quotes."""
    cmd = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", *options, "wsgi:app"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise BenchError(f"gunicorn did not answer on {base} in 30 s:\n{log.read_text()}")

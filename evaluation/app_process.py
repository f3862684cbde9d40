"""`python app.py` as a process of its own on a free port, for the scripts that time or photograph the app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(
    port: int, log_db: Path, app_args: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Starts the app logging conversations to the SQLite file `log_db`, its output to `log_path`; the caller stops it."""
    command = [sys.executable, "app.py", "--port", str(port), "--log-db", f"sqlite:///{log_db.resolve()}", *app_args]
    with log_path.open("w") as sink:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def stopped_reason(app: subprocess.Popen, log_path: Path) -> str | None:
    """Why the app is not running (the end of its output), or None while it runs."""
    if app.poll() is None:
        return None
    return f"the app stopped:\n{log_path.read_text()[-3000:]}"

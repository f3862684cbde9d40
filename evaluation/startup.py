"""Start-up time of the web app: from `python app.py` to its page answering, over several starts in a row.

    python -m evaluation.startup                  # two starts with the default settings (the real model)
    python -m evaluation.startup --starts 3 -- --llm none

Each start launches the app on a free port with a throwaway log store, times how long until `GET /` returns the
page, and stops it. The first start builds whatever is missing (the index in `var/index/`, the dequantized model in
`var/models/`); the later ones reuse them, as a second `make demo` does. Arguments after `--` go to `app.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from evaluation.app_process import free_port, launch_app, stopped_reason

TIMEOUT_S = 900


def _page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and b"gradio" in response.read().lower()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def time_one_start(app_args: list[str]) -> float:
    """Seconds from launching the app to its page answering."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="startup-") as scratch:
        log_path = Path(scratch) / "app.log"
        started = time.perf_counter()
        app = launch_app(port, Path(scratch) / "logs.db", app_args, log_path)
        try:
            while not _page_answers(f"http://127.0.0.1:{port}/"):
                if (reason := stopped_reason(app, log_path)) is not None:
                    raise SystemExit(f"error: {reason}")
                if time.perf_counter() - started > TIMEOUT_S:
                    raise SystemExit(f"error: no page after {TIMEOUT_S} s")
                time.sleep(0.1)
            return time.perf_counter() - started
        finally:
            app.terminate()
            app.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    app_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=2, help="how many starts in a row")
    parser.add_argument("--json", type=Path, help="also write the times to this JSON file")
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    times = []
    for start in range(1, args.starts + 1):
        times.append(round(time_one_start(app_args), 1))
        print(f"start {start}: page answering after {times[-1]} s", flush=True)
    if args.json:
        args.json.write_text(
            json.dumps({"app_args": app_args, "seconds": times, "cpus": os.cpu_count()}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

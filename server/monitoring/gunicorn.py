"""Gunicorn hooks for metrics in multi-process mode (`-c python:server.monitoring.gunicorn`).

With PROMETHEUS_MULTIPROC_DIR set, every worker keeps its values in files of that folder and
`/metrics` adds them up. The master empties the folder when it starts (values of a previous
run would be added in), and a worker that exits is marked dead, as prometheus-client asks.
Every other setting still comes from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

_ENV = "PROMETHEUS_MULTIPROC_DIR"


def on_starting(server: Any) -> None:
    folder = os.environ.get(_ENV)
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get(_ENV):
        multiprocess.mark_process_dead(worker.pid)

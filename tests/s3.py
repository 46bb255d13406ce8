"""A real S3-protocol server for tests: moto's standalone server, started as a separate
process on a free loopback port and reached over HTTP, the way a node reaches MinIO.

    def test_x(s3_server):
        url = s3_server.new_bucket()      # "s3://<fresh bucket>/media?endpoint=http://…"
        store = s3_server.store(url, tmp_path / "staging")
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from server.media.s3 import S3Store, make_client, parse_s3_url

# moto accepts any credentials; boto3 (in the tests and in server processes) needs some.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "signage-test",
    "AWS_SECRET_ACCESS_KEY": "signage-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    """One `python -m moto.server` process."""

    log_path: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        env = {**os.environ, **CREDENTIALS}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                requests.get(self.endpoint + "/moto-api/", timeout=1)
                return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("moto did not answer")
            time.sleep(0.05)  # waiting for readiness, not for time to pass

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def url(self, bucket: str, prefix: str = "media", **options: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"endpoint": self.endpoint, **options}.items())
        return f"s3://{bucket}/{prefix}?{query}" if prefix else f"s3://{bucket}?{query}"

    def client(self) -> Any:
        return make_client(parse_s3_url(self.url("probe")))

    def new_bucket(self, prefix: str = "media", **options: str) -> str:
        """A new, empty bucket; its media URL."""
        bucket = f"signage-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=bucket)
        return self.url(bucket, prefix, **options)

    def store(self, url: str, staging: Path, **kwargs: Any) -> S3Store:
        return S3Store(parse_s3_url(url), staging, **kwargs)

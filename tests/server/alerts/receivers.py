"""Real receivers for alert messages: an HTTP server recording webhook calls (in a thread),
and an SMTP server (aiosmtpd, in its own process) storing mail in a Maildir."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Records every POST; answers with the next status in `answers` (200 when empty)."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Call]:
        """Calls answered 2xx (the ones a sender may count as delivered)."""
        with self.lock:
            return [c for c in self.calls if c.headers.get("X-Test-Answer", "200") == "200"]


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                headers = dict(self.headers.items())
                headers["X-Test-Answer"] = str(status)
                receiver.calls.append(Call(headers, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    maildir: Path

    def messages(self) -> list[EmailMessage]:
        box = mailbox.Maildir(self.maildir, create=False)
        out = []
        for key in sorted(box.keys()):
            raw = box.get_bytes(key)
            out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out  # type: ignore[return-value]


@contextmanager
def smtp_server(folder: Path) -> Iterator[SmtpServer]:
    """aiosmtpd as a separate process, delivering into a Maildir under `folder`."""
    maildir = folder / "maildir"
    mailbox.Maildir(maildir, create=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:  # waiting for it to listen, not for time to pass
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("aiosmtpd did not start") from None
                time.sleep(0.05)
        yield SmtpServer(port, maildir)
    finally:
        process.terminate()
        process.wait(10)

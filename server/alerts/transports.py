"""Sending one message: a signed JSON webhook, or an e-mail over SMTP.

Each transport raises DeliveryFailed on any failure; the outbox retries later with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Final

from server.config import Settings

SIGNATURE_HEADER: Final = "Signage-Signature"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
USER_AGENT: Final = "signage-scheduler-alerts/1"


class DeliveryFailed(Exception):
    """The message was not accepted; `permanent` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.

    The timestamp is signed too, so a receiver can refuse an old message replayed."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether `header` is a valid signature of `body` with `secret` (for receivers, tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    timeout_s: float

    def send(self, payload: dict[str, Any], key: str, timestamp: int) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked when saved
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                IDEMPOTENCY_HEADER: key,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                response.read(65536)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection open
            # 4xx other than 408/429: the receiver refuses this message; retrying won't help.
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 409, 425, 429)
            raise DeliveryFailed(f"HTTP {exc.code}", permanent=permanent) from None
        except (OSError, ValueError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class Email:
    address: str
    settings: Settings

    def send(self, subject: str, body: str, key: str) -> None:
        s = self.settings
        if not s.smtp_host:
            raise DeliveryFailed("no SMTP server is configured (SIGNAGE_SMTP_HOST)")
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = self.address
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(idstring=key[:32], domain="signage.invalid")
        message["X-Signage-Key"] = key
        message.set_content(body, charset="utf-8")
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.alert_timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None

"""Delivery ports for outbox messages: a signed JSON webhook POST, or an e-mail through SMTP.

Each attempt returns a Result instead of raising: `delivered`, `failed` (worth retrying: network errors,
timeouts, 408/425/429/5xx, SMTP 4xx), `rejected` (a business refusal that retrying cannot fix: other
4xx, redirects, SMTP 5xx) or `skipped` (the topic has no transport configured).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from engine.config import Settings, Topic

SIGNATURE_HEADER = "X-Incident-Engine-Signature"
_RETRYABLE_HTTP = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Message:
    """One outbox row as sent: the id doubles as the receiver's idempotency key."""

    id: str
    topic: str
    attempt: int
    body: dict[str, Any]

    def encoded(self) -> bytes:
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Result:
    outcome: str  # delivered | failed | rejected | skipped
    http_status: int | None = None
    error: str | None = None

    @property
    def retryable(self) -> bool:
        return self.outcome == "failed"


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`: what receivers recompute to check the sender."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a webhook that redirects is refused, not followed with the payload


_opener = urllib.request.build_opener(_NoRedirect)


def post_webhook(url: str, message: Message, *, secret: str | None, timeout: float) -> Result:
    body = message.encoded()
    headers = {"Content-Type": "application/json", "Idempotency-Key": message.id,
               "X-Incident-Engine-Topic": message.topic, "X-Incident-Engine-Attempt": str(message.attempt),
               "User-Agent": "incident-engine-outbox"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Result("delivered", response.status)
    except urllib.error.HTTPError as err:
        retry = err.code in _RETRYABLE_HTTP or err.code >= 500
        return Result("failed" if retry else "rejected", err.code, f"HTTP {err.code} {err.reason}"[:500])
    except (urllib.error.URLError, OSError) as err:  # OSError covers timeouts and refused connections
        reason = getattr(err, "reason", err)
        return Result("failed", None, f"{type(reason).__name__}: {reason}"[:500])


def send_email(settings: Settings, topic: Topic, message: Message) -> Result:
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(topic.email_to)
    mail["Subject"] = topic.subject or f"[incident-engine] {topic.name}"
    mail["Message-ID"] = f"<{message.id}@incident-engine>"
    mail["Idempotency-Key"] = message.id
    mail.set_content(json.dumps(message.body, indent=2, sort_keys=True, default=str))
    assert settings.smtp_host is not None
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.outbox_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(mail)
        return Result("delivered")
    except smtplib.SMTPRecipientsRefused as err:
        permanent = all(code >= 500 for code, _msg in err.recipients.values())
        return Result("rejected" if permanent else "failed", None, f"recipients refused: {err.recipients}"[:500])
    except smtplib.SMTPResponseException as err:
        return Result("rejected" if err.smtp_code >= 500 else "failed", None, f"SMTP {err.smtp_code}: {err}"[:500])
    except (smtplib.SMTPException, OSError) as err:
        return Result("failed", None, f"{type(err).__name__}: {err}"[:500])


def send(settings: Settings, message: Message) -> Result:
    """Deliver `message` with the transport its topic is configured with."""
    topic = settings.topic(message.topic)
    if topic.url:
        return post_webhook(topic.url, message, secret=topic.secret or settings.outbox_webhook_secret,
                            timeout=settings.outbox_timeout_seconds)
    if topic.email_to and settings.smtp_host:
        return send_email(settings, topic, message)
    why = "SMTP_HOST is not set" if topic.email_to else "it has no url or email_to in OUTBOX_TOPICS"
    return Result("skipped", None, f"nothing was sent for topic {message.topic!r}: {why}")

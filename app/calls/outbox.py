"""Sending the replies queued for reporters: Telegram, WhatsApp and SMS.

The web app only queues (``channel_outbox``: the operator's answers, and the status
changes a trigger writes so no code path forgets one); sending needs the channels'
credentials and the internet, so it is a process of its own, ``peta112 channels send``,
that takes the oldest pending replies, claims each alone while sending it (``FOR UPDATE
SKIP LOCKED``: two senders never send one reply twice), sends it through its channel's API
and records the outcome: sent, or the attempt and the error, retried on the next round up
to ``MAX_ATTEMPTS``.  A channel
without credentials is left pending, untouched, until it is configured.

- Telegram Bot API ``sendMessage`` (``chat_id``, ``text``);
- WhatsApp Cloud API ``/<phone number id>/messages`` (a text message; a reply within the
  24-hour window of the reporter's last message, as the platform requires);
- SMS: a JSON ``POST {to, text}`` to the gateway's URL with its key as a Bearer token (the
  same gateway whose inbound messages reach ``POST /api/v1/channels/sms``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import sqlfiles

MAX_ATTEMPTS = 8
TIMEOUT_S = 15.0  # one request to a channel's API; the next round retries


@dataclass(frozen=True)
class Request:
    url: str
    body: dict[str, Any]
    headers: dict[str, str]


def _sql(name: str) -> Any:
    return sqlfiles.statement("app.calls", "sql/channels.sql", name)


def request_for(settings: Settings, channel: str, recipient: str, text: str) -> Request | None:
    """The API request that delivers ``text`` to ``recipient``, or None when the channel is not configured."""
    if channel == "telegram" and settings.telegram_bot_token:
        return Request(f"{settings.telegram_api}/bot{settings.telegram_bot_token}/sendMessage",
                       {"chat_id": recipient, "text": text}, {})
    if channel == "whatsapp" and settings.whatsapp_token and settings.whatsapp_phone_number_id:
        return Request(f"{settings.whatsapp_api}/{settings.whatsapp_phone_number_id}/messages",
                       {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient.lstrip("+"),
                        "type": "text", "text": {"preview_url": False, "body": text}},
                       {"Authorization": f"Bearer {settings.whatsapp_token}"})
    if channel == "sms" and settings.sms_gateway_url:
        headers = {"Authorization": f"Bearer {settings.sms_gateway_key}"} if settings.sms_gateway_key else {}
        return Request(settings.sms_gateway_url, {"to": recipient, "text": text}, headers)
    return None


def configured(settings: Settings) -> list[str]:
    return [c for c in ("telegram", "whatsapp", "sms") if request_for(settings, c, "x", "x") is not None]


def _post(req: Request) -> None:
    """Send one request; raise with a short reason unless the API answered 2xx."""
    data = json.dumps(req.body).encode()
    http = urllib.request.Request(req.url, data=data, method="POST",
                                  headers={"Content-Type": "application/json", **req.headers})
    try:
        with urllib.request.urlopen(http, timeout=TIMEOUT_S) as resp:  # noqa: S310 - http(s) URLs from settings
            resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:200].decode(errors="replace")
        raise RuntimeError(f"HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise RuntimeError(f"unreachable: {getattr(exc, 'reason', exc)}") from None


@dataclass
class Round:
    sent: int = 0
    failed: int = 0
    channels: tuple[str, ...] = ()


def send_pending(session: Session, settings: Settings, limit: int = 100) -> Round:
    """Send up to ``limit`` pending replies of the configured channels; one transaction per reply."""
    channels = configured(settings)
    out = Round(channels=tuple(channels))
    if not channels:
        return out
    rows = session.execute(_sql("outbox_pending"), {"channels": channels, "limit": limit,
                                                    "max_attempts": MAX_ATTEMPTS}).mappings().all()
    session.commit()
    for row in rows:
        claimed = session.execute(_sql("outbox_claim"), {"id": row["id"]}).first()
        if claimed is None:  # another sender took it meanwhile
            session.rollback()
            continue
        req = request_for(settings, row["channel"], row["recipient"], row["body"])
        if req is None:
            session.rollback()
            continue
        try:
            _post(req)
        except RuntimeError as exc:
            session.execute(_sql("outbox_failed"), {"id": row["id"], "error": str(exc)})
            out.failed += 1
        else:
            session.execute(_sql("outbox_sent"), {"id": row["id"]})
            out.sent += 1
        session.commit()
    return out

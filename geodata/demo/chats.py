"""Chats waiting for the desk in Kota Contoh: a few open Telegram, WhatsApp and SMS conversations.

Conversations are what is happening now, not history, so they are not COPYed with the
city: after the load, the demo sends a handful of messages through the channels' own code
(``app.calls.channels.receive``, as the webhooks do), so the console's "Pesan" tab has
something to read, answer, convert or close after ``make run``: a fallen tree with its
shared location, a blocked drain, a blood request for PMI, an SMS about a street light.
Drawn from its own random stream: the rest of the city does not move.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.calls.channels import Inbound, receive
from geodata.demo.city import DemoCity

# (channel, name, [(text or None for the shared location, minutes ago)])
CHATS = (
    ("telegram", "Rina Kusuma", [("Selamat sore, ada pohon tumbang menutup jalan di depan gang kami", 14),
                                 (None, 13)]),
    ("whatsapp", "Agus Setiawan", [("Saluran air mampet, air mulai masuk ke rumah warga", 9), (None, 8)]),
    ("telegram", "Dewi Lestari", [("Apakah PMI butuh donor darah golongan O hari ini?", 6)]),
    ("sms", None, [("Lampu jalan mati sudah 3 malam di dekat masjid", 4)]),
    ("whatsapp", "Bambang", [("Ada sarang tawon besar di pohon halaman sekolah", 2), (None, 1)]),
)


def open_chats(conn: Connection, city: DemoCity, rng: np.random.Generator, now: datetime | None = None) -> int:
    """Send the demo's waiting messages in the caller's transaction; returns how many conversations."""
    now = now or datetime.now(UTC)
    points = city.incidents.geometry.to_numpy()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    conversations: set[int] = set()
    try:
        for n, (channel, name, messages) in enumerate(CHATS):
            here = points[int(rng.integers(len(points)))] if len(points) else None
            phone = f"+62812{int(rng.integers(10_000_000, 99_999_999))}"
            chat = phone if channel in ("whatsapp", "sms") else str(int(rng.integers(100_000_000, 999_999_999)))
            for m, (text, minutes) in enumerate(messages):
                if text is None and here is None:
                    continue
                msg = Inbound(channel, chat.lstrip("+") if channel == "whatsapp" else chat, f"demo-{n}-{m}",
                              now - timedelta(minutes=minutes), name=name,
                              phone=phone if channel != "telegram" else None, text=text)
                if text is None:  # the shared location, a little off the incident it is drawn near
                    msg.lat = float(here.y + rng.normal(0, 0.0005))
                    msg.lon = float(here.x + rng.normal(0, 0.0005))
                conversations.add(receive(session, msg, f"demo:{channel}")["conversation"])
    finally:
        session.close()
    return len(conversations)

"""Engines and sessions for psycopg 3, built from a URL (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Accept the libpq-style URLs people paste (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kw: object) -> Engine:
    opts: dict[str, object] = {"pool_pre_ping": True}
    if "poolclass" not in kw:
        opts.update(pool_size=5, max_overflow=10)
    opts.update(kw)
    return create_engine(normalize_url(url), **opts)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)

"""The server's secret key: given in the environment, or generated once and kept under the var dir.

A key that anyone can read in this repository (the old ``dev-only-change-me``)
let anybody mint an admin session, so a known or short key is refused, and a
fresh machine gets a random key of its own instead of a shared default.  The
key is the HMAC key of the server-side session ids (app/services/sessions.py):
rotating it ends every browser session; API tokens are unaffected (they are
stored as plain SHA-256 digests).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from app.config import Settings

FILE_NAME = "secret_key"
MIN_LENGTH = 32
MIN_DISTINCT = 10
# Keys published in this repository or commonly pasted from examples.
KNOWN = frozenset({
    "dev-only-change-me", "dev", "development", "secret", "changeme", "change-me", "change_me",
    "please-change-me", "secret-key", "secret_key", "your-secret-key", "peta112",
})


class SecretKeyError(Exception):
    """The configured key cannot be used; the message is one line for the operator."""


def check(key: str, origin: str) -> str:
    """Return ``key`` if it is fit to sign sessions, else raise :class:`SecretKeyError` naming ``origin``."""
    if key.strip().lower() in KNOWN:
        raise SecretKeyError(f"{origin} is a published default; remove it (a random key is then generated "
                             f"in the var dir) or set a random one, e.g. `python3 -c 'import secrets; "
                             f"print(secrets.token_urlsafe(32))'`")
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_DISTINCT:
        raise SecretKeyError(f"{origin} is too weak: use at least {MIN_LENGTH} random characters")
    return key


def key_file(settings: Settings) -> Path:
    return settings.var_dir / FILE_NAME


def resolve(settings: Settings) -> str:
    """The key from ``PETA112_SECRET_KEY``, else from ``<var dir>/secret_key``, created (mode 0600) if missing."""
    if settings.secret_key is not None:
        return check(settings.secret_key, "PETA112_SECRET_KEY")
    path = key_file(settings)
    if not path.exists():
        _create(path)
    try:
        if path.stat().st_mode & 0o077:
            raise SecretKeyError(f"the secret key {path} is readable by other users; run chmod 600 {path}")
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key {path}: {exc.strerror}") from None
    return check(key, str(path))


def _create(path: Path) -> None:
    """Write a new key atomically: several gunicorn workers may start at once, and all must use one key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)  # fails if another process was first: then its key is the key
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as exc:
        raise SecretKeyError(f"cannot create the secret key {path}: {exc.strerror}; "
                             f"set PETA112_SECRET_KEY instead") from None

"""Password hashing and the password policy.

Hashes are argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane:
about 20 ms here), cheap enough for a login burst at shift change and far
costlier to crack than a fast hash.  Hashes from before argon2 (werkzeug's
``scrypt:``/``pbkdf2:``) still verify and are replaced on the next sign-in.

The policy follows OWASP ASVS 4 level 2 (2.1.1, 2.1.7): at least 12 characters,
no maximum below 128, no composition rules, but never a password from a list of
common ones (zxcvbn's 30,000 most common passwords plus words Indonesian users
pick), nor one that contains the username.
"""

from __future__ import annotations

import functools
import re
import secrets
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

from app.services.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
LEGACY_PREFIXES = ("scrypt:", "pbkdf2:")
_TRAILING = re.compile(r"[\W\d_]+$")
_LEADING = re.compile(r"^[\W\d_]+")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def encodable(value: str) -> bool:
    """False for text that is not valid Unicode (a lone surrogate from JSON's \\ud800) or holds NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def verify(stored_hash: str, password: str) -> bool:
    """True if ``password`` matches ``stored_hash`` (argon2id, or a legacy werkzeug hash)."""
    if not encodable(password):
        password = ""  # still do the work: the answer must take as long as any other
    if stored_hash.startswith(LEGACY_PREFIXES):
        return check_password_hash(stored_hash, password)
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    if stored_hash.startswith(LEGACY_PREFIXES):
        return True
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def dummy_hash() -> str:
    """A hash no password matches: unknown users are checked against it, so they take as long as known ones."""
    return hash_password(secrets.token_urlsafe(32))


@functools.cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's most common passwords (MIT licence) and our own list of Indonesian favourites."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ours = resources.files("app.services").joinpath("common_passwords_id.txt").read_text(encoding="utf-8")
    words = {w.strip().lower() for w in ours.splitlines() if w.strip() and not w.startswith("#")}
    return frozenset(words | set(FREQUENCY_LISTS["passwords"]))


def _is_common(password: str) -> bool:
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or lowered.replace(" ", "") in common:
        return True
    # "Bismillah123!", "!!indonesia2024": a common word dressed with digits and symbols is still common.
    core = _LEADING.sub("", _TRAILING.sub("", lowered))
    return len(core) >= 4 and core in common


def check_policy(password: str, username: str) -> None:
    """Raise :class:`InvalidInput` (field ``password``) if ``password`` is not acceptable for ``username``."""
    if not isinstance(password, str) or not password.strip():
        raise InvalidInput("password must not be empty or only spaces", "password")
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_LENGTH} characters", "password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"password must have at most {MAX_LENGTH} characters", "password")
    if any(ord(c) < 32 or ord(c) == 127 for c in password) or not encodable(password):
        raise InvalidInput("password must not contain control characters or invalid Unicode", "password")
    if username and username.lower() in password.lower():
        raise InvalidInput("password must not contain the username", "password")
    if len(set(password)) < 5:
        raise InvalidInput("password must not repeat a few characters", "password")
    steps = {ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)}
    if len(steps) <= 2:  # 123456789012, abcdefghijkl, 135791357913
        raise InvalidInput("password must not be a simple sequence", "password")
    if _is_common(password):
        raise InvalidInput("password is too common (it is on a list of passwords attackers try first)", "password")


def generate() -> str:
    """A random password that passes the policy (for ``peta112 user add`` without --password)."""
    return secrets.token_urlsafe(15)

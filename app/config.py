"""Settings read from the environment, once, when the app or CLI starts.

Everything that differs between a laptop demo, CI and a city's server comes in
here, so no module reads ``os.environ`` on its own.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Absolute links when PETA112_BASE_URL is unset (`peta112 serve` derives one from --host/--port).
DEV_BASE_URL = "http://127.0.0.1:5000"
TRUE = frozenset({"1", "true", "yes", "on"})


def _default_var_dir() -> Path:
    # An editable checkout keeps its cluster next to the code (./var); an
    # installed wheel has no checkout, so it uses the working directory.
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    return Path.cwd() / "var"


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    var_dir: Path = field(default_factory=_default_var_dir)
    db_name: str = "peta112"
    utm_epsg: int = 32749
    # None: generated on first start and kept in var_dir/secret_key (app/secret_key.py).
    secret_key: str | None = None
    pg_bin: str | None = None
    testing: bool = False
    open311_keys: tuple[str, ...] = ()
    # Shared secrets of the telephony side (the PBX's call events, the AML gateway): Bearer keys.
    telephony_keys: tuple[str, ...] = ()
    # Chat channels: the secret_token given to Telegram's setWebhook; WhatsApp Cloud API's app secret
    # (signs every notification) and the verify token of its subscription handshake.
    telegram_secret: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    # Sending replies to reporters (app/calls/outbox.py, `peta112 channels send`): the bot's token, the
    # WhatsApp Cloud API token and sender number id, an SMS gateway's URL and key; API roots overridable.
    telegram_bot_token: str | None = None
    telegram_api: str = "https://api.telegram.org"
    whatsapp_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api: str = "https://graph.facebook.com/v21.0"
    sms_gateway_url: str | None = None
    sms_gateway_key: str | None = None
    # Requests per minute per client address and worker; 0 switches a limit off.
    rate_limit_intake: int = 600
    # Failed sign-ins per minute per client address and worker (successful ones are not counted,
    # so a call centre behind one NAT is not locked out by one person's typos).
    rate_limit_login: int = 30
    # Anonymous public reads (Open311 GET), per endpoint: enough for a city app, not for a scraper.
    rate_limit_public: int = 120
    personal_data_days: int = 365
    # The public root every absolute link and feed is built from (never the Host header); None: DEV_BASE_URL.
    base_url: str | None = None
    # Analytics: PostgreSQL cancels a query after this long; at most this many at once per user and process.
    analytics_timeout_s: float = 10.0
    analytics_concurrency: int = 4  # the dashboard sends 2 at once; a filter change may overlap a round
    # The server folds logged changes into the agency-performance rollup this often (0: never;
    # readers then build the changed cells themselves, which stays exact but grows slower).
    rollup_refresh_s: float = 30.0
    # Sessions: an open console polls every 15 s, so the idle limit only ends sessions of closed or
    # sleeping browsers (30 min: OWASP ASVS 4 level 2, 3.3.2); the absolute limit is one shift.
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # Mark the session cookie Secure (HTTPS only): on when PETA112_BASE_URL is https:// or
    # PETA112_SECURE_COOKIES is set.
    secure_cookies: bool = False
    # Scratch files of long imports (the OSM reader's OPL text, a few hundred MB for a province);
    # None: the system's temporary directory (TMPDIR, else /tmp, often a small tmpfs).
    tmp_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """True when peta112 runs its own private cluster under ``var_dir``."""
        return not self.database_url

    @property
    def public_url(self) -> str:
        """The base URL for absolute links, without a trailing slash."""
        return (self.base_url or DEV_BASE_URL).rstrip("/")

    def with_overrides(self, **kw: Any) -> Settings:
        return replace(self, **kw)


def check_api_url(name: str, value: str) -> str:
    """An http(s) URL of an outside service (no trailing slash)."""
    value = value.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
        raise ValueError(f"{name} must be an http:// or https:// URL")
    return value


def check_base_url(value: str) -> str:
    """``http(s)://host[:port][/prefix]``, nothing else: it is pasted into every published link."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or any(c in value for c in " \t\r\n\\"):
        raise ValueError(f"PETA112_BASE_URL must look like https://112.example.go.id[/prefix], not {value!r}")
    return value.strip().rstrip("/")


def _finite(raw: str, kind: type) -> Any:
    """The number ``raw`` spells, or None when it spells none (or NaN or infinity)."""
    try:
        value = kind(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _positive(name: str, raw: str, kind: type) -> Any:
    value = _finite(raw, kind)
    if value is None or value <= 0:
        raise ValueError(f"{name} must be a positive number, not {raw!r}")
    return value


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    kw: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        kw["database_url"] = env["DATABASE_URL"]
    if env.get("PETA112_VAR_DIR"):
        kw["var_dir"] = Path(env["PETA112_VAR_DIR"]).resolve()
    if env.get("PETA112_DB_NAME"):
        kw["db_name"] = env["PETA112_DB_NAME"]
    if env.get("PETA112_UTM_EPSG"):
        kw["utm_epsg"] = int(env["PETA112_UTM_EPSG"])
    if env.get("PETA112_SECRET_KEY"):
        kw["secret_key"] = env["PETA112_SECRET_KEY"]
    if env.get("PETA112_TMPDIR"):
        kw["tmp_dir"] = Path(env["PETA112_TMPDIR"])
    if env.get("PETA112_PG_BIN"):
        kw["pg_bin"] = env["PETA112_PG_BIN"]
    for key, name in (("rate_limit_intake", "PETA112_RATE_LIMIT_INTAKE"),
                      ("rate_limit_login", "PETA112_RATE_LIMIT_LOGIN"),
                      ("rate_limit_public", "PETA112_RATE_LIMIT_PUBLIC"),
                      ("personal_data_days", "PETA112_PERSONAL_DATA_DAYS")):
        if env.get(name):
            kw[key] = int(env[name])
    for key, name in (("session_idle_minutes", "PETA112_SESSION_IDLE_MINUTES"),
                      ("session_max_hours", "PETA112_SESSION_MAX_HOURS")):
        if env.get(name):
            kw[key] = _positive(name, env[name], int)
    if env.get("PETA112_BASE_URL"):
        kw["base_url"] = check_base_url(env["PETA112_BASE_URL"])
    if env.get("PETA112_ANALYTICS_TIMEOUT_S"):
        kw["analytics_timeout_s"] = _positive("PETA112_ANALYTICS_TIMEOUT_S", env["PETA112_ANALYTICS_TIMEOUT_S"], float)
    if env.get("PETA112_ANALYTICS_CONCURRENCY"):
        kw["analytics_concurrency"] = _positive("PETA112_ANALYTICS_CONCURRENCY", env["PETA112_ANALYTICS_CONCURRENCY"],
                                                int)
    if env.get("PETA112_ROLLUP_REFRESH_S"):
        every = _finite(env["PETA112_ROLLUP_REFRESH_S"], float)
        if every is None or every < 0:  # 0 is allowed: no refresher
            raise ValueError("PETA112_ROLLUP_REFRESH_S must be a number of seconds >= 0")
        kw["rollup_refresh_s"] = every
    if env.get("PETA112_OPEN311_KEYS"):
        kw["open311_keys"] = tuple(k.strip() for k in env["PETA112_OPEN311_KEYS"].split(",") if k.strip())
    if env.get("PETA112_TELEPHONY_KEYS"):
        kw["telephony_keys"] = tuple(k.strip() for k in env["PETA112_TELEPHONY_KEYS"].split(",") if k.strip())
    for key, name in (("telegram_secret", "PETA112_TELEGRAM_SECRET"),
                      ("whatsapp_app_secret", "PETA112_WHATSAPP_APP_SECRET"),
                      ("whatsapp_verify_token", "PETA112_WHATSAPP_VERIFY_TOKEN"),
                      ("telegram_bot_token", "PETA112_TELEGRAM_BOT_TOKEN"),
                      ("whatsapp_token", "PETA112_WHATSAPP_TOKEN"),
                      ("whatsapp_phone_number_id", "PETA112_WHATSAPP_PHONE_NUMBER_ID"),
                      ("sms_gateway_key", "PETA112_SMS_GATEWAY_KEY")):
        if env.get(name):
            kw[key] = env[name]
    for key, name in (("telegram_api", "PETA112_TELEGRAM_API"), ("whatsapp_api", "PETA112_WHATSAPP_API"),
                      ("sms_gateway_url", "PETA112_SMS_GATEWAY_URL")):
        if env.get(name):
            kw[key] = check_api_url(name, env[name])
    secure = env.get("PETA112_SECURE_COOKIES", "").strip().lower()
    kw["secure_cookies"] = secure in TRUE or (kw.get("base_url") or "").lower().startswith("https://")
    return Settings(**kw)

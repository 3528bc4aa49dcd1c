"""Users, roles and API tokens.

Roles: call_taker, dispatcher, agency (one agency's own tasks), bpbd, official
(read-only analytics, no personal data), admin.  Passwords are stored as
werkzeug hashes; API tokens only as SHA-256 digests (the token is shown once).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE users (
    id             serial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{2,64}$'),
    display_name   text,
    role           text NOT NULL CHECK (role IN ('call_taker', 'dispatcher', 'agency', 'bpbd', 'official', 'admin')),
    agency_code    text REFERENCES agencies(code),
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    CHECK (role <> 'agency' OR agency_code IS NOT NULL)
);

CREATE TABLE api_tokens (
    id            serial PRIMARY KEY,
    user_id       integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          text NOT NULL,
    token_sha256  text NOT NULL UNIQUE,
    prefix        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
"""

DOWNGRADE = "DROP TABLE IF EXISTS api_tokens, users CASCADE;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

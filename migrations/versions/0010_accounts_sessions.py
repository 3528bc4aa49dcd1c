"""Accounts and server-side sessions.

``sessions`` holds one row per signed-in browser: only an HMAC of the random
session id (keyed with the server's secret key) is stored, so a database dump
yields no usable cookie and rotating the key ends every session.  ``users`` gains
the demo flag and the per-account lockout state (in the database so that every
worker agrees); ``api_tokens`` gains ``parent_id`` (a token made with a token
dies with it); ``account_events`` is the append-only audit of sign-ins and
account changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE users
    ADD COLUMN is_demo             boolean NOT NULL DEFAULT false,
    ADD COLUMN failed_logins       integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until        timestamptz,
    ADD COLUMN password_changed_at timestamptz;

ALTER TABLE api_tokens ADD COLUMN parent_id integer REFERENCES api_tokens(id) ON DELETE CASCADE;
CREATE INDEX api_tokens_parent_idx ON api_tokens (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE sessions (
    id            bigserial PRIMARY KEY,
    id_hmac       text NOT NULL UNIQUE,
    user_id       integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    ip            text,
    user_agent    text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE account_events (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL,
    user_id   integer,
    username  text,
    actor     text NOT NULL,
    ip        text,
    data      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX account_events_user_idx ON account_events (user_id, at);

CREATE FUNCTION account_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'account_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER account_events_no_update BEFORE UPDATE OR DELETE ON account_events
    FOR EACH ROW EXECUTE FUNCTION account_events_append_only();
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS account_events, sessions;
DROP FUNCTION IF EXISTS account_events_append_only();
DROP INDEX IF EXISTS api_tokens_parent_idx;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS parent_id;
ALTER TABLE users DROP COLUMN IF EXISTS is_demo, DROP COLUMN IF EXISTS failed_logins,
    DROP COLUMN IF EXISTS locked_until, DROP COLUMN IF EXISTS password_changed_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

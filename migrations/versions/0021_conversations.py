"""Chat, SMS and web reports: conversations an operator turns into incidents, and what the reporter is told.

Telegram and WhatsApp messages, SMS and the public report form (/lapor) each open a
conversation (one open per chat) that the desk reads, answers and converts into an
incident; each conversation is also a contact in ``calls`` (channel chat, sms or web).
When the incident's status changes, a reply for the reporter is queued in
``channel_outbox`` by a trigger (so no code path can forget it).  Messages carry callers'
data: row-level security as calls (desk and the keyed webhooks only), rendered from
app/calls/sql/channels.sql.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28
"""

from alembic import op

from app.calls import visibility

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE conversations (
    id               bigserial PRIMARY KEY,
    channel          text NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'sms', 'web')),
    external_chat    text NOT NULL CHECK (length(external_chat) <= 200),
    contact_name     text CHECK (length(contact_name) <= 200),
    caller_phone     text CHECK (length(caller_phone) <= 40),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'converted', 'closed')),
    call_id          bigint REFERENCES calls(id),
    incident_id      bigint REFERENCES incidents(id),
    category_code    text REFERENCES incident_categories(code),
    token_sha256     text UNIQUE,
    opened_at        timestamptz NOT NULL DEFAULT now(),
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    geom             geometry(Point, 4326)
);
CREATE UNIQUE INDEX conversations_one_open_idx ON conversations (channel, external_chat) WHERE status = 'open';
CREATE INDEX conversations_incident_idx ON conversations (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX conversations_geom_idx ON conversations USING gist (geom);

CREATE TABLE conversation_messages (
    id               bigserial PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations(id),
    direction        text NOT NULL CHECK (direction IN ('in', 'out')),
    external_id      text CHECK (length(external_id) <= 200),
    at               timestamptz NOT NULL DEFAULT now(),
    body             text CHECK (length(body) <= 4096),
    media            jsonb,
    actor            text NOT NULL,
    geom             geometry(Point, 4326),
    UNIQUE (conversation_id, direction, external_id)
);
CREATE INDEX conversation_messages_conv_idx ON conversation_messages (conversation_id, at);
CREATE INDEX conversation_messages_geom_idx ON conversation_messages USING gist (geom);

CREATE TABLE channel_outbox (
    id               bigserial PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations(id),
    channel          text NOT NULL,
    recipient        text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text
);
CREATE INDEX channel_outbox_pending_idx ON channel_outbox (created_at) WHERE sent_at IS NULL;
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS channel_outbox;
DROP TABLE IF EXISTS conversation_messages;
DROP TABLE IF EXISTS conversations;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    visibility.install_channels(op.get_bind())


def downgrade() -> None:
    visibility.uninstall_channels(op.get_bind())
    op.execute(DOWNGRADE)

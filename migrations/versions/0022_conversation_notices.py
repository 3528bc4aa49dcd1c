"""Conversation notices: a chat, SMS or web report that arrives or changes reaches the desk's consoles.

Like the calls' notices (migration 0017), on channel ``peta112`` and on commit only; the
payload names the conversation and nothing of the reporter (``{"table": "conversations",
"op", "id", "status"}``).  The live hub reads the conversation's summary once per batch and
sends it only to the desk's reader classes (app/live/hub.py, SSE event ``conversation``).
A new message notifies for its conversation, so a second message in an open chat is heard too.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION peta112_notify_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'conversation_messages' THEN
        PERFORM pg_notify('peta112', json_build_object(
            'table', 'conversations', 'op', 'message', 'id', NEW.conversation_id)::text);
    ELSE
        PERFORM pg_notify('peta112', json_build_object(
            'table', 'conversations', 'op', lower(TG_OP), 'id', NEW.id, 'status', NEW.status)::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER conversations_notify AFTER INSERT OR UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION peta112_notify_conversation();
CREATE TRIGGER conversation_messages_notify AFTER INSERT ON conversation_messages
    FOR EACH ROW EXECUTE FUNCTION peta112_notify_conversation();
"""

DOWNGRADE = r"""
DROP TRIGGER IF EXISTS conversation_messages_notify ON conversation_messages;
DROP TRIGGER IF EXISTS conversations_notify ON conversations;
DROP FUNCTION IF EXISTS peta112_notify_conversation();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

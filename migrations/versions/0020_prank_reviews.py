"""prank_reviews: supervisors' audited decisions on the prank block-list recommendation.

peta112 never blocks a call to 112.  It recommends numbers with repeated pranks; a
supervisor approves, rejects or lifts a listing with a reason, and every decision is kept
(append-only) with the evidence it was taken on.  Row-level security: the desk only (the
rows are phone numbers), rendered from app/calls/sql/pranks.sql.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from alembic import op

from app.calls import visibility

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE prank_reviews (
    id            bigserial PRIMARY KEY,
    caller_phone  text NOT NULL CHECK (length(caller_phone) <= 40),
    decision      text NOT NULL CHECK (decision IN ('approved', 'rejected', 'lifted')),
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    note          text NOT NULL CHECK (length(note) BETWEEN 1 AND 2000),
    evidence      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX prank_reviews_phone_idx ON prank_reviews (caller_phone, at);
CREATE TRIGGER prank_reviews_append_only BEFORE UPDATE OR DELETE ON prank_reviews
    FOR EACH ROW EXECUTE FUNCTION peta112_append_only();
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    visibility.install_pranks(op.get_bind())


def downgrade() -> None:
    visibility.uninstall_pranks(op.get_bind())
    op.execute("DROP TABLE IF EXISTS prank_reviews")

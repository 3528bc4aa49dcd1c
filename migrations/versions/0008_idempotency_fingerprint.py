"""Idempotency fingerprint: the SHA-256 of the request an Idempotency-Key was first used for.

A retry with the same key and the same request returns the first incident, as before;
the same key with a different request (a fire after a street light) used to return the
earlier incident too, so the second call was silently lost.  Comparing the stored
fingerprint turns that into a 422 the client sees.  Rows from before this column
(NULL) keep the old behaviour: a reused key returns them.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE incidents ADD COLUMN idempotency_fingerprint text "
               "CHECK (idempotency_fingerprint ~ '^[0-9a-f]{64}$')")


def downgrade() -> None:
    op.execute("ALTER TABLE incidents DROP COLUMN IF EXISTS idempotency_fingerprint")

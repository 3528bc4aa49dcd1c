"""units.status_since: when a unit entered its current status, for the unit status board.

A dispatcher reads the board as "T-DAMKAR-1 on scene for 40 minutes"; the status changes
in several commands (assign, lifecycle, release) and in AVL feeds, so the database stamps
it itself, in one trigger, whenever ``status`` changes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE units ADD COLUMN status_since timestamptz NOT NULL DEFAULT now();
UPDATE units SET status_since = COALESCE(position_at, now());
CREATE FUNCTION peta112_unit_status_since() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.status_since := now();
    RETURN NEW;
END $$;
CREATE TRIGGER units_status_since BEFORE UPDATE OF status ON units
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION peta112_unit_status_since();
"""

DOWNGRADE = r"""
DROP TRIGGER IF EXISTS units_status_since ON units;
DROP FUNCTION IF EXISTS peta112_unit_status_since();
ALTER TABLE units DROP COLUMN IF EXISTS status_since;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

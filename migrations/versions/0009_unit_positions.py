"""unit_positions: every accepted AVL position update, with who sent it and when.

Units used to keep only their last position (``units.geom``), so a position sent by a
stolen token or a broken tracker left no trace.  Each accepted update now also appends
a row here; like ``incident_events`` the table is append-only (only TRUNCATE, a demo
reset, clears it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE unit_positions (
    id       bigserial PRIMARY KEY,
    unit_id  integer NOT NULL REFERENCES units(id),
    actor    text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    geom     geometry(Point, 4326) NOT NULL
);
CREATE INDEX unit_positions_unit_at_idx ON unit_positions (unit_id, at);
CREATE INDEX unit_positions_geom_idx ON unit_positions USING gist (geom);

-- One trigger function for any append-only audit table (incident_events keeps its own from 0001).
CREATE FUNCTION peta112_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER unit_positions_no_update BEFORE UPDATE OR DELETE ON unit_positions
    FOR EACH ROW EXECUTE FUNCTION peta112_append_only();
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS unit_positions;
DROP FUNCTION IF EXISTS peta112_append_only();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

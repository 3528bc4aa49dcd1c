"""flood_states: BPBD's flood depth state per kelurahan, with history.

PetaBencana-style levels as used by BPBD DKI, stored as smallint 1..4:
1 = hati-hati (use caution, depth unknown), 2 = 10-70 cm, 3 = 71-150 cm,
4 = over 150 cm.  "Clear" is not a level: it is the absence of a current row.
Every change is a new row and the previous one gets ``cleared_at`` (and
``cleared_by``), so the table is the history; the current state of a kelurahan
is its one row with ``cleared_at IS NULL``, enforced by a partial unique index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE flood_states (
    id            bigserial PRIMARY KEY,
    kelurahan_id  integer NOT NULL REFERENCES admin_areas(id) ON DELETE CASCADE,
    level         smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    note          text,
    set_by        text NOT NULL,
    set_at        timestamptz NOT NULL DEFAULT now(),
    cleared_at    timestamptz,
    cleared_by    text,
    CHECK (cleared_at IS NULL OR cleared_at >= set_at)
);
CREATE UNIQUE INDEX flood_states_current_idx ON flood_states (kelurahan_id) WHERE cleared_at IS NULL;
CREATE INDEX flood_states_kelurahan_idx ON flood_states (kelurahan_id, set_at DESC);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS flood_states;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

"""incident_public gains ``due_at``; incident_facts joins categories with LEFT JOIN.

Open311 ``expected_datetime`` computed the category's target time again in its own SQL;
the public projection now carries ``due_at`` as incident_facts does.  incident_facts'
category join becomes LEFT (no row differs: a NOT NULL foreign key) so PostgreSQL drops
it for readers that use no category column (counts, hotspots).  The views are re-rendered
from app/incidents/sql/facts.sql.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from alembic import op

from app.incidents import facts

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    facts.install(op.get_bind(), with_role=False)


def downgrade() -> None:
    # Views are rendered from the current facts.sql; 0011's downgrade removes them.
    pass

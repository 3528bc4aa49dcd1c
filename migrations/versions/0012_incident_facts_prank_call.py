"""incident_facts gains ``is_prank_call``: the one definition of a prank call, for the prank rate.

Analytics count only ``is_counted`` calls; the call centre's prank rate is the one
figure that counts pranks, and it used to repeat the prank rule (flag, status or
category) in its own SQL.  The view is re-rendered from app/incidents/sql/facts.sql.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from alembic import op

from app.incidents import facts

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    facts.install(op.get_bind(), with_role=False)


def downgrade() -> None:
    # The views are always rendered from the current facts.sql (incident_facts_visibility installs the
    # same text), so there is no older view to restore; that migration's downgrade removes them.
    pass

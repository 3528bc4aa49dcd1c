"""A partial GiST index of open calls by place, for intake's duplicate search.

Intake looks for an open call of a related category within 300 m.  Through the category index
that read every call of the category in the last hour (a flood, or a burst of calls, made it
hundreds), and through the place index every past call nearby; the open calls nearby are a
handful.  The index is rendered with the open statuses (app/incidents/sql/facts.sql), so a
later migration that installs the rules again rebuilds it with the list of that day.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29
"""

from alembic import op

from app.incidents import facts

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    facts.install(op.get_bind(), with_role=False)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS incidents_open_geom_idx")

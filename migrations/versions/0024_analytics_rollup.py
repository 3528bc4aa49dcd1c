"""The analytics rollup: rows packed as fixed records in cells of (kind, UTC day, part).

- ``rollup_cells``: kind ``tasks`` (part: the agency; the counted tasks, for agency
  performance) or ``incidents`` (part ''; every call with its counted and prank-call
  flags, for trends and the dashboard); ``data`` holds the packed records
  (app/services/analytics/rollup.py ``TASK`` / ``INCIDENT``), ``version`` the refresh
  that wrote it (a server process re-reads only newer cells).  Row-level security: the
  web role reads cells only as a reader who sees every incident.
- ``rollup_changes``: an append-only log of cells to rebuild, written by statement-level
  triggers on ``incident_tasks`` (insert, update, delete, truncate) and ``incidents``
  (insert; a change of day, category, kecamatan, counted-ness or prank flag; delete;
  truncate); emptied by ``peta112 analytics refresh`` and the server's refresher.
- ``rollup_categories``: small ids for category codes inside the records.
- ``rollup_state``: the rollup's epoch (new after a TRUNCATE) and version.

Everything that exists at upgrade is logged, so the first refresh builds every cell;
until then a reader builds the cells of its window from the raw tables (or, past 1,000
cells, runs the raw query), and the answer is the same.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29
"""

from alembic import op

from app.services.analytics import rollup

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rollup.install(op.get_bind())
    rollup.log_all(op.get_bind())


def downgrade() -> None:
    rollup.uninstall(op.get_bind())

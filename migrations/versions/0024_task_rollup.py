"""The agency-performance rollup: counted tasks packed per (UTC day, agency) cell.

- ``task_cells``: one row per UTC day of the call and agency; ``data`` is the cell's
  tasks as packed 64-bit records (app/services/analytics/rollup.py ``RECORD``),
  ``version`` the refresh that wrote it (a server process re-reads only newer cells).
  Row-level security: the web role reads cells only as a reader who sees every incident.
- ``task_cell_changes``: an append-only log of cells to rebuild, written by statement-level
  triggers on ``incident_tasks`` (insert, update, delete, truncate) and ``incidents`` (a
  change of day, category, kecamatan or counted-ness; delete; truncate); emptied by
  ``peta112 analytics refresh`` and the server's refresher.
- ``task_cell_categories``: small ids for category codes inside the records.
- ``task_rollup_state``: the rollup's epoch (new after a TRUNCATE) and version.

Everything that exists at upgrade is logged, so the first refresh builds every cell;
until then a reader builds the cells of its window from the tasks, and the answer is the same.

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


def downgrade() -> None:
    rollup.uninstall(op.get_bind())

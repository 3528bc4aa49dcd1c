"""One read model and visibility in the database: incident_facts, row-level security, public categories.

- ``incident_categories.is_public`` / ``public_description``: which calls anonymous
  readers (Open311) may see at all, and whether with their description.
- ``read_audit``: one row per list or export that returned incidents (who, what
  filter, how many, whether callers' data was included).
- The ``peta112_app`` role the web app runs as, row-level security on incidents,
  tasks, assignments and events, and the ``incident_facts`` / ``incident_public``
  views: see app/incidents/sql/facts.sql (installed by app/incidents/facts.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from alembic import op

from app.incidents import facts

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Street lights, fallen trees, floods, landslides, wasp nests and environmental nuisances are
# reported to be fixed in public view; crime, drugs, medical calls, fire (people inside), the
# dead, social cases and pranks are never published.
PUBLIC = ("pju_mati", "pohon_tumbang", "banjir", "rob", "tanah_longsor", "sarang_tawon", "lingkungan")
PUBLIC_DESCRIPTION = ("pju_mati", "pohon_tumbang")

UPGRADE = """
ALTER TABLE incident_categories
    ADD COLUMN is_public boolean NOT NULL DEFAULT false,
    ADD COLUMN public_description boolean NOT NULL DEFAULT false;
UPDATE incident_categories SET is_public = code = ANY(:public), public_description = code = ANY(:described);

CREATE TABLE read_audit (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    username       text NOT NULL,
    role           text NOT NULL,
    surface        text NOT NULL,
    filter         jsonb NOT NULL DEFAULT '{}',
    count          integer NOT NULL,
    personal_data  boolean NOT NULL
);
CREATE INDEX read_audit_user_at_idx ON read_audit (username, at DESC);
"""


def upgrade() -> None:
    import sqlalchemy as sa

    conn = op.get_bind()
    for stmt in UPGRADE.split(";\n"):
        if stmt.strip():
            conn.execute(sa.text(stmt), {"public": list(PUBLIC), "described": list(PUBLIC_DESCRIPTION)}
                         if ":public" in stmt else {})
    facts.install(conn)


def downgrade() -> None:
    conn = op.get_bind()
    facts.uninstall(conn)
    op.execute("DROP TABLE IF EXISTS read_audit")
    op.execute("ALTER TABLE incident_categories DROP COLUMN IF EXISTS is_public, "
               "DROP COLUMN IF EXISTS public_description")

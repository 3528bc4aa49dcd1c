"""city_profile: which city this database serves, its metric CRS and its time zone.

One row (``id = 1``), written by ``peta112 city setup``: the UTM zone picked from the
data's extent (``utm_epsg``; ``utm_epsg_auto`` keeps what was picked when an operator
overrode it), the IANA time zone (Asia/Jakarta WIB, Asia/Makassar WITA, Asia/Jayapura
WIT), the extent, the files it was set up from and the last readiness report.  No row:
a database from before (or the demo city), read as UTM 49S and Asia/Jakarta.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE city_profile (
    id            smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    name          text NOT NULL,
    utm_epsg      integer NOT NULL CHECK (utm_epsg BETWEEN 32601 AND 32660 OR utm_epsg BETWEEN 32701 AND 32760),
    utm_epsg_auto integer,
    timezone      text NOT NULL CHECK (timezone IN ('Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura')),
    extent        geometry(Polygon, 4326),
    sources       jsonb NOT NULL DEFAULT '{}'::jsonb,
    readiness     jsonb,
    set_up_at     timestamptz NOT NULL DEFAULT now()
);
-- One row, but every geometry column is indexed: the rule docs/schema.md states and a test checks.
CREATE INDEX city_profile_extent_idx ON city_profile USING gist (extent);
""")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS city_profile")

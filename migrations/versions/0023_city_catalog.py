"""The city's own catalog: retired categories and agencies, unit kinds per agency, an audit of changes.

``peta112 city catalog apply FILE`` (app/city/catalog.py) makes agencies, categories,
routing rules and response plans what the city's catalog file says.  What the file
drops but the city's history still references is *retired*, never deleted:

- ``incident_categories.retired_at`` / ``agencies.retired_at``: set when the file no
  longer lists a code that incidents (or stations, units, tasks, users...) still use.
  Intake and Open311 refuse a retired category; old incidents keep showing it.
- ``agencies.unit_types``: the types of unit an agency runs (fire_engine, ambulance...),
  so a response plan naming a kind the agency has not is refused before it is applied.
  Seeded with the kinds the demo city's stations field (geodata/demo/stations.py).
- ``incident_categories.related``: the categories that describe the same event when
  reported nearby (a flood and a tidal flood, a crash and an ambulance request): the
  duplicate check at intake looks for open calls of the category and these.  Seeded
  with the groups that lived in app/incidents/lifecycle.py until now.
- ``catalog_events``: append-only, one row per change an apply made (who, which file,
  before and after), in the style of ``account_events``.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UNIT_TYPES = {
    "DAMKAR": ["fire_engine", "rescue_unit"],
    "DINKES": ["ambulance", "hearse"],
    "POLRI": ["patrol_car"],
    "BPBD": ["rescue_boat", "rescue_truck"],
    "PU": ["utility_truck", "skylift"],
    "DLH": ["dlh_truck"],
    "SATPOLPP": ["satpolpp_patrol"],
    "DINSOS": ["dinsos_van"],
    "PMI": ["blood_van"],
    "BNN": ["bnn_team"],
    "DISHUB": ["tow_truck", "dishub_patrol"],
    "PLN": ["pln_crew"],
}

# Categories that describe the same event when reported twice nearby (symmetric, not transitive).
RELATED_GROUPS = (
    ("banjir", "rob"),
    ("kecelakaan", "ambulans"),
    ("kebakaran", "ambulans"),
    ("kriminal", "perjudian", "narkoba", "gangguan_ketertiban"),
    ("pohon_tumbang", "tanah_longsor"),
)

UPGRADE = r"""
ALTER TABLE incident_categories
    ADD COLUMN retired_at timestamptz,
    ADD COLUMN related text[] NOT NULL DEFAULT '{}';
ALTER TABLE agencies
    ADD COLUMN retired_at timestamptz,
    ADD COLUMN unit_types text[] NOT NULL DEFAULT '{}';

CREATE TABLE catalog_events (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    kind    text NOT NULL,
    code    text NOT NULL,
    actor   text NOT NULL,
    source  text,
    data    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX catalog_events_code_idx ON catalog_events (code, at);

CREATE FUNCTION catalog_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'catalog_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER catalog_events_no_update BEFORE UPDATE OR DELETE ON catalog_events
    FOR EACH ROW EXECUTE FUNCTION catalog_events_append_only();
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS catalog_events;
DROP FUNCTION IF EXISTS catalog_events_append_only();
ALTER TABLE agencies DROP COLUMN IF EXISTS retired_at, DROP COLUMN IF EXISTS unit_types;
ALTER TABLE incident_categories DROP COLUMN IF EXISTS retired_at, DROP COLUMN IF EXISTS related;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE agencies SET unit_types = :kinds WHERE code = :code"),
                 [{"code": c, "kinds": k} for c, k in UNIT_TYPES.items()])
    related: dict[str, set[str]] = {}
    for group in RELATED_GROUPS:
        for code in group:
            related.setdefault(code, set()).update(c for c in group if c != code)
    conn.execute(sa.text("UPDATE incident_categories SET related = :related WHERE code = :code"),
                 [{"code": c, "related": sorted(r)} for c, r in related.items()])


def downgrade() -> None:
    op.execute(DOWNGRADE)

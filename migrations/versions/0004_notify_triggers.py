"""NOTIFY peta112 on every incident and unit change, for the map's live stream.

A trigger rather than application code, so that every writer (the API, the CLI,
an importer, psql by hand) is seen, and a notification leaves only when its
transaction commits: listeners never see a change that is rolled back.
The payload is small (ids, status, a unit's position); listeners fetch details.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION peta112_notify_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  payload json;
BEGIN
  IF TG_TABLE_NAME = 'incidents' THEN
    payload := json_build_object('table', 'incidents', 'op', lower(TG_OP), 'id', NEW.id,
                                 'status', NEW.status, 'category', NEW.category_code);
  ELSE
    payload := json_build_object('table', 'units', 'op', lower(TG_OP), 'id', NEW.id,
                                 'callsign', NEW.callsign, 'agency', NEW.agency_code, 'status', NEW.status,
                                 'current_incident_id', NEW.current_incident_id,
                                 'lat', ST_Y(NEW.geom), 'lon', ST_X(NEW.geom), 'position_at', NEW.position_at);
  END IF;
  PERFORM pg_notify('peta112', payload::text);
  RETURN NULL;
END
$fn$;

CREATE TRIGGER incidents_notify AFTER INSERT OR UPDATE ON incidents
  FOR EACH ROW EXECUTE FUNCTION peta112_notify_change();
CREATE TRIGGER units_notify AFTER INSERT OR UPDATE ON units
  FOR EACH ROW EXECUTE FUNCTION peta112_notify_change();
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS units_notify ON units;
DROP TRIGGER IF EXISTS incidents_notify ON incidents;
DROP FUNCTION IF EXISTS peta112_notify_change();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

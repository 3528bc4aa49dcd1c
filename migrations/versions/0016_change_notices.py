"""Notices for the server processes' caches: ``auth`` when a credential ends, ``basemap`` on import.

Each server process keeps the sessions and tokens it confirmed for a few seconds, and the
basemap tiles (roads, areas, landmarks) it rendered, in memory (app/services/credential_cache.py,
app/web/tiles.py).  Both must forget at once when what they hold stops being true, whoever
changed it (the API, the CLI, an importer, psql), so triggers announce it on the channel the
live hub already listens to (``peta112``), on commit only:

- ``{"table": "auth"}`` when a session is deleted (sign-out, a leaver, a new password), a
  user's ``active``, ``role``, ``agency_code`` or ``password_hash`` changes, or a token is
  revoked, re-dated or deleted;
- ``{"table": "basemap"}`` after any statement that changes ``road_edges``, ``admin_areas``
  or ``places``;
- ``{"table": "stations"}`` after any statement that changes ``stations`` (the routing tables
  of a process are built from roads and stations).

PostgreSQL folds identical notices of one transaction into one, so a bulk change is one notice.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION peta112_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('peta112', '{"table": "auth"}');
  RETURN NULL;
END
$fn$;

CREATE FUNCTION peta112_notify_basemap() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('peta112', '{"table": "basemap"}');
  RETURN NULL;
END
$fn$;

CREATE FUNCTION peta112_notify_stations() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('peta112', '{"table": "stations"}');
  RETURN NULL;
END
$fn$;

CREATE TRIGGER sessions_notify_auth AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION peta112_notify_auth();
CREATE TRIGGER users_notify_auth AFTER UPDATE ON users
  FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.role IS DISTINCT FROM NEW.role
                     OR OLD.agency_code IS DISTINCT FROM NEW.agency_code
                     OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
  EXECUTE FUNCTION peta112_notify_auth();
CREATE TRIGGER users_delete_notify_auth AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION peta112_notify_auth();
CREATE TRIGGER api_tokens_notify_auth AFTER UPDATE ON api_tokens
  FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
                     OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
                     OR OLD.token_sha256 IS DISTINCT FROM NEW.token_sha256)
  EXECUTE FUNCTION peta112_notify_auth();
CREATE TRIGGER api_tokens_delete_notify_auth AFTER DELETE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION peta112_notify_auth();

CREATE TRIGGER road_edges_notify_basemap AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON road_edges
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_notify_basemap();
CREATE TRIGGER admin_areas_notify_basemap AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_areas
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_notify_basemap();
CREATE TRIGGER places_notify_basemap AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON places
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_notify_basemap();
CREATE TRIGGER stations_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stations
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_notify_stations();
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS stations_notify ON stations;
DROP TRIGGER IF EXISTS places_notify_basemap ON places;
DROP TRIGGER IF EXISTS admin_areas_notify_basemap ON admin_areas;
DROP TRIGGER IF EXISTS road_edges_notify_basemap ON road_edges;
DROP TRIGGER IF EXISTS api_tokens_delete_notify_auth ON api_tokens;
DROP TRIGGER IF EXISTS api_tokens_notify_auth ON api_tokens;
DROP TRIGGER IF EXISTS users_delete_notify_auth ON users;
DROP TRIGGER IF EXISTS users_notify_auth ON users;
DROP TRIGGER IF EXISTS sessions_notify_auth ON sessions;
DROP FUNCTION IF EXISTS peta112_notify_stations();
DROP FUNCTION IF EXISTS peta112_notify_basemap();
DROP FUNCTION IF EXISTS peta112_notify_auth();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

-- The incident read model and who may see what, installed by app/incidents/facts.py.
-- Tokens like @open@ are rendered from app/incidents/lifecycle.py and viewer.py (text[] literals),
-- so the status lists and role sets are written once, in Python; the rules that use them
-- (open, overdue, counted, visible, public) are written once, here.

-- name: app_role
-- The web app's database role.  Not a superuser and not the tables' owner, so row-level
-- security applies to it; the app switches to it with SET ROLE on every new connection,
-- while migrations, the CLI and importers run as the owner.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'peta112_app') THEN
    CREATE ROLE peta112_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- created by a parallel migration
END
$do$;
DO $do$
BEGIN
  IF NOT pg_has_role(current_user, 'peta112_app', 'MEMBER') THEN
    EXECUTE format('GRANT peta112_app TO %I', current_user);
  END IF;
END
$do$;
GRANT USAGE ON SCHEMA public TO peta112_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO peta112_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO peta112_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO peta112_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO peta112_app;
-- Incidents and their audit trail are never deleted by the app (retention erases fields instead).
REVOKE DELETE ON incidents, incident_events, read_audit FROM peta112_app;

-- name: install
-- Who is reading: transaction-local settings written by app/incidents/facts.py:apply_viewer.
-- Unset means anonymous, which sees no incident rows at all (fail closed).
CREATE OR REPLACE FUNCTION peta112_viewer_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT COALESCE(NULLIF(current_setting('peta112.viewer_role', true), ''), 'anonymous') $$;

CREATE OR REPLACE FUNCTION peta112_viewer_agency() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('peta112.viewer_agency', true), '') $$;

CREATE OR REPLACE FUNCTION peta112_viewer_sees_personal() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT peta112_viewer_role() = ANY(@personal_roles@) $$;

-- Reads incident_tasks as the owner, so the policies of incidents and incident_tasks
-- (each of which asks this) do not recurse into each other.
CREATE OR REPLACE FUNCTION peta112_agency_has_task(incident bigint, agency text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT EXISTS (SELECT 1 FROM incident_tasks t WHERE t.incident_id = incident AND t.agency_code = agency) $$;

-- THE visibility rule: may a reader with this role and agency see this incident?
-- Used by the row-level security policies below and by the live stream (for each listener).
CREATE OR REPLACE FUNCTION peta112_incident_visible(incident bigint, viewer_role text, viewer_agency text)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN viewer_role = ANY(@all_rows_roles@) THEN true
               WHEN viewer_role = ANY(@agency_roles@)
                    THEN viewer_agency IS NOT NULL AND peta112_agency_has_task(incident, viewer_agency)
               ELSE false END $$;

-- Open calls by place, for intake's duplicate search (app/incidents/sql/intake.sql): a partial index
-- with the open statuses written in, so it is rebuilt whenever the list changes and this is installed.
DROP INDEX IF EXISTS incidents_open_geom_idx;
CREATE INDEX incidents_open_geom_idx ON incidents USING gist (geom) WHERE status = ANY(@open@);

-- The lifecycle rules, from app/incidents/lifecycle.py.
CREATE OR REPLACE FUNCTION peta112_open_statuses() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT @open@ $$;
CREATE OR REPLACE FUNCTION peta112_awaiting_statuses() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT @awaiting@ $$;
CREATE OR REPLACE FUNCTION peta112_not_counted_statuses() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT @not_counted@ $$;

ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_events ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS incidents_visible ON incidents;
CREATE POLICY incidents_visible ON incidents FOR SELECT TO peta112_app
  USING (peta112_incident_visible(id, peta112_viewer_role(), peta112_viewer_agency()));
DROP POLICY IF EXISTS incidents_create ON incidents;
CREATE POLICY incidents_create ON incidents FOR INSERT TO peta112_app
  WITH CHECK (peta112_viewer_role() = ANY(@creator_roles@));
DROP POLICY IF EXISTS incidents_change ON incidents;
CREATE POLICY incidents_change ON incidents FOR UPDATE TO peta112_app
  USING (peta112_incident_visible(id, peta112_viewer_role(), peta112_viewer_agency()));

DROP POLICY IF EXISTS incident_tasks_visible ON incident_tasks;
CREATE POLICY incident_tasks_visible ON incident_tasks FOR ALL TO peta112_app
  USING (peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()))
  WITH CHECK (peta112_viewer_role() = ANY(@creator_roles@)
              OR peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()));
DROP POLICY IF EXISTS assignments_visible ON assignments;
CREATE POLICY assignments_visible ON assignments FOR ALL TO peta112_app
  USING (peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()))
  WITH CHECK (peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()));
DROP POLICY IF EXISTS incident_events_visible ON incident_events;
CREATE POLICY incident_events_visible ON incident_events FOR ALL TO peta112_app
  USING (peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()))
  WITH CHECK (peta112_viewer_role() = ANY(@creator_roles@)
              OR peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()));

DROP VIEW IF EXISTS incident_public;
DROP VIEW IF EXISTS incident_facts;

-- The one read model: what an incident is for a reader.  security_invoker: the reader's
-- row-level security applies; callers' data is NULL unless the reader may see it.
CREATE VIEW incident_facts WITH (security_invoker = true) AS
SELECT i.id, i.category_code AS category, c.name_id AS category_name, c.name_en AS category_name_en,
       c.color, c.is_emergency, c.is_public AS public_category,
       i.status, i.priority, i.source, i.address, i.description,
       CASE WHEN peta112_viewer_sees_personal() THEN i.caller_name END AS caller_name,
       CASE WHEN peta112_viewer_sees_personal() THEN i.caller_phone END AS caller_phone,
       i.is_prank, i.duplicate_of,
       i.kelurahan_id, kel.code AS kelurahan_code, kel.name AS kelurahan,
       i.kecamatan_id, kec.code AS kecamatan_code, kec.name AS kecamatan,
       i.received_at, i.verified_at, i.dispatched_at, i.en_route_at, i.on_scene_at, i.resolved_at,
       i.closed_at, i.cancelled_at, i.updated_at,
       c.target_response_s,
       i.received_at + make_interval(secs => c.target_response_s) AS due_at,
       -- open: still being worked on
       i.status = ANY(peta112_open_statuses()) AS is_open,
       -- overdue: open, nobody on scene yet, and past the category's target time
       (i.status = ANY(peta112_awaiting_statuses())
        AND now() > i.received_at + make_interval(secs => c.target_response_s)) AS is_overdue,
       -- counted: a real event (not a prank, a cancelled call or a duplicate report)
       NOT (i.is_prank OR i.status = ANY(peta112_not_counted_statuses()) OR i.duplicate_of IS NOT NULL
            OR i.category_code = @prank_category@) AS is_counted,
       -- a prank call by any sign (flagged, ended as prank, or filed as one): what the prank rate counts
       (i.is_prank OR i.status = @prank_status@ OR i.category_code = @prank_category@) AS is_prank_call,
       -- callers about this event: the first plus those merged into it (incident_reports)
       @report_count@ AS report_count,
       i.geom
FROM incidents i
-- LEFT (category_code is a NOT NULL foreign key, so no row differs): PostgreSQL then skips
-- the join when a reader uses no category column, as it does for the areas.
LEFT JOIN incident_categories c ON c.code = i.category_code
LEFT JOIN admin_areas kel ON kel.id = i.kelurahan_id
LEFT JOIN admin_areas kec ON kec.id = i.kecamatan_id;

-- What anyone may see without signing in: counted incidents of categories the city marked
-- public, from the last @public_window_days@ days, located to the centre of a ~110 m cell
-- (0.001 degree), placed by kelurahan rather than house address, no caller data, and a
-- description only where the category allows it.  A definer view: anonymous readers have
-- no rows in incidents at all, they read only this projection.
CREATE VIEW incident_public AS
SELECT i.id, i.category_code AS category, c.name_id AS category_name, c.name_en AS category_name_en,
       i.status, i.status = ANY(peta112_open_statuses()) AS is_open,
       CASE WHEN c.public_description THEN i.description END AS description,
       concat_ws(', ', 'Kel. ' || kel.name, 'Kec. ' || kec.name) AS area,
       kel.name AS kelurahan, kec.name AS kecamatan,
       i.received_at, i.updated_at, i.resolved_at, i.closed_at,
       i.received_at + make_interval(secs => c.target_response_s) AS due_at,
       ST_SetSRID(ST_MakePoint(floor(ST_X(i.geom) * 1000) / 1000 + 0.0005,
                               floor(ST_Y(i.geom) * 1000) / 1000 + 0.0005), 4326) AS geom
FROM incidents i
JOIN incident_categories c ON c.code = i.category_code
LEFT JOIN admin_areas kel ON kel.id = i.kelurahan_id
LEFT JOIN admin_areas kec ON kec.id = i.kecamatan_id
WHERE c.is_public
  AND i.received_at > now() - make_interval(days => @public_window_days@)
  AND NOT (i.is_prank OR i.status = ANY(peta112_not_counted_statuses()) OR i.duplicate_of IS NOT NULL);

GRANT SELECT ON incident_facts, incident_public TO peta112_app;

-- name: install_reports
-- Further callers merged into an incident (migration 0014): the incident's visibility, and
-- callers' data masked as in incident_facts.  Reports are filed by the desk only.
ALTER TABLE incident_reports ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS incident_reports_visible ON incident_reports;
CREATE POLICY incident_reports_visible ON incident_reports FOR SELECT TO peta112_app
  USING (peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()));
DROP POLICY IF EXISTS incident_reports_create ON incident_reports;
CREATE POLICY incident_reports_create ON incident_reports FOR INSERT TO peta112_app
  WITH CHECK (peta112_viewer_sees_personal()
              AND peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()));
DROP POLICY IF EXISTS incident_reports_change ON incident_reports;
CREATE POLICY incident_reports_change ON incident_reports FOR UPDATE TO peta112_app
  USING (peta112_viewer_sees_personal()
         AND peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency()));

DROP VIEW IF EXISTS incident_report_facts;
CREATE VIEW incident_report_facts WITH (security_invoker = true) AS
SELECT r.id, r.incident_id, r.received_at, r.actor, r.source, r.description, r.address,
       CASE WHEN peta112_viewer_sees_personal() THEN r.caller_name END AS caller_name,
       CASE WHEN peta112_viewer_sees_personal() THEN r.caller_phone END AS caller_phone,
       r.geom
FROM incident_reports r;
GRANT SELECT ON incident_report_facts TO peta112_app;

-- name: uninstall_reports
DROP VIEW IF EXISTS incident_report_facts;
DROP POLICY IF EXISTS incident_reports_visible ON incident_reports;
DROP POLICY IF EXISTS incident_reports_create ON incident_reports;
DROP POLICY IF EXISTS incident_reports_change ON incident_reports;
ALTER TABLE incident_reports DISABLE ROW LEVEL SECURITY;

-- name: uninstall
DROP INDEX IF EXISTS incidents_open_geom_idx;
DROP VIEW IF EXISTS incident_public;
DROP VIEW IF EXISTS incident_facts;
DROP POLICY IF EXISTS incidents_visible ON incidents;
DROP POLICY IF EXISTS incidents_create ON incidents;
DROP POLICY IF EXISTS incidents_change ON incidents;
DROP POLICY IF EXISTS incident_tasks_visible ON incident_tasks;
DROP POLICY IF EXISTS assignments_visible ON assignments;
DROP POLICY IF EXISTS incident_events_visible ON incident_events;
ALTER TABLE incidents DISABLE ROW LEVEL SECURITY;
ALTER TABLE incident_tasks DISABLE ROW LEVEL SECURITY;
ALTER TABLE assignments DISABLE ROW LEVEL SECURITY;
ALTER TABLE incident_events DISABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS peta112_incident_visible(bigint, text, text);
DROP FUNCTION IF EXISTS peta112_agency_has_task(bigint, text);
DROP FUNCTION IF EXISTS peta112_viewer_sees_personal();
DROP FUNCTION IF EXISTS peta112_viewer_agency();
DROP FUNCTION IF EXISTS peta112_viewer_role();
DROP FUNCTION IF EXISTS peta112_open_statuses();
DROP FUNCTION IF EXISTS peta112_awaiting_statuses();
DROP FUNCTION IF EXISTS peta112_not_counted_statuses();

-- name: revoke_app_role
-- The role is cluster-wide (other databases may use it): only this database's grants go.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM peta112_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM peta112_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM peta112_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM peta112_app;
REVOKE USAGE ON SCHEMA public FROM peta112_app;

-- name: set_viewer
SELECT set_config('peta112.viewer_role', :role, true), set_config('peta112.viewer_agency', :agency, true);

-- name: rules
-- What the installed rules say, for the test that Python and SQL agree.
SELECT peta112_open_statuses() AS open, peta112_awaiting_statuses() AS awaiting,
       peta112_not_counted_statuses() AS not_counted;

-- The agency-performance rollup: one cell per (UTC day of the call, agency) holding the
-- counted tasks of that day as packed per-task records (app/services/analytics/rollup.py),
-- kept exact by marking cells dirty on every change that could alter them.
-- Tokens like @all_rows_roles@ are rendered by app.incidents.facts.render.

-- name: install
CREATE TABLE IF NOT EXISTS task_rollup_state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch uuid NOT NULL DEFAULT gen_random_uuid(),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO task_rollup_state (one) VALUES (true) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS task_cell_categories (
    id smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS task_cells (
    day date NOT NULL,
    agency_code text NOT NULL,
    version bigint NOT NULL,
    tasks integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (day, agency_code)
);
-- Packed float64 records do not compress; stored out of line without pglz, read straight.
ALTER TABLE task_cells ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS task_cells_version_idx ON task_cells (version);

-- A log of cells to rebuild: appended by the triggers below, emptied by the refresh.  An
-- append-only log needs no row lock: a refresh deletes only the marks its snapshot sees, so a
-- writer still in flight keeps its mark and its change is folded by the next refresh.
CREATE TABLE IF NOT EXISTS task_cell_changes (
    day date NOT NULL,
    agency_code text NOT NULL
);
CREATE INDEX IF NOT EXISTS task_cell_changes_idx ON task_cell_changes (day, agency_code);

-- The web role reads cells only as a reader who may see every incident; refreshing is the
-- owner's job (the server's refresher and the CLI connect as the owner).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON task_rollup_state, task_cell_categories, task_cells, task_cell_changes
    FROM peta112_app;
GRANT SELECT ON task_rollup_state, task_cell_categories, task_cells, task_cell_changes TO peta112_app;
ALTER TABLE task_cells ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS task_cells_all_rows ON task_cells;
CREATE POLICY task_cells_all_rows ON task_cells FOR SELECT TO peta112_app
  USING (peta112_viewer_role() = ANY(@all_rows_roles@));

CREATE OR REPLACE FUNCTION peta112_cell_day(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (at AT TIME ZONE 'UTC')::date $$;

-- Statement-level, with transition tables: a bulk load marks each cell once, not once per row.
CREATE OR REPLACE FUNCTION peta112_task_cells_on_task() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO task_cell_changes (day, agency_code)
    SELECT DISTINCT peta112_cell_day(i.received_at), x.agency_code
    FROM (SELECT incident_id, agency_code FROM changed_new UNION SELECT incident_id, agency_code FROM changed_old) x
    JOIN incidents i ON i.id = x.incident_id;
  ELSE
    -- a task added or removed also changes which of its incident's tasks counts the incident once
    INSERT INTO task_cell_changes (day, agency_code)
    SELECT DISTINCT peta112_cell_day(i.received_at), x.agency_code
    FROM (SELECT incident_id, agency_code FROM changed
          UNION SELECT t.incident_id, t.agency_code FROM incident_tasks t
                WHERE t.incident_id IN (SELECT incident_id FROM changed)) x
    JOIN incidents i ON i.id = x.incident_id;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION peta112_task_cells_on_incident() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO task_cell_changes (day, agency_code)
  SELECT DISTINCT d, t.agency_code
  FROM changed_old o JOIN changed_new n ON n.id = o.id
  CROSS JOIN LATERAL (VALUES (peta112_cell_day(o.received_at)), (peta112_cell_day(n.received_at))) v(d)
  JOIN incident_tasks t ON t.incident_id = o.id
  WHERE o.received_at IS DISTINCT FROM n.received_at
     OR o.category_code IS DISTINCT FROM n.category_code
     OR o.kecamatan_id IS DISTINCT FROM n.kecamatan_id
     OR o.is_prank IS DISTINCT FROM n.is_prank
     OR o.duplicate_of IS DISTINCT FROM n.duplicate_of
     OR (o.status = ANY(peta112_not_counted_statuses())) IS DISTINCT FROM (n.status = ANY(peta112_not_counted_statuses()));
  RETURN NULL;
END $$;

-- Row level and BEFORE: after the delete its tasks are gone (the foreign key cascades first).
CREATE OR REPLACE FUNCTION peta112_task_cells_on_incident_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO task_cell_changes (day, agency_code)
  SELECT peta112_cell_day(OLD.received_at), agency_code FROM incident_tasks WHERE incident_id = OLD.id;
  RETURN OLD;
END $$;

-- TRUNCATE fires no row trigger: start the rollup again (a new epoch empties every cache).
CREATE OR REPLACE FUNCTION peta112_task_cells_reset() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM task_cells;
  DELETE FROM task_cell_changes;
  UPDATE task_rollup_state SET epoch = gen_random_uuid(), version = version + 1;
  INSERT INTO task_cell_changes (day, agency_code)
  SELECT DISTINCT peta112_cell_day(i.received_at), t.agency_code
  FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION peta112_task_cells_on_category() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO task_cell_categories (code) SELECT code FROM changed ORDER BY code ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS task_cells_on_task_insert ON incident_tasks;
CREATE TRIGGER task_cells_on_task_insert AFTER INSERT ON incident_tasks REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_on_task();
DROP TRIGGER IF EXISTS task_cells_on_task_delete ON incident_tasks;
CREATE TRIGGER task_cells_on_task_delete AFTER DELETE ON incident_tasks REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_on_task();
DROP TRIGGER IF EXISTS task_cells_on_task_update ON incident_tasks;
CREATE TRIGGER task_cells_on_task_update AFTER UPDATE ON incident_tasks
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_on_task();
-- What a cell holds of an incident: its day, category, kecamatan and whether it is counted.
DROP TRIGGER IF EXISTS task_cells_on_incident ON incidents;
CREATE TRIGGER task_cells_on_incident AFTER UPDATE ON incidents
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_on_incident();
DROP TRIGGER IF EXISTS task_cells_on_incident_delete ON incidents;
CREATE TRIGGER task_cells_on_incident_delete BEFORE DELETE ON incidents
  FOR EACH ROW EXECUTE FUNCTION peta112_task_cells_on_incident_delete();
DROP TRIGGER IF EXISTS task_cells_on_tasks_truncate ON incident_tasks;
CREATE TRIGGER task_cells_on_tasks_truncate AFTER TRUNCATE ON incident_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_reset();
DROP TRIGGER IF EXISTS task_cells_on_incidents_truncate ON incidents;
CREATE TRIGGER task_cells_on_incidents_truncate AFTER TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_reset();
DROP TRIGGER IF EXISTS task_cells_on_category ON incident_categories;
CREATE TRIGGER task_cells_on_category AFTER INSERT ON incident_categories REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_task_cells_on_category();

INSERT INTO task_cell_categories (code) SELECT code FROM incident_categories ORDER BY code ON CONFLICT DO NOTHING;
-- Everything that exists is to be built by the first refresh.
INSERT INTO task_cell_changes (day, agency_code)
SELECT DISTINCT peta112_cell_day(i.received_at), t.agency_code
FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id;

-- name: uninstall
DROP TRIGGER IF EXISTS task_cells_on_task_insert ON incident_tasks;
DROP TRIGGER IF EXISTS task_cells_on_task_delete ON incident_tasks;
DROP TRIGGER IF EXISTS task_cells_on_task_update ON incident_tasks;
DROP TRIGGER IF EXISTS task_cells_on_tasks_truncate ON incident_tasks;
DROP TRIGGER IF EXISTS task_cells_on_incident ON incidents;
DROP TRIGGER IF EXISTS task_cells_on_incident_delete ON incidents;
DROP TRIGGER IF EXISTS task_cells_on_incidents_truncate ON incidents;
DROP TRIGGER IF EXISTS task_cells_on_category ON incident_categories;
DROP FUNCTION IF EXISTS peta112_task_cells_on_task();
DROP FUNCTION IF EXISTS peta112_task_cells_on_incident();
DROP FUNCTION IF EXISTS peta112_task_cells_on_incident_delete();
DROP FUNCTION IF EXISTS peta112_task_cells_reset();
DROP FUNCTION IF EXISTS peta112_task_cells_on_category();
DROP FUNCTION IF EXISTS peta112_cell_day(timestamptz);
DROP TABLE IF EXISTS task_cells, task_cell_changes, task_cell_categories, task_rollup_state;

-- name: state
-- What the reader needs before it trusts its cached cells: the rollup's identity and
-- version, and whether this reader may read cells at all (the owner, or a reader who sees
-- every incident; anyone else reads the raw tasks under row-level security).
SELECT s.epoch::text AS epoch, s.version,
       (current_user <> 'peta112_app' OR peta112_viewer_role() = ANY(@all_rows_roles@)) AS reads_all
FROM task_rollup_state s

-- name: dirty_between
SELECT DISTINCT day, agency_code FROM task_cell_changes WHERE day BETWEEN :first AND :last

-- name: cells_since
SELECT day, agency_code, version, data FROM task_cells WHERE version > :version

-- name: categories
SELECT id, code FROM task_cell_categories

-- name: cell_rows
-- The records of the given cells, from the read model: counted calls only (the rule every
-- analytic shares), intervals from forwarding as float8 exactly as the raw query computes them.
-- One index range of incidents per day and one index probe of tasks per incident (LATERAL, with
-- OFFSET 0 so the planner keeps it so): a few cells cost a few milliseconds, not a scan of every
-- task.  :agencies holds one comma-separated list per day of :days.
SELECT d.day, t.agency_code AS agency,
       CAST(EXTRACT(epoch FROM f.received_at) * 1000000 AS bigint) AS received_us,
       CAST(EXTRACT(epoch FROM t.acknowledged_at - t.forwarded_at) AS float8) AS ack_s,
       CAST(EXTRACT(epoch FROM t.en_route_at - t.forwarded_at) AS float8) AS en_route_s,
       CAST(EXTRACT(epoch FROM t.on_scene_at - t.forwarded_at) AS float8) AS on_scene_s,
       CAST(EXTRACT(epoch FROM t.resolved_at - t.forwarded_at) AS float8) AS resolve_s,
       CAST(EXTRACT(epoch FROM t.on_scene_at - f.received_at) AS float8) AS arrival_received_s,
       (SELECT c.id FROM task_cell_categories c WHERE c.code = f.category) AS category,
       COALESCE(f.kecamatan_id, -1) AS kecamatan,
       t.rejected_at IS NOT NULL AS rejected,
       t.status NOT IN ('resolved', 'rejected') AS open,
       NOT EXISTS (SELECT 1 FROM incident_tasks o
                   WHERE o.incident_id = t.incident_id AND o.agency_code < t.agency_code) AS first
FROM unnest(CAST(:days AS date[]), CAST(:agencies AS text[])) AS d(day, agencies)
CROSS JOIN LATERAL (
    SELECT f.id, f.received_at, f.category, f.kecamatan_id FROM incident_facts f
    WHERE f.received_at >= (d.day::timestamp AT TIME ZONE 'UTC')
      AND f.received_at < ((d.day + 1)::timestamp AT TIME ZONE 'UTC') AND f.is_counted
    OFFSET 0) f
CROSS JOIN LATERAL (
    SELECT * FROM incident_tasks t
    WHERE t.incident_id = f.id AND t.agency_code = ANY(string_to_array(d.agencies, ','))
    OFFSET 0) t
ORDER BY d.day, t.agency_code

-- name: take_dirty
-- Only marks this statement's snapshot sees: a writer's mark not yet committed stays.
DELETE FROM task_cell_changes
WHERE (day, agency_code) IN (SELECT DISTINCT day, agency_code FROM task_cell_changes
                             ORDER BY day, agency_code LIMIT :batch)
RETURNING day, agency_code

-- name: bump_version
UPDATE task_rollup_state SET version = version + 1 RETURNING version

-- name: store_cell
INSERT INTO task_cells (day, agency_code, version, tasks, data)
VALUES (:day, :agency, :version, :tasks, :data)
ON CONFLICT (day, agency_code) DO UPDATE
SET version = EXCLUDED.version, tasks = EXCLUDED.tasks, data = EXCLUDED.data

-- name: mark_all
INSERT INTO task_cell_changes (day, agency_code)
SELECT DISTINCT peta112_cell_day(i.received_at), t.agency_code
FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id

-- name: pending
SELECT count(*) FROM (SELECT DISTINCT day, agency_code FROM task_cell_changes) x

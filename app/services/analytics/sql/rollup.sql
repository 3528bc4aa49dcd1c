-- The analytics rollup (app/services/analytics/rollup.py): packed per-row records in cells,
-- one cell per kind, UTC day of the call and part:
--   kind 'tasks'      part = agency code: the counted tasks (agency performance);
--   kind 'incidents'  part = '':          every call (trends, the dashboard's figures).
-- Kept exact by logging every change that could alter a cell.
-- Tokens like @all_rows_roles@ are rendered by app.incidents.facts.render.

-- name: install
CREATE TABLE IF NOT EXISTS rollup_state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch uuid NOT NULL DEFAULT gen_random_uuid(),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO rollup_state (one) VALUES (true) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS rollup_categories (
    id smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS rollup_cells (
    kind text NOT NULL CHECK (kind IN ('tasks', 'incidents')),
    day date NOT NULL,
    part text NOT NULL,
    version bigint NOT NULL,
    records integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (kind, day, part)
);
-- Packed float64 records do not compress; stored out of line without pglz, read straight.
ALTER TABLE rollup_cells ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS rollup_cells_version_idx ON rollup_cells (kind, version);

-- A log of cells to rebuild: appended by the triggers below, emptied by the refresh.  An
-- append-only log needs no row lock: a refresh deletes only the marks its snapshot sees, so a
-- writer still in flight keeps its mark and its change is folded by the next refresh.
CREATE TABLE IF NOT EXISTS rollup_changes (
    kind text NOT NULL,
    day date NOT NULL,
    part text NOT NULL
);
CREATE INDEX IF NOT EXISTS rollup_changes_idx ON rollup_changes (kind, day, part);

-- The web role reads cells only as a reader who may see every incident; refreshing is the
-- owner's job (the server's refresher and the CLI connect as the owner).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON rollup_state, rollup_categories, rollup_cells, rollup_changes
    FROM peta112_app;
GRANT SELECT ON rollup_state, rollup_categories, rollup_cells, rollup_changes TO peta112_app;
ALTER TABLE rollup_cells ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS rollup_cells_all_rows ON rollup_cells;
CREATE POLICY rollup_cells_all_rows ON rollup_cells FOR SELECT TO peta112_app
  USING (peta112_viewer_role() = ANY(@all_rows_roles@));

CREATE OR REPLACE FUNCTION peta112_cell_day(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (at AT TIME ZONE 'UTC')::date $$;

-- Statement-level, with transition tables: a bulk load logs each cell once, not once per row.
CREATE OR REPLACE FUNCTION peta112_rollup_on_task() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO rollup_changes (kind, day, part)
    SELECT DISTINCT 'tasks', peta112_cell_day(i.received_at), x.agency_code
    FROM (SELECT incident_id, agency_code FROM changed_new UNION SELECT incident_id, agency_code FROM changed_old) x
    JOIN incidents i ON i.id = x.incident_id;
  ELSE
    -- a task added or removed also changes which of its incident's tasks counts the incident once
    INSERT INTO rollup_changes (kind, day, part)
    SELECT DISTINCT 'tasks', peta112_cell_day(i.received_at), x.agency_code
    FROM (SELECT incident_id, agency_code FROM changed
          UNION SELECT t.incident_id, t.agency_code FROM incident_tasks t
                WHERE t.incident_id IN (SELECT incident_id FROM changed)) x
    JOIN incidents i ON i.id = x.incident_id;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION peta112_rollup_on_new_incident() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO rollup_changes (kind, day, part)
  SELECT DISTINCT 'incidents', peta112_cell_day(received_at), '' FROM changed;
  RETURN NULL;
END $$;

-- What a cell holds of a call: its day, category, kecamatan, whether it is counted and whether
-- it is a prank call.  Row level with a WHEN clause (below): the frequent updates (a status step,
-- a note) are filtered out before any function runs, without a transition table.
CREATE OR REPLACE FUNCTION peta112_rollup_on_incident() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO rollup_changes (kind, day, part)
  SELECT 'incidents', v.d, '' FROM (VALUES (peta112_cell_day(OLD.received_at)),
                                           (peta112_cell_day(NEW.received_at))) v(d)
  UNION
  SELECT 'tasks', v.d, t.agency_code
  FROM (VALUES (peta112_cell_day(OLD.received_at)), (peta112_cell_day(NEW.received_at))) v(d)
  CROSS JOIN incident_tasks t WHERE t.incident_id = OLD.id;
  RETURN NULL;
END $$;

-- Row level and BEFORE: after the delete its tasks are gone (the foreign key cascades first).
CREATE OR REPLACE FUNCTION peta112_rollup_on_incident_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO rollup_changes (kind, day, part)
  SELECT 'tasks', peta112_cell_day(OLD.received_at), agency_code FROM incident_tasks WHERE incident_id = OLD.id
  UNION ALL SELECT 'incidents', peta112_cell_day(OLD.received_at), '';
  RETURN OLD;
END $$;

-- TRUNCATE fires no row trigger: start the rollup again (a new epoch empties every cache).
CREATE OR REPLACE FUNCTION peta112_rollup_reset() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM rollup_cells;
  DELETE FROM rollup_changes;
  UPDATE rollup_state SET epoch = gen_random_uuid(), version = version + 1;
  INSERT INTO rollup_changes (kind, day, part)
  SELECT DISTINCT 'tasks', peta112_cell_day(i.received_at), t.agency_code
  FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id
  UNION SELECT DISTINCT 'incidents', peta112_cell_day(received_at), '' FROM incidents;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION peta112_rollup_on_category() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO rollup_categories (code) SELECT code FROM changed ORDER BY code ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS rollup_on_task_insert ON incident_tasks;
CREATE TRIGGER rollup_on_task_insert AFTER INSERT ON incident_tasks REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_on_task();
DROP TRIGGER IF EXISTS rollup_on_task_delete ON incident_tasks;
CREATE TRIGGER rollup_on_task_delete AFTER DELETE ON incident_tasks REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_on_task();
DROP TRIGGER IF EXISTS rollup_on_task_update ON incident_tasks;
CREATE TRIGGER rollup_on_task_update AFTER UPDATE ON incident_tasks
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_on_task();
DROP TRIGGER IF EXISTS rollup_on_incident_insert ON incidents;
CREATE TRIGGER rollup_on_incident_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_on_new_incident();
DROP TRIGGER IF EXISTS rollup_on_incident_update ON incidents;
CREATE TRIGGER rollup_on_incident_update AFTER UPDATE ON incidents FOR EACH ROW
  WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at
        OR OLD.category_code IS DISTINCT FROM NEW.category_code
        OR OLD.kecamatan_id IS DISTINCT FROM NEW.kecamatan_id
        OR OLD.is_prank IS DISTINCT FROM NEW.is_prank
        OR OLD.duplicate_of IS DISTINCT FROM NEW.duplicate_of
        OR (OLD.status = ANY(@not_counted@)) IS DISTINCT FROM (NEW.status = ANY(@not_counted@))
        OR (OLD.status = @prank_status@) IS DISTINCT FROM (NEW.status = @prank_status@))
  EXECUTE FUNCTION peta112_rollup_on_incident();
DROP TRIGGER IF EXISTS rollup_on_incident_delete ON incidents;
CREATE TRIGGER rollup_on_incident_delete BEFORE DELETE ON incidents
  FOR EACH ROW EXECUTE FUNCTION peta112_rollup_on_incident_delete();
DROP TRIGGER IF EXISTS rollup_on_tasks_truncate ON incident_tasks;
CREATE TRIGGER rollup_on_tasks_truncate AFTER TRUNCATE ON incident_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_reset();
DROP TRIGGER IF EXISTS rollup_on_incidents_truncate ON incidents;
CREATE TRIGGER rollup_on_incidents_truncate AFTER TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_reset();
DROP TRIGGER IF EXISTS rollup_on_category ON incident_categories;
CREATE TRIGGER rollup_on_category AFTER INSERT ON incident_categories REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION peta112_rollup_on_category();

INSERT INTO rollup_categories (code) SELECT code FROM incident_categories ORDER BY code ON CONFLICT DO NOTHING;

-- name: uninstall
DROP TRIGGER IF EXISTS rollup_on_task_insert ON incident_tasks;
DROP TRIGGER IF EXISTS rollup_on_task_delete ON incident_tasks;
DROP TRIGGER IF EXISTS rollup_on_task_update ON incident_tasks;
DROP TRIGGER IF EXISTS rollup_on_tasks_truncate ON incident_tasks;
DROP TRIGGER IF EXISTS rollup_on_incident_insert ON incidents;
DROP TRIGGER IF EXISTS rollup_on_incident_update ON incidents;
DROP TRIGGER IF EXISTS rollup_on_incident_delete ON incidents;
DROP TRIGGER IF EXISTS rollup_on_incidents_truncate ON incidents;
DROP TRIGGER IF EXISTS rollup_on_category ON incident_categories;
DROP FUNCTION IF EXISTS peta112_rollup_on_task();
DROP FUNCTION IF EXISTS peta112_rollup_on_new_incident();
DROP FUNCTION IF EXISTS peta112_rollup_on_incident();
DROP FUNCTION IF EXISTS peta112_rollup_on_incident_delete();
DROP FUNCTION IF EXISTS peta112_rollup_reset();
DROP FUNCTION IF EXISTS peta112_rollup_on_category();
DROP FUNCTION IF EXISTS peta112_cell_day(timestamptz);
DROP TABLE IF EXISTS rollup_cells, rollup_changes, rollup_categories, rollup_state;

-- name: state
-- What the reader needs before it trusts its cached cells: the rollup's identity and
-- version, and whether this reader may read cells at all (the owner, or a reader who sees
-- every incident; anyone else reads the raw tables under row-level security).
SELECT s.epoch::text AS epoch, s.version,
       (current_user <> 'peta112_app' OR peta112_viewer_role() = ANY(@all_rows_roles@)) AS reads_all
FROM rollup_state s

-- name: changed_between
SELECT DISTINCT day, part FROM rollup_changes WHERE kind = :kind AND day BETWEEN :first AND :last

-- name: cells_since
SELECT day, part, data FROM rollup_cells WHERE kind = :kind AND version > :version

-- name: categories
SELECT id, code FROM rollup_categories

-- name: task_rows
-- The records of the given task cells, from the read model: counted calls only (the rule every
-- analytic shares), intervals from forwarding as float8 exactly as the raw query computes them.
-- One index range of incidents per day and one index probe of tasks per incident (LATERAL, with
-- OFFSET 0 so the planner keeps it so): a few cells cost a few milliseconds, not a scan of every
-- task.  :parts holds one comma-separated list of agencies per day of :days.
SELECT d.day, t.agency_code AS part,
       CAST(EXTRACT(epoch FROM f.received_at) * 1000000 AS bigint) AS received_us,
       CAST(EXTRACT(epoch FROM t.acknowledged_at - t.forwarded_at) AS float8) AS ack,
       CAST(EXTRACT(epoch FROM t.en_route_at - t.forwarded_at) AS float8) AS en_route,
       CAST(EXTRACT(epoch FROM t.on_scene_at - t.forwarded_at) AS float8) AS on_scene,
       CAST(EXTRACT(epoch FROM t.resolved_at - t.forwarded_at) AS float8) AS resolve,
       CAST(EXTRACT(epoch FROM t.on_scene_at - f.received_at) AS float8) AS arrival_received,
       (SELECT c.id FROM rollup_categories c WHERE c.code = f.category) AS category,
       COALESCE(f.kecamatan_id, -1) AS kecamatan,
       (CASE WHEN t.rejected_at IS NOT NULL THEN 1 ELSE 0 END
        + CASE WHEN t.status NOT IN ('resolved', 'rejected') THEN 2 ELSE 0 END
        + CASE WHEN NOT EXISTS (SELECT 1 FROM incident_tasks o
                                WHERE o.incident_id = t.incident_id AND o.agency_code < t.agency_code)
               THEN 4 ELSE 0 END) AS flags
FROM unnest(CAST(:days AS date[]), CAST(:parts AS text[])) AS d(day, parts)
CROSS JOIN LATERAL (
    SELECT f.id, f.received_at, f.category, f.kecamatan_id FROM incident_facts f
    WHERE f.received_at >= (d.day::timestamp AT TIME ZONE 'UTC')
      AND f.received_at < ((d.day + 1)::timestamp AT TIME ZONE 'UTC') AND f.is_counted
    OFFSET 0) f
CROSS JOIN LATERAL (
    SELECT * FROM incident_tasks t
    WHERE t.incident_id = f.id AND t.agency_code = ANY(string_to_array(d.parts, ','))
    OFFSET 0) t
ORDER BY d.day, t.agency_code

-- name: incident_rows
-- Every call of the given days (the prank rate counts them all), with the two rules analytics
-- use: counted (1) and prank call (2).
SELECT d.day, '' AS part,
       CAST(EXTRACT(epoch FROM f.received_at) * 1000000 AS bigint) AS received_us,
       (SELECT c.id FROM rollup_categories c WHERE c.code = f.category) AS category,
       COALESCE(f.kecamatan_id, -1) AS kecamatan,
       (CASE WHEN f.is_counted THEN 1 ELSE 0 END + CASE WHEN f.is_prank_call THEN 2 ELSE 0 END) AS flags
FROM unnest(CAST(:days AS date[]), CAST(:parts AS text[])) AS d(day, parts)
CROSS JOIN LATERAL (
    SELECT f.received_at, f.category, f.kecamatan_id, f.is_counted, f.is_prank_call FROM incident_facts f
    WHERE f.received_at >= (d.day::timestamp AT TIME ZONE 'UTC')
      AND f.received_at < ((d.day + 1)::timestamp AT TIME ZONE 'UTC')
    OFFSET 0) f
ORDER BY d.day

-- name: take_changes
-- Only marks this statement's snapshot sees: a writer's mark not yet committed stays.
-- The batch is materialised, then joined (refresh ANALYZEs a long log first: without statistics
-- the planner re-read the whole log once per row of the batch).
WITH batch AS MATERIALIZED (SELECT DISTINCT kind, day, part FROM rollup_changes
                            ORDER BY kind, day, part LIMIT :batch)
DELETE FROM rollup_changes c USING batch b
WHERE c.kind = b.kind AND c.day = b.day AND c.part = b.part
RETURNING c.kind, c.day, c.part

-- name: log_is_long
SELECT EXISTS (SELECT 1 FROM rollup_changes OFFSET 1000)

-- name: bump_version
UPDATE rollup_state SET version = version + 1 RETURNING version

-- name: store_cell
INSERT INTO rollup_cells (kind, day, part, version, records, data)
VALUES (:kind, :day, :part, :version, :records, :data)
ON CONFLICT (kind, day, part) DO UPDATE
SET version = EXCLUDED.version, records = EXCLUDED.records, data = EXCLUDED.data

-- name: mark_all
INSERT INTO rollup_changes (kind, day, part)
SELECT DISTINCT 'tasks', peta112_cell_day(i.received_at), t.agency_code
FROM incident_tasks t JOIN incidents i ON i.id = t.incident_id
UNION SELECT DISTINCT 'incidents', peta112_cell_day(received_at), '' FROM incidents

-- name: pending
SELECT count(*) FROM (SELECT DISTINCT kind, day, part FROM rollup_changes) x

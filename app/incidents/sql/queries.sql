-- Reading incidents for the JSON API, the triage queue and the live stream (app/incidents/queries.py).
-- Every statement reads the read model incident_facts (or tables under row-level security), so what a
-- reader gets is decided by the viewer the session told the database, never by a WHERE clause here.
-- {columns} is the incident_columns block; {where} is the filter_* blocks of the filters given,
-- joined with AND (a kelurahan is a code, a name or an id; a name is not a pattern).

-- name: incident_columns
-- The columns of one incident in the API's shape (joined by incident_dict()).
SELECT f.id, f.category, f.category_name, f.category_name_en, f.status, f.priority, f.source, f.address,
       f.caller_name, f.caller_phone, f.description, f.is_prank, f.duplicate_of,
       f.received_at, f.verified_at, f.dispatched_at, f.en_route_at, f.on_scene_at, f.resolved_at,
       f.closed_at, f.cancelled_at, f.updated_at, f.target_response_s, f.due_at, f.is_open, f.is_overdue,
       f.report_count, ST_Y(f.geom) AS lat, ST_X(f.geom) AS lon,
       f.kelurahan_id AS kel_id, f.kelurahan_code AS kel_code, f.kelurahan AS kel_name,
       f.kecamatan_id AS kec_id, f.kecamatan_code AS kec_code, f.kecamatan AS kec_name
FROM incident_facts f

-- name: incident_page
{columns}
WHERE {where}
ORDER BY f.received_at DESC, f.id DESC
LIMIT :limit OFFSET :offset

-- name: incident_by_id
{columns}
WHERE f.id = :id

-- name: incidents_by_ids
{columns}
WHERE f.id = ANY(:ids)

-- name: incident_count
SELECT count(*) FROM incident_facts f WHERE {where}

-- name: filter_bbox
f.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
-- name: filter_categories
f.category = ANY(:categories)
-- name: filter_statuses
f.status = ANY(:statuses)
-- name: filter_open
f.is_open
-- name: filter_agency
EXISTS (SELECT 1 FROM incident_tasks t WHERE t.incident_id = f.id AND t.agency_code = :agency)
-- name: filter_kelurahan
(f.kelurahan_code = :kelurahan OR lower(f.kelurahan) = lower(:kelurahan) OR CAST(f.kelurahan_id AS text) = :kelurahan)
-- name: count_from_reader_agency
EXISTS (SELECT 1 FROM incident_tasks t WHERE t.incident_id = f.id AND t.agency_code = :reader_agency)
-- name: filter_since
f.received_at >= :since
-- name: filter_until
f.received_at < :until

-- name: incident_state
-- What the lifecycle rules say about one incident now (for a response built elsewhere, e.g. intake).
SELECT f.is_open, f.is_overdue, f.due_at, f.report_count FROM incident_facts f WHERE f.id = :id

-- name: tasks
SELECT t.id, t.incident_id, t.agency_code AS agency, a.name AS agency_name, t.status,
       t.forwarded_at, t.acknowledged_at, t.en_route_at, t.on_scene_at, t.resolved_at,
       t.rejected_at, t.reject_reason
FROM incident_tasks t JOIN agencies a ON a.code = t.agency_code
WHERE t.incident_id = ANY(:ids) ORDER BY t.incident_id, t.id

-- name: assignments
SELECT s.id, s.incident_id, s.unit_id, u.callsign, u.unit_type, u.agency_code AS agency,
       u.status AS unit_status, s.eta_s, s.assigned_at, s.released_at, s.actor
FROM assignments s JOIN units u ON u.id = s.unit_id
WHERE s.incident_id = ANY(:ids) ORDER BY s.incident_id, s.id

-- name: active_assignments
-- The units on their way to (or at) one incident, with their last reported position.
SELECT s.id AS assignment_id, u.id AS unit_id, u.callsign, u.unit_type, u.agency_code AS agency,
       u.status, ST_Y(u.geom) AS lat, ST_X(u.geom) AS lon, u.position_at
FROM assignments s JOIN units u ON u.id = s.unit_id
WHERE s.incident_id = :id AND s.released_at IS NULL ORDER BY s.id

-- name: events
SELECT id, at, actor, kind, from_status, to_status, data
FROM incident_events WHERE incident_id = :id ORDER BY at, id

-- name: reports
-- Further callers merged into one incident, oldest first; callers' data masked by the view.
SELECT r.id, r.received_at, r.actor, r.source, r.caller_name, r.caller_phone, r.description, r.address,
       ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon
FROM incident_report_facts r WHERE r.incident_id = :id ORDER BY r.received_at, r.id

-- name: location
SELECT f.id, f.status, ST_Y(f.geom) AS lat, ST_X(f.geom) AS lon, now() AS now
FROM incident_facts f WHERE f.id = :id

-- name: queue
-- Open incidents, most urgent first: priority, then overdue, then the longest waiting.  The reader's
-- row-level security narrows it to what it may see (an agency officer's queue is its own agency's
-- incidents).  No caller data: the list is read in bulk.
SELECT f.id, f.category, f.category_name, f.category_name_en, f.status, f.priority, f.address, f.received_at,
       f.target_response_s, f.due_at, f.is_open, f.is_overdue, f.report_count,
       EXTRACT(EPOCH FROM now() - f.received_at) AS waiting_s,
       ST_Y(f.geom) AS lat, ST_X(f.geom) AS lon, f.kelurahan
FROM incident_facts f
WHERE f.is_open
ORDER BY f.priority, f.is_overdue DESC, f.received_at, f.id
LIMIT :limit

-- name: queue_counts
-- The whole queue counted (not just the page returned): open and overdue calls per status and priority.
SELECT f.status, f.priority, count(*) AS open, count(*) FILTER (WHERE f.is_overdue) AS overdue
FROM incident_facts f
WHERE f.is_open
GROUP BY f.status, f.priority

-- name: plan_input
-- What filling an incident's response plan needs: where it is, its category's plan, and the agencies
-- with a live task (a rejected task asks for no unit).
SELECT f.id, f.category, ST_Y(f.geom) AS lat, ST_X(f.geom) AS lon, c.response_plan,
       ARRAY(SELECT t.agency_code FROM incident_tasks t
             WHERE t.incident_id = f.id AND t.status <> 'rejected' ORDER BY t.id) AS agencies
FROM incident_facts f JOIN incident_categories c ON c.code = f.category
WHERE f.id = :id

-- name: feature_items
-- The OGC API Features collection "incidents" (app/services/features.py): the whole history, with
-- timestamps, filtered by the caller's bbox and datetime; no caller data.
SELECT f.geom, f.id, f.category, f.category_name, f.category_name_en, f.status, f.is_open AS open,
       f.is_overdue AS overdue, f.due_at, f.priority, f.source, f.address, f.kelurahan, f.kecamatan,
       f.duplicate_of, f.received_at, f.updated_at, f.resolved_at, f.closed_at
FROM bounds b, incident_facts f
WHERE f.geom && b.box

-- name: session_viewer
SELECT peta112_viewer_role() AS role, peta112_viewer_agency() AS agency

-- name: stream_visible
-- psycopg placeholders: asked on the live stream's own LISTEN connection (app/web/stream.py), which
-- is not under row-level security, for each incident notification and each listener.
SELECT peta112_incident_visible(%(incident)s, %(role)s, %(agency)s)

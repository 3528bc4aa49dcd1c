-- Call intake (app/services/dispatch.py): the statements of a logged call, run on the driver's own
-- connection (sqlfiles.row), inside the session's transaction, so the reader the session told the
-- database (row-level security, peta112_app) decides what is written and read.

-- name: category
-- The category with its agencies; one row (code NULL) when there is no such category.  The city's
-- box is not read here: an extent over every area per call, it changes only with an import
-- (dispatch.city_box).
SELECT c.code, c.name_id, c.name_en, c.priority, c.target_response_s, c.response_plan, c.retired_at, c.related,
       COALESCE(array_agg(a.agency_code ORDER BY a.role, a.agency_code)
                FILTER (WHERE a.agency_code IS NOT NULL), '{}') AS agencies
FROM (SELECT 1) one
LEFT JOIN incident_categories c ON c.code = :code
LEFT JOIN category_agencies a ON a.category_code = c.code
GROUP BY c.code

-- name: intake
-- Intake in one round trip: locate (kelurahan, kecamatan, nearest street), look for a duplicate,
-- insert the incident, one task per responsible agency and the audit events, and return what the
-- call-taker needs to see.  The duplicate search takes the open calls in a box a little larger
-- than the circle before the exact distance on the spheroid: it used to measure every open call
-- of the category in the last hour.  @open@ is written in by app.incidents.facts.render.
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
kel AS (SELECT a.id, a.code, a.name FROM admin_areas a, pt
        WHERE a.level = 'kelurahan' AND ST_Intersects(a.geom, pt.g) ORDER BY a.id LIMIT 1),
kec AS (SELECT a.id, a.code, a.name FROM admin_areas a, pt
        WHERE a.level = 'kecamatan' AND ST_Intersects(a.geom, pt.g) ORDER BY a.id LIMIT 1),
-- KNN (<->) uses the GiST index only against a constant point, not one joined from pt.
street AS (SELECT e.name FROM road_edges e WHERE e.name IS NOT NULL
           ORDER BY e.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1),
-- The open calls in the box come from the partial index of open calls by place (facts.sql), in a
-- query of their own (OFFSET 0), so no plan can read instead every call of the category in the
-- last hour, whatever the statistics say after a burst; nearest first, the first that passes is
-- the duplicate.
dup AS (SELECT near.id
        FROM (SELECT i.id, i.category_code, i.received_at, i.geom FROM incidents i
              WHERE i.status = ANY(@open@) AND i.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
              OFFSET 0) near
        WHERE near.category_code = ANY(:related)
          AND near.received_at > now() - make_interval(secs => :window)
          AND ST_DWithin(near.geom::geography, CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography), :radius)
        ORDER BY near.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1),
ins AS (
    INSERT INTO incidents (category_code, status, priority, source, address, kelurahan_id, kecamatan_id,
                           caller_name, caller_phone, description, duplicate_of, idempotency_key,
                           idempotency_fingerprint, geom)
    SELECT :category, 'received', :priority, :source,
           COALESCE(CAST(:address AS text),
                    NULLIF(concat_ws(', ', (SELECT name FROM street), (SELECT name FROM kel)), '')),
           (SELECT id FROM kel), (SELECT id FROM kec), :caller_name, :caller_phone, :description,
           (SELECT id FROM dup), :key, :fingerprint, pt.g
    FROM pt
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING *),
tasks AS (
    INSERT INTO incident_tasks (incident_id, agency_code)
    SELECT ins.id, ca.agency_code FROM ins JOIN category_agencies ca ON ca.category_code = ins.category_code
    RETURNING *),
events AS (
    INSERT INTO incident_events (incident_id, actor, kind, from_status, to_status, data)
    SELECT ins.id, :actor, 'created', NULL, 'received', CAST(:created_data AS jsonb)
           || jsonb_build_object('duplicate_of', ins.duplicate_of) FROM ins
    UNION ALL
    SELECT t.incident_id, :actor, 'forwarded', NULL, NULL, jsonb_build_object('agency', t.agency_code)
    FROM tasks t
    RETURNING 1)
SELECT ins.id, ins.category_code AS category, CAST(:category_name AS text) AS category_name,
       CAST(:category_name_en AS text) AS category_name_en,
       ins.status, ins.priority, ins.source, ins.address, ins.caller_name, ins.caller_phone, ins.description,
       ins.is_prank, ins.duplicate_of, ins.received_at, ins.verified_at, ins.dispatched_at, ins.en_route_at,
       ins.on_scene_at, ins.resolved_at, ins.closed_at, ins.cancelled_at, ins.updated_at,
       CAST(:target AS integer) AS target_response_s, ST_Y(ins.geom) AS lat, ST_X(ins.geom) AS lon,
       kel.id AS kel_id, kel.code AS kel_code, kel.name AS kel_name,
       kec.id AS kec_id, kec.code AS kec_code, kec.name AS kec_name,
       (SELECT json_agg(json_build_object('id', t.id, 'agency', t.agency_code, 'agency_name', ag.name,
                'status', t.status, 'forwarded_at', t.forwarded_at) ORDER BY t.id)
          FROM tasks t JOIN agencies ag ON ag.code = t.agency_code) AS tasks,
       (SELECT count(*) FROM events) AS n_events,
       (SELECT json_build_object('calls', count(*), 'pranks', count(*) FILTER (WHERE p.is_prank OR p.status = 'prank'))
          FROM incidents p WHERE p.caller_phone = CAST(:caller_phone AS text)) AS prank_history
FROM ins LEFT JOIN kel ON true LEFT JOIN kec ON true

-- Duplicates before save (app/incidents/duplicates.py): open calls near the one being typed, and a
-- further caller merged into an existing incident.  Reads go through incident_facts, writes through
-- tables under row-level security, so the reader and writer the session told the database decide.

-- name: nearby_open
-- Open calls near a point a call-taker is typing, of categories describing the same event
-- (:categories NULL: any), nearest first.  The box (&&) lets the GiST index narrow the search
-- before the exact distance on the spheroid.
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT f.id, f.category, f.category_name, f.category_name_en, f.status, f.priority, f.address,
       f.received_at, f.due_at, f.is_overdue, f.report_count, f.caller_name, f.caller_phone,
       f.kelurahan, ST_Y(f.geom) AS lat, ST_X(f.geom) AS lon,
       round(ST_Distance(f.geom::geography, pt.g::geography)::numeric, 1) AS distance_m
FROM incident_facts f, pt
WHERE f.is_open
  AND f.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
  AND ST_DWithin(f.geom::geography, pt.g::geography, :radius)
  AND (CAST(:categories AS text[]) IS NULL OR f.category = ANY(:categories))
ORDER BY distance_m, f.received_at DESC, f.id
LIMIT :limit

-- name: lock_incident
-- The incident a caller is merged into, locked so that a status change cannot race the merge.
SELECT i.id, i.status, i.category_code AS category, ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon
FROM incidents i WHERE i.id = :id FOR UPDATE

-- name: insert_report
-- The report, its audit event (no caller data in it: agencies read the trail) and a touch of the
-- incident so the live stream tells every open map that its report count changed.
WITH ins AS (
    INSERT INTO incident_reports (incident_id, actor, source, caller_name, caller_phone, description, address,
                                  idempotency_key, idempotency_fingerprint, geom)
    VALUES (:incident_id, :actor, :source, :caller_name, :caller_phone, :description, :address,
            :key, :fingerprint, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, incident_id, geom),
ev AS (
    INSERT INTO incident_events (incident_id, actor, kind, data)
    SELECT ins.incident_id, :actor, 'report_merged',
           jsonb_build_object('report_id', ins.id, 'source', CAST(:source AS text),
                              'distance_m', round(ST_Distance(ins.geom::geography, i.geom::geography)::numeric, 1))
    FROM ins JOIN incidents i ON i.id = ins.incident_id
    RETURNING 1),
touch AS (
    UPDATE incidents SET updated_at = now() WHERE id IN (SELECT incident_id FROM ins) RETURNING 1)
SELECT ins.id, (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM touch) AS touched FROM ins

-- name: report_by_key
SELECT id, incident_id, idempotency_fingerprint FROM incident_reports WHERE idempotency_key = :key

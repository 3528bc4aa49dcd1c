-- SQL of the routing package (app/routing/store.py), one named statement per block ("-- name: x").
-- Kept here so the queries that decide performance (KNN, snapping) are read and
-- EXPLAINed in one place.

-- name: road_version
-- Cheap fingerprint of the road network: any import, edit or cost change moves it.
-- One sequential pass over road_edges, far cheaper than a rebuild.  Costs are summed as
-- integer milliseconds: a float sum depends on row order (parallel aggregation) and would
-- differ between two runs over the same rows.
SELECT count(*) AS n, COALESCE(max(id), 0) AS max_id,
       COALESCE(sum(round(cost * 1000)::bigint), 0) AS sum_cost_ms,
       COALESCE(sum(round(reverse_cost * 1000)::bigint), 0) AS sum_rcost_ms,
       COALESCE(sum(source + target), 0) AS sum_nodes
FROM road_edges;

-- name: road_changes
-- Per-query freshness check, well under a millisecond: tuple counters of road_edges
-- (other sessions' committed writes, flushed within ~1 s, plus this transaction's own
-- pending ones), relfilenode (moves on TRUNCATE) and min/max id through the primary key.
-- Only when this moves (or every FULL_CHECK_INTERVAL_S) is road_version computed.
SELECT c.relfilenode,
       pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_inserted(c.oid) AS ins,
       pg_stat_get_tuples_updated(c.oid) + pg_stat_get_xact_tuples_updated(c.oid) AS upd,
       pg_stat_get_tuples_deleted(c.oid) + pg_stat_get_xact_tuples_deleted(c.oid) AS del,
       (SELECT min(id) FROM road_edges) AS min_id, (SELECT max(id) FROM road_edges) AS max_id
FROM pg_class c
WHERE c.oid = 'road_edges'::regclass;

-- name: road_probe
-- A fixed sample of edges compared with the graph: catches a different network of the
-- same size loaded while statistics counters lag.
SELECT id, source, target, cost, reverse_cost FROM road_edges WHERE id = ANY(:ids) ORDER BY id;

-- name: station_version
SELECT count(*) AS n,
       md5(COALESCE(string_agg(id::text || agency_code || ST_AsText(geom), ',' ORDER BY id), '')) AS h
FROM stations;

-- name: graph_edges
SELECT id, source, target, cost, reverse_cost, length_m, ST_AsBinary(geom) AS wkb
FROM road_edges
ORDER BY id;

-- name: agency_stations
SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM stations
WHERE agency_code = :agency
ORDER BY id;

-- name: snap_points
-- Nearest road edges of each point: KNN (index-assisted <->, in degrees) picks a few
-- candidates, each with its exact distance in metres (UTM), nearest first (store.py
-- keeps the nearest and those tied with it), and the fraction along the edge measured
-- in metres too, so it is proportional to travel time.
WITH pts AS (
    SELECT key, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g
    FROM unnest(CAST(:keys AS bigint[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]))
         AS t(key, lon, lat)
)
SELECT p.key, c.id AS edge_id, c.dist_m, c.fraction
FROM pts p
CROSS JOIN LATERAL (
    SELECT e.id,
           ST_Distance(ST_Transform(e.geom, :utm), ST_Transform(p.g, :utm)) AS dist_m,
           ST_LineLocatePoint(ST_Transform(e.geom, :utm), ST_Transform(p.g, :utm)) AS fraction
    FROM (SELECT id, geom FROM road_edges ORDER BY geom <-> p.g LIMIT :n) e
) c
ORDER BY p.key, c.dist_m, c.id;

-- name: agency_exists
SELECT 1 FROM agencies WHERE code = :c;

-- name: candidate_units
-- Units that may respond; a unit whose last position is more than :at_station_m from
-- its station (or that has no station) is "mobile" and is routed from where it is.
SELECT u.id AS unit_id, u.callsign, u.unit_type, u.status, u.agency_code AS agency,
       u.station_id, s.name AS station_name, s.agency_code AS station_agency,
       ST_X(COALESCE(u.geom, s.geom)) AS lon, ST_Y(COALESCE(u.geom, s.geom)) AS lat,
       (u.geom IS NOT NULL AND (s.id IS NULL
            OR ST_Distance(u.geom::geography, s.geom::geography) > :at_station_m)) AS mobile
FROM units u
LEFT JOIN stations s ON s.id = u.station_id
WHERE (CAST(:agency AS text) IS NULL OR u.agency_code = CAST(:agency AS text))
  AND (CAST(:unit_type AS text) IS NULL OR u.unit_type = CAST(:unit_type AS text))
  AND (:include_busy OR u.status = 'available')
  AND COALESCE(u.geom, s.geom) IS NOT NULL
ORDER BY u.id;

-- name: candidate_stations
-- Stations stand in for units for agencies that record no units at all.
SELECT s.id AS station_id, s.name AS station_name, s.agency_code AS agency, s.kind,
       ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
FROM stations s
WHERE (CAST(:agency AS text) IS NULL OR s.agency_code = CAST(:agency AS text))
  AND NOT EXISTS (SELECT 1 FROM units u WHERE u.agency_code = s.agency_code)
ORDER BY s.id;

-- name: knn_candidates
-- Straight-line nearest: each branch is an index-assisted KNN (<-> in degrees) that
-- over-fetches :n rows; the outer query ranks them by the exact geodesic distance.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
cand AS (
    (SELECT u.id AS unit_id, u.callsign, u.unit_type, u.status, u.agency_code AS agency,
            u.station_id, u.geom
     FROM units u, p
     WHERE u.geom IS NOT NULL
       AND (CAST(:agency AS text) IS NULL OR u.agency_code = CAST(:agency AS text))
       AND (CAST(:unit_type AS text) IS NULL OR u.unit_type = CAST(:unit_type AS text))
       AND (:include_busy OR u.status = 'available')
     ORDER BY u.geom <-> p.g LIMIT :n)
    UNION ALL
    (SELECT u.id, u.callsign, u.unit_type, u.status, u.agency_code, u.station_id, s.geom
     FROM units u JOIN stations s ON s.id = u.station_id, p
     WHERE u.geom IS NULL
       AND (CAST(:agency AS text) IS NULL OR u.agency_code = CAST(:agency AS text))
       AND (CAST(:unit_type AS text) IS NULL OR u.unit_type = CAST(:unit_type AS text))
       AND (:include_busy OR u.status = 'available')
     ORDER BY s.geom <-> p.g LIMIT :n)
    UNION ALL
    (SELECT NULL::integer, NULL, NULL, NULL, s.agency_code, s.id, s.geom
     FROM stations s, p
     WHERE :with_stations
       AND (CAST(:agency AS text) IS NULL OR s.agency_code = CAST(:agency AS text))
       AND NOT EXISTS (SELECT 1 FROM units u WHERE u.agency_code = s.agency_code)
     ORDER BY s.geom <-> p.g LIMIT :n)
)
SELECT c.unit_id, c.callsign, c.unit_type, c.status, c.agency, c.station_id,
       s.name AS station_name, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       ST_Distance(c.geom::geography, p.g::geography) AS straight_m
FROM cand c
CROSS JOIN p
LEFT JOIN stations s ON s.id = c.station_id
ORDER BY straight_m, c.unit_id NULLS LAST, c.station_id
LIMIT :k;

-- The city profile, the replacement of a previous city and the readiness report
-- (app/city/*.py), read through app/db/sqlfiles.py.

-- name: read_profile
SELECT name, utm_epsg, utm_epsg_auto, timezone,
       CASE WHEN extent IS NULL THEN NULL
            ELSE ARRAY[ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent)] END AS extent
FROM city_profile WHERE id = 1

-- name: save_profile
-- set_up_at says when the city last changed: a re-run with the same files updates no row (and
-- the caller reports "unchanged"), so it keeps the time of the setup that made this city.
INSERT INTO city_profile (id, name, utm_epsg, utm_epsg_auto, timezone, extent, sources, readiness, set_up_at)
VALUES (1, :name, :utm_epsg, :utm_epsg_auto, :timezone,
        CASE WHEN CAST(:xmin AS float8) IS NULL THEN NULL
             ELSE ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326) END,
        CAST(:sources AS jsonb), CAST(:readiness AS jsonb), now())
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, utm_epsg = EXCLUDED.utm_epsg,
  utm_epsg_auto = EXCLUDED.utm_epsg_auto, timezone = EXCLUDED.timezone, extent = EXCLUDED.extent,
  sources = EXCLUDED.sources, readiness = EXCLUDED.readiness, set_up_at = EXCLUDED.set_up_at
WHERE (city_profile.name, city_profile.utm_epsg, city_profile.utm_epsg_auto, city_profile.timezone,
       ST_AsBinary(city_profile.extent), city_profile.sources, city_profile.readiness)
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.utm_epsg, EXCLUDED.utm_epsg_auto, EXCLUDED.timezone,
       ST_AsBinary(EXCLUDED.extent), EXCLUDED.sources, EXCLUDED.readiness)

-- name: live_units
-- Units on a call right now (an open assignment, or a current incident): their stations stay.
SELECT u.id FROM units u
WHERE u.current_incident_id IS NOT NULL
   OR EXISTS (SELECT 1 FROM assignments a WHERE a.unit_id = u.id AND a.released_at IS NULL)

-- name: stations_to_clear
-- Stations of the previous city: every station (:outside_only false), or only those outside the
-- new network's extent :extent grown by :margin_m metres (import osm --replace); never one with
-- a unit on a call.
SELECT s.id FROM stations s
WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.station_id = s.id AND u.id = ANY(CAST(:live AS int[])))
  AND (NOT :outside_only
       OR NOT ST_DWithin(s.geom::geography, ST_GeomFromText(:extent, 4326)::geography, :margin_m))

-- name: delete_units_without_history
-- A unit that never served a call and never reported a position goes with its station.
DELETE FROM units u
WHERE u.station_id = ANY(CAST(:stations AS int[]))
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.unit_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM unit_positions p WHERE p.unit_id = u.id)

-- name: retire_units
-- A unit with a history is kept for that history, out of service and without a station, so no
-- dispatcher is offered a fire engine of the previous city.
UPDATE units SET status = 'out_of_service', station_id = NULL
WHERE station_id = ANY(CAST(:stations AS int[]))

-- name: delete_stations
DELETE FROM stations WHERE id = ANY(CAST(:stations AS int[]))

-- name: network_extent
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom)::geometry AS e FROM road_nodes) x

-- name: roads_per_kelurahan
-- Road edges (by their middle point) and kilometres per kelurahan: a kelurahan without roads
-- cannot be reached by any unit, and usually means the extract does not cover it.
SELECT a.id, a.code, a.name, k.name AS kecamatan, count(e.id) AS edges,
       round((COALESCE(sum(e.length_m), 0) / 1000)::numeric, 1) AS km
FROM admin_areas a
LEFT JOIN admin_areas k ON k.id = a.parent_id
LEFT JOIN road_edges e ON ST_Intersects(a.geom, ST_LineInterpolatePoint(e.geom, 0.5))
WHERE a.level = 'kelurahan'
GROUP BY a.id, a.code, a.name, k.name
ORDER BY a.name, a.id

-- name: area_counts
SELECT count(*) FILTER (WHERE level = 'kecamatan') AS kecamatan,
       count(*) FILTER (WHERE level = 'kelurahan') AS kelurahan,
       count(*) FILTER (WHERE level = 'kelurahan' AND parent_id IS NULL) AS kelurahan_without_kecamatan
FROM admin_areas

-- name: graph
SELECT id, source, target, cost, reverse_cost FROM road_edges ORDER BY id

-- name: edge_facts
SELECT e.id, e.name, e.osm_id, e.highway,
       round(ST_Y(ST_LineInterpolatePoint(e.geom, 0.5))::numeric, 6) AS lat,
       round(ST_X(ST_LineInterpolatePoint(e.geom, 0.5))::numeric, 6) AS lon
FROM road_edges e WHERE e.id = ANY(CAST(:ids AS bigint[])) ORDER BY e.id

-- name: stations_snapped
-- Each station with the nearest road node and how far it is (a station 2 km from any road is
-- misplaced or outside the extract).
SELECT s.id, s.agency_code, s.kind, s.name, n.id AS node,
       round(ST_Distance(s.geom::geography, n.geom::geography)::numeric, 1) AS snap_m
FROM stations s
CROSS JOIN LATERAL (SELECT id, geom FROM road_nodes ORDER BY geom <-> s.geom LIMIT 1) n
ORDER BY s.agency_code, s.name, s.id

-- name: agency_targets
-- The tightest response target among the categories an agency answers first.
SELECT ca.agency_code, min(c.target_response_s) AS target_s
FROM category_agencies ca JOIN incident_categories c ON c.code = ca.category_code
WHERE ca.role = 'primary' AND c.retired_at IS NULL
GROUP BY ca.agency_code

-- name: delete_unmanaged_places
-- Places no import keeps in step (no props.source of :sources: typed in, a demo city's): city
-- setup replaces the city, so they go with the previous one.
DELETE FROM places WHERE (props->>'source') IS NULL OR NOT (props->>'source') = ANY(CAST(:sources AS text[]))

-- The geocoder's places derived from the city's own data (geodata/importers/places.py),
-- read through app/db/sqlfiles.py.  Every statement fills the temp table _want_places with
-- the rows one source should have; sync then deletes what is no longer wanted and inserts
-- what is missing, so a second run of the same import changes nothing (ids included).

-- name: create_want
CREATE TEMP TABLE IF NOT EXISTS _want_places (
  kind text NOT NULL, name text NOT NULL, area_id integer, props jsonb NOT NULL, geom geometry NOT NULL
) ON COMMIT DROP

-- name: want_streets
-- One place per street: edges of one name within :gap_m metres of each other (clustered in the
-- city's metric CRS :epsg) merged into one line; two streets of the same name in different
-- parts of the city stay two places.  The kelurahan is the one holding the street's middle point.
INSERT INTO _want_places (kind, name, area_id, props, geom)
WITH c AS (
  SELECT e.name, e.highway, e.geom,
         ST_ClusterDBSCAN(ST_Transform(e.geom, :epsg), eps := :gap_m, minpoints := 1)
           OVER (PARTITION BY e.name) AS cluster
  FROM road_edges e WHERE e.name IS NOT NULL AND btrim(e.name) <> ''
), s AS (
  SELECT name, ST_Multi(ST_LineMerge(ST_Collect(geom ORDER BY ST_XMin(geom), ST_YMin(geom)))) AS geom,
         mode() WITHIN GROUP (ORDER BY highway) AS highway, count(*) AS edges
  FROM c GROUP BY name, cluster
)
SELECT 'street', s.name,
       (SELECT a.id FROM admin_areas a WHERE a.level = 'kelurahan'
           AND ST_Intersects(a.geom, ST_ClosestPoint(s.geom, ST_Centroid(s.geom))) ORDER BY a.id LIMIT 1),
       jsonb_build_object('source', 'roads', 'highway', s.highway, 'edges', s.edges),
       s.geom
FROM s

-- name: want_areas
-- Every kelurahan and kecamatan by its name (the caller says "Kelurahan Damai"), the area itself.
INSERT INTO _want_places (kind, name, area_id, props, geom)
SELECT a.level, a.name, a.id, jsonb_build_object('source', 'areas', 'code', a.code), a.geom
FROM admin_areas a WHERE a.level IN ('kelurahan', 'kecamatan')

-- name: want_stations
-- Every station is a landmark too ("dekat Puskesmas Sepinggan", "depan Polsek").
INSERT INTO _want_places (kind, name, area_id, props, geom)
SELECT 'landmark', s.name,
       (SELECT a.id FROM admin_areas a WHERE a.level = 'kelurahan' AND ST_Intersects(a.geom, s.geom)
         ORDER BY a.id LIMIT 1),
       jsonb_build_object('source', 'stations', 'type', s.kind, 'agency', s.agency_code),
       s.geom
FROM stations s

-- name: want_osm_area_ids
-- Landmarks and addresses read from the OSM file (COPYed into _want_places) get their kelurahan.
UPDATE _want_places w SET area_id = (
  SELECT a.id FROM admin_areas a WHERE a.level = 'kelurahan' AND ST_Intersects(a.geom, w.geom)
  ORDER BY a.id LIMIT 1)
WHERE w.props->>'source' = 'osm'

-- name: sync_delete
DELETE FROM places p
WHERE p.props->>'source' = :source
  AND NOT EXISTS (SELECT 1 FROM _want_places w
                  WHERE w.props->>'source' = :source AND w.kind = p.kind AND w.name = p.name
                    AND w.area_id IS NOT DISTINCT FROM p.area_id AND w.props = p.props
                    AND ST_Equals(w.geom, p.geom))

-- name: sync_insert
INSERT INTO places (kind, name, area_id, props, geom)
SELECT w.kind, w.name, w.area_id, w.props, w.geom
FROM _want_places w
WHERE w.props->>'source' = :source
  AND NOT EXISTS (SELECT 1 FROM places p
                  WHERE p.props->>'source' = :source AND w.kind = p.kind AND w.name = p.name
                    AND w.area_id IS NOT DISTINCT FROM p.area_id AND w.props = p.props
                    AND ST_Equals(w.geom, p.geom))
ORDER BY w.kind, w.name

-- name: counts
SELECT kind, COALESCE(props->>'type', kind) AS type, count(*) AS n FROM places GROUP BY 1, 2 ORDER BY 1, 2

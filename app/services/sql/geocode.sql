-- The geocoder (app/services/geocode.py), read through app/db/sqlfiles.py.
-- Places are matched on name_norm (peta112_norm_place, trigram-indexed); the point given
-- for a line (a street) is the point of the street nearest its centre, so it lies on the
-- street, unlike a centroid of a bent or split street.

-- name: search
-- Places whose name matches :q, best first (a name that is the whole query before one that is only
-- part of it: "hilton helsinki strand" is the hotel, not the city's station "Helsinki"); :landmarks_only leaves out streets, addresses
-- and areas (the words after "dekat" name a landmark).
WITH q AS (SELECT CAST(:q AS text) AS q)
SELECT p.id, p.kind, p.name, p.area_id, p.props,
       ka.name AS kelurahan, kc.name AS kecamatan,
       GREATEST(similarity(p.name_norm, q.q), word_similarity(p.name_norm, q.q),
                word_similarity(q.q, p.name_norm)) AS score,
       similarity(p.name_norm, q.q) AS whole,
       ST_Y(pt.geom) AS lat, ST_X(pt.geom) AS lon
FROM places p
CROSS JOIN q
CROSS JOIN LATERAL (SELECT CASE
    WHEN GeometryType(p.geom) = 'POINT' THEN p.geom
    WHEN GeometryType(p.geom) IN ('LINESTRING', 'MULTILINESTRING')
      THEN ST_ClosestPoint(p.geom, ST_Centroid(p.geom))
    ELSE ST_PointOnSurface(p.geom) END AS geom) pt
LEFT JOIN admin_areas ka ON ka.id = p.area_id AND ka.level = 'kelurahan'
LEFT JOIN admin_areas kc ON kc.id = COALESCE(ka.parent_id,
                                             CASE WHEN p.kind = 'kecamatan' THEN p.area_id END)
WHERE (p.name_norm % q.q OR q.q <% p.name_norm OR p.name_norm <% q.q)
  AND NOT (:landmarks_only AND p.kind IN ('street', 'address', 'kelurahan', 'kecamatan'))
ORDER BY score DESC, whole DESC, length(p.name), p.id
LIMIT :limit

-- name: near_street
-- Distance in metres from each place :ids to the nearest street matching :street
-- ("jl usaha i dekat pasar pleburan": which Pasar Pleburan is by Jl. Usaha I).
WITH q AS (SELECT CAST(:street AS text) AS q),
streets AS (
  SELECT s.geom FROM places s CROSS JOIN q
  WHERE s.kind = 'street' AND (s.name_norm % q.q OR q.q <% s.name_norm OR s.name_norm <% q.q)
    AND GREATEST(similarity(s.name_norm, q.q), word_similarity(q.q, s.name_norm),
                 word_similarity(s.name_norm, q.q)) >= :min_score
)
SELECT p.id,
       (SELECT min(ST_Distance(p.geom::geography, s.geom::geography)) FROM streets s) AS street_m
FROM places p WHERE p.id = ANY(CAST(:ids AS int[]))

-- name: house
-- An address point (kind 'address', from OSM addr:*) of house number :number on a street
-- matching :street.
WITH q AS (SELECT CAST(:street AS text) AS q)
SELECT p.id, p.name, p.props, ka.name AS kelurahan, kc.name AS kecamatan,
       ST_Y(p.geom) AS lat, ST_X(p.geom) AS lon,
       GREATEST(similarity(peta112_norm_place(p.props->>'street'), q.q),
                word_similarity(q.q, peta112_norm_place(p.props->>'street'))) AS score
FROM places p
CROSS JOIN q
LEFT JOIN admin_areas ka ON ka.id = p.area_id AND ka.level = 'kelurahan'
LEFT JOIN admin_areas kc ON kc.id = ka.parent_id
WHERE p.kind = 'address' AND lower(p.props->>'housenumber') = lower(:number)
  AND GREATEST(similarity(peta112_norm_place(p.props->>'street'), q.q),
               word_similarity(q.q, peta112_norm_place(p.props->>'street'))) >= :min_score
ORDER BY score DESC, p.id
LIMIT 1

-- name: reverse
-- What is at a point: the nearest named street and landmark within :max_m metres (NULL when
-- nothing is that near: a street kilometres away is no answer), and the areas containing it.
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT
  (SELECT json_build_object('name', x.name, 'distance_m', round(x.d::numeric, 1))
     FROM (SELECT e.name, ST_Distance(e.geom::geography, pt.g::geography) AS d
             FROM road_edges e WHERE e.name IS NOT NULL
             ORDER BY e.geom <-> pt.g LIMIT 8) x
    WHERE x.d <= :max_m ORDER BY x.d LIMIT 1) AS street,
  (SELECT json_build_object('id', x.id, 'name', x.name, 'type', x.type, 'distance_m', round(x.d::numeric, 1))
     FROM (SELECT p.id, p.name, p.props->>'type' AS type, ST_Distance(p.geom::geography, pt.g::geography) AS d
             FROM places p WHERE p.kind = 'landmark'
             ORDER BY p.geom <-> pt.g LIMIT 8) x
    WHERE x.d <= :landmark_max_m ORDER BY x.d LIMIT 1) AS landmark,
  (SELECT json_build_object('id', a.id, 'code', a.code, 'name', a.name)
     FROM admin_areas a WHERE a.level = 'kelurahan' AND ST_Intersects(a.geom, pt.g)
     ORDER BY a.id LIMIT 1) AS kelurahan,
  (SELECT json_build_object('id', a.id, 'code', a.code, 'name', a.name)
     FROM admin_areas a WHERE a.level = 'kecamatan' AND ST_Intersects(a.geom, pt.g)
     ORDER BY a.id LIMIT 1) AS kecamatan
FROM pt

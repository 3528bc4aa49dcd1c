-- Open311 GeoReport v2 (app/services/open311.py), read through app/db/sqlfiles.py.
-- Requests are read from incident_public only, never from incidents: what an anonymous
-- reader may see is decided once, in the database (app/incidents/sql/facts.sql).

-- name: services
-- The categories a citizen may file: the public ones for the public (:public_only),
-- every reportable one for a client with an api_key; never a retired one (the city's catalog
-- dropped it: old requests keep showing it, new ones are refused by intake).
SELECT c.code, c.name_id, c.name_en, c.priority, c.target_response_s, c.is_emergency, c.is_public,
       COALESCE(array_agg(a.name ORDER BY ca.role, ca.agency_code)
                FILTER (WHERE ca.agency_code IS NOT NULL), '{}') AS agency_names
FROM incident_categories c
LEFT JOIN category_agencies ca ON ca.category_code = c.code
LEFT JOIN agencies a ON a.code = ca.agency_code
WHERE NOT (c.code = ANY(:hidden)) AND (c.is_public OR NOT :public_only) AND c.retired_at IS NULL
GROUP BY c.code
ORDER BY c.priority, c.code

-- name: requests
-- Service requests: public categories, counted calls of the public window, location at the
-- centre of a cell, the area (kelurahan, kecamatan) for an address, no caller data.  The
-- responsible agencies are the category's (public), not the incident's tasks (not public).
SELECT p.id, p.category, p.category_name AS service_name, p.status, p.is_open, p.description, p.area,
       p.received_at, p.updated_at, c.is_emergency,
       p.due_at AS expected_at,
       ST_Y(p.geom) AS lat, ST_X(p.geom) AS lon,
       (SELECT string_agg(a.name, '; ' ORDER BY ca.role, ca.agency_code)
          FROM category_agencies ca JOIN agencies a ON a.code = ca.agency_code
         WHERE ca.category_code = p.category) AS agencies
FROM incident_public p
JOIN incident_categories c ON c.code = p.category
WHERE (CAST(:ids AS bigint[]) IS NULL OR p.id = ANY(CAST(:ids AS bigint[])))
  AND (CAST(:start AS timestamptz) IS NULL OR p.received_at >= CAST(:start AS timestamptz))
  AND (CAST(:end AS timestamptz) IS NULL OR p.received_at <= CAST(:end AS timestamptz))
  AND (CAST(:codes AS text[]) IS NULL OR p.category = ANY(CAST(:codes AS text[])))
  AND (CAST(:want_open AS boolean) IS NULL OR p.is_open = CAST(:want_open AS boolean))
ORDER BY p.received_at DESC, p.id DESC
LIMIT :limit

-- name: is_public
SELECT EXISTS (SELECT 1 FROM incident_public WHERE id = :id)

-- name: is_emergency
SELECT is_emergency FROM incident_categories WHERE code = :code

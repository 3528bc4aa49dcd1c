-- The city's catalog (app/city/catalog.py), read through app/db/sqlfiles.py.

-- name: agencies
SELECT code, name, name_en, kind, phone, color, unit_types, retired_at FROM agencies ORDER BY code

-- name: categories
SELECT c.code, c.name_id, c.name_en, c.priority, c.target_response_s, c.is_emergency, c.is_public,
       c.public_description, c.color, c.icon, c.response_plan, c.related, c.retired_at,
       COALESCE(json_agg(json_build_array(ca.agency_code, ca.role))
                FILTER (WHERE ca.agency_code IS NOT NULL), '[]') AS agencies,
       COALESCE(json_object_agg(ca.agency_code, ca.task_target_s)
                FILTER (WHERE ca.task_target_s IS NOT NULL), '{}') AS task_targets
FROM incident_categories c
LEFT JOIN category_agencies ca ON ca.category_code = c.code
GROUP BY c.code
ORDER BY c.code

-- name: references
-- Every foreign key to :target (agencies or incident_categories) but the category rules,
-- which belong to the category: what keeps a code from being deleted.
SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = CAST(:target AS regclass)
  AND c.conrelid <> CAST('category_agencies' AS regclass)
ORDER BY 1, 2

-- name: count_references
-- Rows of one referencing table ({tbl}, already quoted by regclass) naming each code; {col} is
-- quoted by the caller.  Formatted from the catalog of foreign keys above, never from input.
SELECT {col} AS code, count(*) AS n FROM {tbl} WHERE {col} = ANY(:codes) GROUP BY 1

-- name: lock
-- One apply at a time; intake may go on (its foreign key checks take row locks only).
LOCK TABLE agencies, incident_categories, category_agencies IN SHARE ROW EXCLUSIVE MODE

-- name: upsert_agency
INSERT INTO agencies (code, name, name_en, kind, phone, color, unit_types, retired_at)
VALUES (:code, :name, :name_en, :kind, :phone, :color, CAST(:unit_types AS text[]), NULL)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, name_en = EXCLUDED.name_en, kind = EXCLUDED.kind,
    phone = EXCLUDED.phone, color = EXCLUDED.color, unit_types = EXCLUDED.unit_types, retired_at = NULL

-- name: retire_agency
UPDATE agencies SET retired_at = now() WHERE code = :code AND retired_at IS NULL

-- name: delete_agency
DELETE FROM agencies WHERE code = :code

-- name: upsert_category
INSERT INTO incident_categories (code, name_id, name_en, priority, target_response_s, is_emergency,
                                 response_plan, icon, color, is_public, public_description, related, retired_at)
VALUES (:code, :name_id, :name_en, :priority, :target_response_s, :is_emergency, CAST(:plan AS jsonb),
        :icon, :color, :is_public, :public_description, CAST(:related AS text[]), NULL)
ON CONFLICT (code) DO UPDATE SET name_id = EXCLUDED.name_id, name_en = EXCLUDED.name_en,
    priority = EXCLUDED.priority, target_response_s = EXCLUDED.target_response_s,
    is_emergency = EXCLUDED.is_emergency, response_plan = EXCLUDED.response_plan, icon = EXCLUDED.icon,
    color = EXCLUDED.color, is_public = EXCLUDED.is_public, public_description = EXCLUDED.public_description,
    related = EXCLUDED.related, retired_at = NULL

-- name: delete_rules
DELETE FROM category_agencies WHERE category_code = :code

-- name: insert_rule
INSERT INTO category_agencies (category_code, agency_code, role, task_target_s)
VALUES (:category, :agency, :role, :task_target_s)

-- name: retire_category
UPDATE incident_categories SET retired_at = now() WHERE code = :code AND retired_at IS NULL

-- name: delete_category
DELETE FROM incident_categories WHERE code = :code

-- name: audit
INSERT INTO catalog_events (kind, code, actor, source, data)
VALUES (:kind, :code, :actor, :source, CAST(:data AS jsonb))

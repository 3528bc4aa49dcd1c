-- Advanced Mobile Location: a caller's handset position, stored as sent, linked to its call.

-- name: insert_fix
-- The call it belongs to: the number's newest contact offered in the last hour (an AML SMS
-- arrives some seconds after the call starts, sometimes after it ended).
WITH call AS (
    SELECT id FROM calls
    WHERE caller_phone = :phone AND offered_at > now() - interval '1 hour'
    ORDER BY offered_at DESC, id DESC LIMIT 1),
kel AS (
    SELECT id FROM admin_areas
    WHERE level = 'kelurahan' AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY id LIMIT 1)
INSERT INTO caller_locations (caller_phone, call_id, source, method, radius_m, confidence, positioned_at,
                              kelurahan_id, actor, geom)
VALUES (:phone, (SELECT id FROM call), :source, :method, :radius_m, :confidence, :positioned_at,
        (SELECT id FROM kel), :actor, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
RETURNING id, call_id, kelurahan_id

-- name: touch_call
-- The call's consoles hear of the new position through the call's own change event; the call
-- takes the caller's kelurahan unless an incident already placed it.
UPDATE calls SET updated_at = now(), kelurahan_id = coalesce(kelurahan_id, CAST(:kelurahan_id AS integer))
WHERE id = :call_id

-- Callers' data in the call centre's tables older than the retention period (run by the owner:
-- peta112 privacy purge).  The contacts stay (load figures, the monthly recap); who called does not.

-- name: calls
UPDATE calls SET caller_phone = NULL, updated_at = now()
WHERE offered_at < now() - make_interval(days => :days) AND caller_phone IS NOT NULL

-- name: locations
DELETE FROM caller_locations WHERE received_at < now() - make_interval(days => :days)

-- name: conversations
UPDATE conversations SET caller_phone = NULL, contact_name = NULL, external_chat = 'purged:' || id,
                         token_sha256 = NULL, updated_at = now()
WHERE last_message_at < now() - make_interval(days => :days) AND external_chat NOT LIKE 'purged:%'

-- name: messages
UPDATE conversation_messages SET body = NULL, media = NULL, geom = NULL
WHERE at < now() - make_interval(days => :days) AND (body IS NOT NULL OR media IS NOT NULL OR geom IS NOT NULL)

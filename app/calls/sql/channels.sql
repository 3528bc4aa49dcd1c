-- Conversations from chat, SMS and the public report form; installed by app/calls/visibility.py.

-- name: install
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE channel_outbox ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON conversations, conversation_messages, channel_outbox TO peta112_app;
GRANT USAGE, SELECT ON SEQUENCE conversations_id_seq, conversation_messages_id_seq, channel_outbox_id_seq
  TO peta112_app;
REVOKE DELETE ON conversations, conversation_messages, channel_outbox FROM peta112_app;
-- Chats carry callers' names, numbers and words: the desk reads them; the keyed webhooks write them.
DROP POLICY IF EXISTS conversations_desk ON conversations;
CREATE POLICY conversations_desk ON conversations FOR ALL TO peta112_app
  USING (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@)
  WITH CHECK (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@);
DROP POLICY IF EXISTS conversation_messages_desk ON conversation_messages;
CREATE POLICY conversation_messages_desk ON conversation_messages FOR ALL TO peta112_app
  USING (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@)
  WITH CHECK (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@);
DROP POLICY IF EXISTS channel_outbox_desk ON channel_outbox;
CREATE POLICY channel_outbox_desk ON channel_outbox FOR ALL TO peta112_app
  USING (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@)
  WITH CHECK (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@);

-- The reporter is told when the incident's status changes, whoever changed it and however:
-- a trigger queues the reply (the owner's function: the app role may not see every chat).
CREATE OR REPLACE FUNCTION peta112_tell_reporters() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO channel_outbox (conversation_id, channel, recipient, body)
    SELECT c.id, CASE WHEN c.channel = 'web' THEN 'sms' ELSE c.channel END,
           CASE WHEN c.channel IN ('web', 'sms') THEN c.caller_phone ELSE c.external_chat END,
           format('Laporan 112 #%s: %s.', NEW.id, CASE NEW.status
               WHEN 'received' THEN 'laporan diterima' WHEN 'verified' THEN 'laporan sudah diverifikasi'
               WHEN 'dispatched' THEN 'petugas sudah dikirim' WHEN 'en_route' THEN 'petugas dalam perjalanan'
               WHEN 'on_scene' THEN 'petugas sudah di lokasi' WHEN 'resolved' THEN 'sudah ditangani'
               WHEN 'closed' THEN 'laporan ditutup' WHEN 'cancelled' THEN 'laporan dibatalkan'
               ELSE 'status ' || NEW.status END)
    FROM conversations c
    WHERE c.incident_id = NEW.id AND (c.channel NOT IN ('web', 'sms') OR c.caller_phone IS NOT NULL);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS incidents_tell_reporters ON incidents;
CREATE TRIGGER incidents_tell_reporters AFTER UPDATE OF status ON incidents
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION peta112_tell_reporters();

-- What a reporter of the public form may read with the token they were given: the status of
-- their own report, nothing else (a definer view: anonymous readers have no rows elsewhere).
DROP VIEW IF EXISTS public_report_status;
CREATE VIEW public_report_status AS
SELECT c.token_sha256, c.id AS report_id, c.opened_at, c.category_code AS category, cat.name_id AS category_name,
       i.id AS incident_id, i.status, i.updated_at, i.resolved_at, i.closed_at,
       (SELECT array_agg(t.agency_code ORDER BY t.agency_code) FROM incident_tasks t WHERE t.incident_id = i.id)
           AS agencies
FROM conversations c
LEFT JOIN incidents i ON i.id = c.incident_id
LEFT JOIN incident_categories cat ON cat.code = c.category_code
WHERE c.channel = 'web' AND c.token_sha256 IS NOT NULL;
GRANT SELECT ON public_report_status TO peta112_app;

-- name: uninstall
DROP VIEW IF EXISTS public_report_status;
DROP TRIGGER IF EXISTS incidents_tell_reporters ON incidents;
DROP FUNCTION IF EXISTS peta112_tell_reporters();
DROP POLICY IF EXISTS conversations_desk ON conversations;
DROP POLICY IF EXISTS conversation_messages_desk ON conversation_messages;
DROP POLICY IF EXISTS channel_outbox_desk ON channel_outbox;

-- name: open_conversation
-- One open conversation per chat: a new message joins it, or opens one.
INSERT INTO conversations (channel, external_chat, contact_name, caller_phone, category_code, token_sha256)
VALUES (:channel, :chat, :name, :phone, :category, :token)
ON CONFLICT (channel, external_chat) WHERE status = 'open'
DO UPDATE SET last_message_at = now(), updated_at = now(),
              contact_name = coalesce(EXCLUDED.contact_name, conversations.contact_name),
              caller_phone = coalesce(EXCLUDED.caller_phone, conversations.caller_phone)
RETURNING id, call_id, status

-- name: open_call
-- The conversation is a contact of the centre too (channel chat, sms or web).
WITH ins AS (
    INSERT INTO calls (channel, caller_phone, line, external_id, created_by)
    VALUES (:call_channel, :phone, :line, :external_id, :actor)
    RETURNING id)
UPDATE conversations SET call_id = (SELECT id FROM ins) WHERE id = :id
RETURNING call_id

-- name: add_message
INSERT INTO conversation_messages (conversation_id, direction, external_id, at, body, media, actor, geom)
VALUES (:conversation, :direction, :external_id, coalesce(CAST(:at AS timestamptz), now()), :body,
        CAST(:media AS jsonb), :actor,
        CASE WHEN CAST(:lat AS float8) IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) END)
ON CONFLICT (conversation_id, direction, external_id) DO NOTHING
RETURNING id

-- name: set_location
UPDATE conversations SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), updated_at = now() WHERE id = :id

-- name: list_conversations
SELECT c.id, c.channel, c.contact_name, c.caller_phone, c.status, c.call_id, c.incident_id, c.category_code,
       c.opened_at, c.last_message_at, ST_Y(c.geom) AS lat, ST_X(c.geom) AS lon,
       (SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id) AS messages,
       (SELECT m.body FROM conversation_messages m WHERE m.conversation_id = c.id AND m.body IS NOT NULL
        ORDER BY m.at DESC, m.id DESC LIMIT 1) AS last_text
FROM conversations c
WHERE (CAST(:status AS text) IS NULL OR c.status = CAST(:status AS text))
ORDER BY c.last_message_at DESC, c.id DESC
LIMIT :limit

-- name: conversation_items
-- The same items for some conversations (the live stream's summary for the desk).
SELECT c.id, c.channel, c.contact_name, c.caller_phone, c.status, c.call_id, c.incident_id, c.category_code,
       c.opened_at, c.last_message_at, ST_Y(c.geom) AS lat, ST_X(c.geom) AS lon,
       (SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id) AS messages,
       (SELECT m.body FROM conversation_messages m WHERE m.conversation_id = c.id AND m.body IS NOT NULL
        ORDER BY m.at DESC, m.id DESC LIMIT 1) AS last_text
FROM conversations c
WHERE c.id = ANY(CAST(:ids AS bigint[]))
ORDER BY c.id

-- name: conversation
SELECT c.id, c.channel, c.external_chat, c.contact_name, c.caller_phone, c.status, c.call_id, c.incident_id,
       c.category_code, c.opened_at, c.last_message_at, ST_Y(c.geom) AS lat, ST_X(c.geom) AS lon
FROM conversations c WHERE c.id = :id

-- name: messages
SELECT m.id, m.direction, m.at, m.body, m.media, m.actor, ST_Y(m.geom) AS lat, ST_X(m.geom) AS lon
FROM conversation_messages m WHERE m.conversation_id = :id ORDER BY m.at, m.id

-- name: converted
UPDATE conversations SET status = 'converted', incident_id = :incident, updated_at = now() WHERE id = :id

-- name: link_call
UPDATE calls SET disposition = 'incident', incident_id = :incident, answered_at = coalesce(answered_at, now()),
                 operator = coalesce(operator, :operator),
                 kelurahan_id = (SELECT kelurahan_id FROM incident_facts WHERE id = :incident), updated_at = now()
WHERE id = :call

-- name: close
UPDATE conversations SET status = 'closed', updated_at = now() WHERE id = :id AND status = 'open'

-- name: close_call
UPDATE calls SET disposition = :disposition, forwarded_to = :forwarded_to,
                 answered_at = coalesce(answered_at, now()), ended_at = coalesce(ended_at, now()),
                 operator = coalesce(operator, :operator), updated_at = now()
WHERE id = :call

-- name: reply
INSERT INTO channel_outbox (conversation_id, channel, recipient, body)
SELECT c.id, CASE WHEN c.channel = 'web' THEN 'sms' ELSE c.channel END,
       CASE WHEN c.channel IN ('web', 'sms') THEN c.caller_phone ELSE c.external_chat END, :body
FROM conversations c WHERE c.id = :id AND (c.channel NOT IN ('web', 'sms') OR c.caller_phone IS NOT NULL)
RETURNING id

-- name: outbox
SELECT o.id, o.conversation_id, o.channel, o.recipient, o.body, o.created_at, o.sent_at
FROM channel_outbox o WHERE o.conversation_id = :id ORDER BY o.id

-- name: report_status
SELECT report_id, opened_at, category, category_name, incident_id, status, updated_at, resolved_at, closed_at,
       agencies
FROM public_report_status WHERE token_sha256 = :token

-- name: public_categories
-- The categories /lapor offers and POST /api/v1/public/reports accepts: public, and not retired by the
-- city's catalog (app/city/catalog.py).
SELECT code, name_id, name_en FROM incident_categories WHERE is_public AND retired_at IS NULL ORDER BY name_id

-- name: outbox_pending
-- Replies not yet sent, oldest first, for the channels this sender can reach (each is then claimed
-- alone with outbox_claim while it is sent).
SELECT o.id, o.channel, o.recipient, o.body, o.attempts
FROM channel_outbox o
WHERE o.sent_at IS NULL AND o.attempts < :max_attempts AND o.channel = ANY(CAST(:channels AS text[]))
ORDER BY o.created_at, o.id
LIMIT :limit

-- name: outbox_sent
UPDATE channel_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = :id

-- name: outbox_failed
UPDATE channel_outbox SET attempts = attempts + 1, last_error = left(:error, 500) WHERE id = :id

-- name: outbox_claim
-- One reply, locked while it is sent (unless another sender holds it or sent it meanwhile).
SELECT id FROM channel_outbox WHERE id = :id AND sent_at IS NULL FOR UPDATE SKIP LOCKED

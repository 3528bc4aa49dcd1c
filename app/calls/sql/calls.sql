-- Calls and caller locations: who may see them, and the read model every surface of calls uses.
-- Installed by app/calls/visibility.py with the role sets of app/incidents/viewer.py (tokens like
-- @personal_roles@), in the style of app/incidents/sql/facts.sql.

-- name: install
ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE caller_locations ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON calls, caller_locations TO peta112_app;
GRANT USAGE, SELECT ON SEQUENCE calls_id_seq, caller_locations_id_seq TO peta112_app;
-- A contact is a record of the centre's work: the app never deletes one (retention erases the number).
REVOKE DELETE ON calls, caller_locations FROM peta112_app;

-- Rows: everyone who sees every incident sees every call (officials and BPBD need them for the
-- load figures; the number is withheld below); an agency sees only calls that report an
-- incident it has a task in; anonymous readers none.
DROP POLICY IF EXISTS calls_visible ON calls;
CREATE POLICY calls_visible ON calls FOR SELECT TO peta112_app
  USING (peta112_viewer_role() = ANY(@all_rows_roles@)
         OR (peta112_viewer_role() = ANY(@agency_roles@) AND incident_id IS NOT NULL
             AND peta112_incident_visible(incident_id, peta112_viewer_role(), peta112_viewer_agency())));
DROP POLICY IF EXISTS calls_create ON calls;
CREATE POLICY calls_create ON calls FOR INSERT TO peta112_app
  WITH CHECK (peta112_viewer_role() = ANY(@creator_roles@));
DROP POLICY IF EXISTS calls_change ON calls;
CREATE POLICY calls_change ON calls FOR UPDATE TO peta112_app
  USING (peta112_viewer_role() = ANY(@creator_roles@));

-- A caller's position is personal data through and through: the desk reads it; the telephony
-- side (integration) may write it.
DROP POLICY IF EXISTS caller_locations_visible ON caller_locations;
CREATE POLICY caller_locations_visible ON caller_locations FOR SELECT TO peta112_app
  USING (peta112_viewer_role() = ANY(@personal_roles@) OR peta112_viewer_role() = @integration@);
DROP POLICY IF EXISTS caller_locations_create ON caller_locations;
CREATE POLICY caller_locations_create ON caller_locations FOR INSERT TO peta112_app
  WITH CHECK (peta112_viewer_role() = ANY(@creator_roles@));

DROP VIEW IF EXISTS call_facts;
-- The read model of a contact.  security_invoker: the reader's row-level security applies;
-- the number is NULL unless the reader may see callers' data.
CREATE VIEW call_facts WITH (security_invoker = true) AS
SELECT c.id, c.channel,
       CASE WHEN peta112_viewer_sees_personal() THEN c.caller_phone END AS caller_phone,
       c.line, c.external_id, c.operator, c.offered_at, c.answered_at, c.ended_at,
       c.disposition, c.forwarded_to, c.incident_id, c.note, c.created_by, c.updated_at,
       c.kelurahan_id, kel.name AS kelurahan, kel.code AS kelurahan_code,
       CASE WHEN c.ended_at IS NOT NULL THEN 'ended'
            WHEN c.answered_at IS NOT NULL THEN 'answered' ELSE 'ringing' END AS state,
       -- abandoned: the caller hung up before anyone answered
       (c.answered_at IS NULL AND c.ended_at IS NOT NULL) AS is_abandoned,
       extract(epoch FROM c.answered_at - c.offered_at)::float8 AS answer_s,
       extract(epoch FROM c.ended_at - c.answered_at)::float8 AS handle_s,
       c.disposition = 'iseng' AS is_prank
FROM calls c
LEFT JOIN admin_areas kel ON kel.id = c.kelurahan_id;
GRANT SELECT ON call_facts TO peta112_app;

-- name: uninstall
DROP VIEW IF EXISTS call_facts;
DROP POLICY IF EXISTS calls_visible ON calls;
DROP POLICY IF EXISTS calls_create ON calls;
DROP POLICY IF EXISTS calls_change ON calls;
DROP POLICY IF EXISTS caller_locations_visible ON caller_locations;
DROP POLICY IF EXISTS caller_locations_create ON caller_locations;
ALTER TABLE calls DISABLE ROW LEVEL SECURITY;
ALTER TABLE caller_locations DISABLE ROW LEVEL SECURITY;

-- name: call_columns
SELECT f.id, f.channel, f.caller_phone, f.line, f.external_id, f.operator, f.offered_at, f.answered_at,
       f.ended_at, f.state, f.disposition, f.forwarded_to, f.incident_id, f.note, f.kelurahan, f.kelurahan_code,
       f.answer_s, f.handle_s, f.is_abandoned, f.is_prank, f.created_by, f.updated_at
FROM call_facts f

-- name: list_where
WHERE (CAST(:since AS timestamptz) IS NULL OR f.offered_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR f.offered_at < CAST(:until AS timestamptz))
  AND (CAST(:channel AS text) IS NULL OR f.channel = CAST(:channel AS text))
  AND (CAST(:disposition AS text) IS NULL OR f.disposition = CAST(:disposition AS text))
  AND (CAST(:operator AS text) IS NULL OR f.operator = CAST(:operator AS text))
  AND (CAST(:phone AS text) IS NULL OR f.caller_phone = CAST(:phone AS text))
  AND (CAST(:state AS text) IS NULL OR f.state = CAST(:state AS text)
       OR (CAST(:state AS text) = 'open' AND f.state <> 'ended'))
  AND (CAST(:incident AS bigint) IS NULL OR f.incident_id = CAST(:incident AS bigint))

-- name: insert_call
INSERT INTO calls (channel, caller_phone, line, external_id, operator, offered_at, answered_at, ended_at,
                   disposition, forwarded_to, incident_id, note, kelurahan_id, created_by)
VALUES (:channel, :caller_phone, :line, :external_id, :operator, coalesce(CAST(:offered_at AS timestamptz), now()),
        :answered_at, :ended_at, :disposition, :forwarded_to, :incident_id, :note,
        (SELECT kelurahan_id FROM incident_facts WHERE id = CAST(:incident_id AS bigint)), :actor)
ON CONFLICT (external_id) DO NOTHING
RETURNING id

-- name: id_by_external
SELECT id, answered_at, ended_at, operator FROM calls WHERE external_id = :external_id

-- name: answer
UPDATE calls SET answered_at = coalesce(answered_at, greatest(coalesce(CAST(:at AS timestamptz), now()), offered_at)),
                 operator = coalesce(operator, :operator), updated_at = now()
WHERE id = :id AND ended_at IS NULL
RETURNING id

-- name: hang_up
UPDATE calls SET ended_at = coalesce(ended_at, greatest(coalesce(CAST(:at AS timestamptz), now()), offered_at,
                                                          coalesce(answered_at, offered_at))),
                 updated_at = now()
WHERE id = :id
RETURNING id

-- name: call_for_update
SELECT id, disposition, forwarded_to, incident_id, note, answered_at, ended_at, operator
FROM calls WHERE id = :id FOR UPDATE

-- name: update_call
UPDATE calls SET disposition = :disposition, forwarded_to = :forwarded_to, incident_id = :incident_id,
                 note = :note, operator = :operator, answered_at = :answered_at, ended_at = :ended_at,
                 kelurahan_id = coalesce(
                     (SELECT kelurahan_id FROM incident_facts WHERE id = CAST(:incident_id AS bigint)), kelurahan_id),
                 updated_at = now()
WHERE id = :id

-- name: incident_exists
SELECT EXISTS (SELECT 1 FROM incident_facts WHERE id = :id)

-- name: desk_user
SELECT username FROM users WHERE username = :username AND active AND role = ANY(CAST(:roles AS text[]))

-- name: history_calls
-- The number's earlier contacts, newest first (the reader's rules apply: call_facts).
SELECT f.id, f.channel, f.offered_at, f.state, f.disposition, f.forwarded_to, f.incident_id, f.operator,
       f.is_abandoned
FROM call_facts f
WHERE f.caller_phone = :phone AND f.id <> coalesce(CAST(:exclude AS bigint), 0)
ORDER BY f.offered_at DESC LIMIT :limit

-- name: history_counts
SELECT count(*) AS calls,
       count(*) FILTER (WHERE f.disposition = 'iseng') AS prank_calls,
       count(*) FILTER (WHERE f.disposition = 'diam') AS silent_calls,
       count(*) FILTER (WHERE f.is_abandoned) AS abandoned_calls,
       min(f.offered_at) AS first_at, max(f.offered_at) AS last_at
FROM call_facts f
WHERE f.caller_phone = :phone AND f.id <> coalesce(CAST(:exclude AS bigint), 0)

-- name: history_incidents
-- Incidents from this number (found through the normalised-number index, read through the read
-- model: a reader who may not see callers' data matches nothing).
SELECT f.id, f.category, f.category_name, f.status, f.is_open, f.is_prank_call, f.received_at, f.address
FROM incident_facts f
WHERE f.id IN (SELECT i.id FROM incidents i WHERE peta112_norm_phone(i.caller_phone) = :phone)
  AND f.caller_phone IS NOT NULL
ORDER BY f.received_at DESC LIMIT :limit

-- name: history_incident_counts
SELECT count(*) AS incidents, count(*) FILTER (WHERE f.is_prank_call) AS prank_incidents,
       count(*) FILTER (WHERE f.is_open) AS open_incidents
FROM incident_facts f
WHERE f.id IN (SELECT i.id FROM incidents i WHERE peta112_norm_phone(i.caller_phone) = :phone)
  AND f.caller_phone IS NOT NULL

-- name: latest_location
-- The caller's position: the newest fix by time of positioning (a late-arriving older fix does
-- not replace a newer one), from the last :hours hours.
SELECT l.id, l.call_id, l.source, l.method, l.radius_m, l.confidence, l.positioned_at, l.received_at,
       ST_Y(l.geom) AS lat, ST_X(l.geom) AS lon, kel.name AS kelurahan
FROM caller_locations l
LEFT JOIN admin_areas kel ON kel.id = l.kelurahan_id
WHERE l.caller_phone = :phone AND l.positioned_at > now() - make_interval(hours => :hours)
ORDER BY l.positioned_at DESC, l.id DESC LIMIT 1

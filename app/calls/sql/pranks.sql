-- Prank callers: who keeps calling 112 for fun, what the supervisors decided, and when pranks happen.

-- name: install
ALTER TABLE prank_reviews ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON prank_reviews TO peta112_app;
GRANT USAGE, SELECT ON SEQUENCE prank_reviews_id_seq TO peta112_app;
REVOKE UPDATE, DELETE ON prank_reviews FROM peta112_app;
DROP POLICY IF EXISTS prank_reviews_desk ON prank_reviews;
CREATE POLICY prank_reviews_desk ON prank_reviews FOR ALL TO peta112_app
  USING (peta112_viewer_role() = ANY(@personal_roles@))
  WITH CHECK (peta112_viewer_role() = ANY(@personal_roles@));

-- name: uninstall
DROP POLICY IF EXISTS prank_reviews_desk ON prank_reviews;

-- name: offenders
-- Numbers with pranks in the window: prank calls (disposition iseng) and prank incidents filed with
-- the number, and the newest review of each.  Read through the read models: only the desk matches.
WITH prank_calls AS (
    SELECT f.caller_phone AS phone, count(*) AS n, min(f.offered_at) AS first_at, max(f.offered_at) AS last_at
    FROM call_facts f
    WHERE f.is_prank AND f.caller_phone IS NOT NULL AND f.offered_at >= :since
    GROUP BY 1),
prank_incidents AS (
    SELECT peta112_norm_phone(f.caller_phone) AS phone, count(*) AS n, min(f.received_at) AS first_at,
           max(f.received_at) AS last_at
    FROM incident_facts f
    WHERE f.is_prank_call AND f.caller_phone IS NOT NULL AND f.received_at >= :since
    GROUP BY 1),
together AS (
    SELECT coalesce(c.phone, i.phone) AS caller_phone, coalesce(c.n, 0) AS prank_calls,
           coalesce(i.n, 0) AS prank_incidents, coalesce(c.n, 0) + coalesce(i.n, 0) AS pranks,
           least(c.first_at, i.first_at) AS first_prank_at, greatest(c.last_at, i.last_at) AS last_prank_at
    FROM prank_calls c FULL JOIN prank_incidents i ON i.phone = c.phone),
latest AS (
    SELECT DISTINCT ON (caller_phone) caller_phone, decision, actor, at, note
    FROM prank_reviews ORDER BY caller_phone, at DESC, id DESC)
SELECT t.*, l.decision, l.actor AS decided_by, l.at AS decided_at, l.note AS decision_note
FROM together t LEFT JOIN latest l USING (caller_phone)
WHERE t.pranks >= :min_pranks OR l.decision = 'approved'
ORDER BY t.pranks DESC, t.last_prank_at DESC, t.caller_phone
LIMIT :limit

-- name: latest_review
SELECT decision, actor, at, note FROM prank_reviews WHERE caller_phone = :phone ORDER BY at DESC, id DESC LIMIT 1

-- name: insert_review
INSERT INTO prank_reviews (caller_phone, decision, actor, note, evidence)
VALUES (:phone, :decision, :actor, :note, CAST(:evidence AS jsonb))
RETURNING id, caller_phone, decision, actor, at, note, evidence

-- name: blocklist
SELECT l.caller_phone, l.at AS approved_at, l.actor AS approved_by, l.note
FROM (SELECT DISTINCT ON (caller_phone) caller_phone, decision, actor, at, note
      FROM prank_reviews ORDER BY caller_phone, at DESC, id DESC) l
WHERE l.decision = 'approved'
ORDER BY l.at DESC

-- name: rate_by_hour
SELECT extract(hour FROM f.offered_at AT TIME ZONE :tz)::int AS hour, count(*) AS calls,
       count(*) FILTER (WHERE f.is_prank) AS pranks
FROM call_facts f WHERE f.offered_at >= :since AND f.offered_at < :until
GROUP BY 1 ORDER BY 1

-- name: rate_by_kelurahan
SELECT f.kelurahan_code AS code, f.kelurahan, count(*) AS calls, count(*) FILTER (WHERE f.is_prank) AS pranks
FROM call_facts f WHERE f.offered_at >= :since AND f.offered_at < :until
GROUP BY 1, 2 ORDER BY 4 DESC, 3 DESC, 1 NULLS LAST

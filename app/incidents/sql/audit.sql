-- The read audit (app/incidents/audit.py): who read lists and exports of incidents, with what filter,
-- how many, and whether callers' name and phone were in them.  The app role may INSERT and SELECT
-- read_audit but never UPDATE it away or DELETE it (facts.sql, app_role).

-- name: record
INSERT INTO read_audit (username, role, surface, filter, count, personal_data)
VALUES (:username, :role, :surface, CAST(:filter AS jsonb), :count, :personal_data)

-- name: rows
SELECT a.id, a.at, a.username, a.role, a.surface, a.filter, a.count, a.personal_data
FROM read_audit a
WHERE (CAST(:username AS text) IS NULL OR a.username = :username)
  AND (CAST(:since AS timestamptz) IS NULL OR a.at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR a.at < :until)
ORDER BY a.at DESC, a.id DESC
LIMIT :limit

-- name: per_user
-- One line per user over the same window: how often they read, how many incidents, how many with callers' data.
SELECT a.username, min(a.role) AS role, count(*) AS requests, sum(a.count) AS incidents,
       count(*) FILTER (WHERE a.personal_data) AS personal_data_requests,
       COALESCE(sum(a.count) FILTER (WHERE a.personal_data), 0) AS personal_data_incidents,
       min(a.at) AS first_at, max(a.at) AS last_at
FROM read_audit a
WHERE (CAST(:username AS text) IS NULL OR a.username = :username)
  AND (CAST(:since AS timestamptz) IS NULL OR a.at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR a.at < :until)
GROUP BY a.username
ORDER BY personal_data_incidents DESC, requests DESC, a.username

-- The live stream's reads (app/live/hub.py): run by the hub's own session as the system viewer, once
-- per batch of notifications, never per listener.

-- name: visible_to
-- THE visibility rule (peta112_incident_visible, app/incidents/sql/facts.sql) asked for every reader
-- class the process has seen: which classes may see which of these incidents.
SELECT i.id, v.k AS class
FROM unnest(CAST(:ids AS bigint[])) AS i(id),
     unnest(CAST(:keys AS text[]), CAST(:roles AS text[]), CAST(:agencies AS text[])) AS v(k, role, agency)
WHERE peta112_incident_visible(i.id, v.role, v.agency)

-- The live stream's reads (app/live/hub.py): run by the hub's own session as the system viewer, once
-- per batch of notifications, never per listener.

-- name: visible_to
-- THE visibility rule (peta112_incident_visible, app/incidents/sql/facts.sql) asked for every reader
-- class the process has seen: which classes may see which of these incidents.
SELECT i.id, v.k AS class
FROM unnest(CAST(:ids AS bigint[])) AS i(id),
     unnest(CAST(:keys AS text[]), CAST(:roles AS text[]), CAST(:agencies AS text[])) AS v(k, role, agency)
WHERE peta112_incident_visible(i.id, v.role, v.agency)

-- name: live_calls
-- Which of these calls a console still cares about: not ended, or changed in the last minutes (a
-- disposition, a late AML fix).  A bulk import of history (the demo city's COPY) notifies too, but
-- its calls ended long ago: no summary is read and no event is sent for them.
SELECT c.id FROM calls c
WHERE c.id = ANY(CAST(:ids AS bigint[]))
  AND (c.ended_at IS NULL OR c.updated_at > now() - make_interval(mins => :minutes))

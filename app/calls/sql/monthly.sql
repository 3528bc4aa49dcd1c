-- The monthly recap for the ministry: calls (call_facts) and incidents (incident_facts), one
-- local calendar month [:since, :until).  Incidents count the counted calls, as every analytic.

-- name: calls_total
SELECT count(*) AS offered, count(f.answered_at) AS answered, count(*) FILTER (WHERE f.is_abandoned) AS abandoned,
       count(*) FILTER (WHERE f.answer_s <= :within) AS answered_within,
       avg(f.answer_s) AS asa_s, avg(f.handle_s) AS aht_s,
       count(*) FILTER (WHERE f.is_prank) AS pranks, count(f.incident_id) AS with_incident
FROM call_facts f WHERE f.offered_at >= :since AND f.offered_at < :until

-- name: calls_by_disposition
SELECT coalesce(f.disposition, 'tanpa_disposisi') AS key, count(*) AS count
FROM call_facts f WHERE f.offered_at >= :since AND f.offered_at < :until
GROUP BY 1 ORDER BY 2 DESC, 1

-- name: calls_by_channel
SELECT f.channel AS key, count(*) AS count
FROM call_facts f WHERE f.offered_at >= :since AND f.offered_at < :until
GROUP BY 1 ORDER BY 2 DESC, 1

-- name: calls_forwarded_to
SELECT f.forwarded_to AS key, count(*) AS count
FROM call_facts f WHERE f.offered_at >= :since AND f.offered_at < :until AND f.disposition = 'diteruskan'
GROUP BY 1 ORDER BY 2 DESC, 1

-- name: incidents_by_category
-- Response time: call received to the first unit on scene; compliance against the category's target.
SELECT f.category AS key, f.category_name AS name, count(*) AS count,
       count(f.on_scene_at) AS reached,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.on_scene_at - f.received_at))
           AS median_response_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM f.on_scene_at - f.received_at))
           AS p90_response_s,
       count(*) FILTER (WHERE f.on_scene_at - f.received_at <= make_interval(secs => f.target_response_s))
           AS within_target
FROM incident_facts f
WHERE f.is_counted AND f.received_at >= :since AND f.received_at < :until
GROUP BY 1, 2 ORDER BY 3 DESC, 1

-- name: incidents_by_agency
SELECT t.agency_code AS key, count(*) AS count,
       count(t.acknowledged_at) AS acknowledged, count(t.resolved_at) AS resolved,
       count(t.rejected_at) AS rejected,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.acknowledged_at - t.forwarded_at))
           AS median_acknowledge_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.on_scene_at - t.forwarded_at))
           AS median_on_scene_s
FROM incident_facts f JOIN incident_tasks t ON t.incident_id = f.id
WHERE f.is_counted AND f.received_at >= :since AND f.received_at < :until
GROUP BY 1 ORDER BY 2 DESC, 1

-- name: incidents_total
SELECT count(*) FILTER (WHERE f.is_counted) AS counted, count(*) AS all_reports,
       count(*) FILTER (WHERE f.is_prank_call) AS prank_reports,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.on_scene_at - f.received_at))
           FILTER (WHERE f.is_counted) AS median_response_s
FROM incident_facts f
WHERE f.received_at >= :since AND f.received_at < :until

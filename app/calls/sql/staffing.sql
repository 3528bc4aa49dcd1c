-- Operators, shifts and load: the supervisor's figures, from call_facts (the reader's rules apply).
-- Parameters: :since, :until (timestamptz), :tz (the city's time zone), :within (answer target, s),
-- :pagi, :siang, :malam (local hours the shifts start).

-- name: load_profile
-- One row per hour of the week (ISO weekday 1 = Monday, local hour) that had calls.
SELECT extract(isodow FROM f.offered_at AT TIME ZONE :tz)::int AS dow,
       extract(hour FROM f.offered_at AT TIME ZONE :tz)::int AS hour,
       count(*) AS offered,
       count(f.answered_at) AS answered,
       count(*) FILTER (WHERE f.is_abandoned) AS abandoned,
       count(*) FILTER (WHERE f.answer_s <= :within) AS answered_within,
       count(f.handle_s) AS handled,
       avg(f.handle_s) AS aht_s,
       count(DISTINCT (f.operator, date_trunc('hour', f.offered_at))) AS operator_hours
FROM call_facts f
WHERE f.offered_at >= :since AND f.offered_at < :until
GROUP BY 1, 2
ORDER BY 1, 2

-- name: overall
SELECT count(*) AS offered, count(f.answered_at) AS answered, count(*) FILTER (WHERE f.is_abandoned) AS abandoned,
       count(*) FILTER (WHERE f.answer_s <= :within) AS answered_within,
       avg(f.handle_s) AS aht_s, avg(f.answer_s) AS asa_s
FROM call_facts f
WHERE f.offered_at >= :since AND f.offered_at < :until

-- name: shifts
-- Per shift (the date it began, and its name): the centre's load and how it was answered.
WITH c AS (
    SELECT f.*, f.offered_at AT TIME ZONE :tz AS local FROM call_facts f
    WHERE f.offered_at >= :since AND f.offered_at < :until)
SELECT (c.local - make_interval(hours => :pagi))::date AS shift_date,
       CASE WHEN extract(hour FROM c.local) >= :pagi AND extract(hour FROM c.local) < :siang THEN 'pagi'
            WHEN extract(hour FROM c.local) >= :siang AND extract(hour FROM c.local) < :malam THEN 'siang'
            ELSE 'malam' END AS shift,
       count(*) AS offered, count(c.answered_at) AS answered, count(*) FILTER (WHERE c.is_abandoned) AS abandoned,
       count(*) FILTER (WHERE c.answer_s <= :within) AS answered_within,
       avg(c.answer_s) AS asa_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY c.answer_s) AS answer_p90_s,
       avg(c.handle_s) AS aht_s,
       count(DISTINCT c.operator) AS operators,
       count(*) FILTER (WHERE c.is_prank) AS pranks,
       count(*) FILTER (WHERE c.disposition = 'incident') AS incident_calls
FROM c
GROUP BY 1, 2
ORDER BY 1 DESC, 2

-- name: operators
-- Per operator and shift: what each call-taker answered, how fast, how long, what came of it;
-- incidents created from the audit trail (the intake's 'created' event names its actor).
WITH c AS (
    SELECT f.*, f.offered_at AT TIME ZONE :tz AS local FROM call_facts f
    WHERE f.offered_at >= :since AND f.offered_at < :until AND f.operator IS NOT NULL),
per AS (
    SELECT (c.local - make_interval(hours => :pagi))::date AS shift_date,
           CASE WHEN extract(hour FROM c.local) >= :pagi AND extract(hour FROM c.local) < :siang THEN 'pagi'
                WHEN extract(hour FROM c.local) >= :siang AND extract(hour FROM c.local) < :malam THEN 'siang'
                ELSE 'malam' END AS shift,
           c.operator,
           count(c.answered_at) AS answered,
           count(*) FILTER (WHERE c.answer_s <= :within) AS answered_within,
           avg(c.answer_s) AS asa_s, avg(c.handle_s) AS aht_s, coalesce(sum(c.handle_s), 0) AS talk_s,
           count(*) FILTER (WHERE c.is_prank) AS pranks,
           count(*) FILTER (WHERE c.disposition IS NULL AND c.ended_at IS NOT NULL) AS without_disposition
    FROM c GROUP BY 1, 2, 3),
created AS (
    SELECT (e.at AT TIME ZONE :tz - make_interval(hours => :pagi))::date AS shift_date,
           CASE WHEN extract(hour FROM e.at AT TIME ZONE :tz) >= :pagi
                     AND extract(hour FROM e.at AT TIME ZONE :tz) < :siang THEN 'pagi'
                WHEN extract(hour FROM e.at AT TIME ZONE :tz) >= :siang
                     AND extract(hour FROM e.at AT TIME ZONE :tz) < :malam THEN 'siang'
                ELSE 'malam' END AS shift,
           e.actor AS operator, count(*) AS incidents_created
    FROM incident_events e
    WHERE e.kind = 'created' AND e.at >= :since AND e.at < :until
    GROUP BY 1, 2, 3)
SELECT per.*, coalesce(created.incidents_created, 0) AS incidents_created
FROM per LEFT JOIN created USING (shift_date, shift, operator)
ORDER BY per.shift_date DESC, per.shift, per.operator

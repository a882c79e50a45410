-- Stage 8: the dwell trigger. It fires on the first ping at which a customer has been near the
-- shop for the dwell threshold, while they are still there (that ping is itself inside the
-- geofence), not when the visit ends.
--
-- A visit is the same thing stage 7 counts: near-shop pings with no silence longer than the
-- session gap. Two OVER windows per customer, in event-time order:
--   1. LAG gives each ping the time of the previous near-shop ping; a ping starts a visit when
--      there is none or the silence before it exceeds the session gap (this also covers a
--      visit whose very first ping is already near the shop).
--   2. A running MAX over those start times gives the start of the visit each ping belongs to.
-- The trigger is the ping whose dwell reaches the threshold while the previous ping's did not,
-- so a long visit fires once and a visit after a silence starts counting from zero.
-- (MATCH_RECOGNIZE was the other candidate; see docs/pipeline.md for why this one was kept.)

CREATE TEMPORARY VIEW dwell_steps AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time, proc_time,
    LAG(ts) OVER (PARTITION BY customer_id ORDER BY event_time) AS previous_ts
FROM pings_near_shop;

CREATE TEMPORARY VIEW dwell_visits AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time, proc_time, previous_ts,
    MAX(CASE
            WHEN previous_ts IS NULL OR ts - previous_ts > ${session_gap_s} * 1000 THEN ts
        END) OVER (
        PARTITION BY customer_id ORDER BY event_time
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS visit_start_ts
FROM dwell_steps;

CREATE TEMPORARY VIEW dwell_triggers AS
SELECT
    customer_id,
    device_id,
    lat,
    lon,
    zone_id,
    visit_start_ts,
    ts AS triggered_at,
    (ts - visit_start_ts) / 1000.0 AS dwell_seconds,
    event_time
FROM dwell_visits
WHERE ts - visit_start_ts >= ${dwell_threshold_s} * 1000
  AND previous_ts - visit_start_ts < ${dwell_threshold_s} * 1000;

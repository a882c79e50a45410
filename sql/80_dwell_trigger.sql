-- Stage 8: the dwell trigger. It fires on the first ping at which a customer has been near the
-- shop without a break for the dwell threshold, while they are still there, not when the visit
-- ends.
--
-- GPS noise makes single fixes jump in and out of the geofence, so a stay
--   starts at a fix inside the geofence,
--   is broken by two fixes in a row clearly outside it (more than two reported accuracies
--   beyond the radius, at most the exit margin) or by a silence longer than the session gap,
--   and counts once its dwell reaches the threshold at a fix that is not clearly outside,
--   provided at least the minimum share of its fixes were inside the geofence.
-- One OVER window per customer, in event-time order, over the pings around the shop, carries
-- that rule in DWELL_TRIGGER (flink_jobs/java): at each ping it returns the stay's start if
-- this ping is the stay's first qualifying one, else NULL, so a long stay fires once and a stay
-- after a break counts from zero. (MATCH_RECOGNIZE was the other candidate, and so were four
-- chained OVER windows of built-in functions; docs/pipeline.md says why this one was kept.)

-- The trigger also needs the pings just around the geofence, to see a customer leave. Most
-- pings are elsewhere in the mall, so it sees a fraction of the stream.
CREATE TEMPORARY VIEW pings_around_shop AS
SELECT customer_id, device_id, ts, lat, lon, accuracy_m, distance_to_shop_m, in_geofence, zone_id,
       event_time
FROM pings_clean
WHERE distance_to_shop_m <= ${trigger_ring_m};

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS DWELL_TRIGGER
    AS 'com.pizzario.flink.DwellTrigger' LANGUAGE JAVA;

CREATE TEMPORARY VIEW dwell_steps AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time,
    DWELL_TRIGGER(
        ts, in_geofence, clearly_away,
        CAST(${session_gap_s} * 1000 AS BIGINT), CAST(${dwell_threshold_s} * 1000 AS BIGINT),
        CAST(${min_inside_share} AS DOUBLE)
    ) OVER (
        PARTITION BY customer_id ORDER BY event_time
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS triggered_stay_start_ts
FROM (
    SELECT *,
        distance_to_shop_m > ${geofence_radius_m}
            + LEAST(${exit_accuracy_factor} * accuracy_m, ${geofence_exit_margin_m}) AS clearly_away
    FROM pings_around_shop
);

CREATE TEMPORARY VIEW dwell_triggers AS
SELECT
    customer_id,
    device_id,
    lat,
    lon,
    zone_id,
    triggered_stay_start_ts AS visit_start_ts,
    ts AS triggered_at,
    (ts - triggered_stay_start_ts) / 1000.0 AS dwell_seconds,
    event_time
FROM dwell_steps
WHERE triggered_stay_start_ts IS NOT NULL;

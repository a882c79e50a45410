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
-- OVER windows per customer, in event-time order, over the pings around the shop:
--   1. LAG: the previous ping's time and whether it was clearly outside.
--   2. A running MAX: when the current stretch without a break began.
--   3. Running MIN, SUM and COUNT within that stretch: its first fix inside the geofence (the
--      stay's start, also when the very first ping is already inside) and the share inside.
--   4. A running count of qualifying pings: the trigger is the first one, so a long stay fires
--      once and a stay after a break counts from zero.
-- (MATCH_RECOGNIZE was the other candidate; docs/pipeline.md says why this one was kept.)

CREATE TEMPORARY VIEW dwell_steps AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time, in_geofence, clearly_away,
    LAG(ts) OVER by_time           AS previous_ts,
    LAG(clearly_away) OVER by_time AS previous_clearly_away
FROM (
    SELECT *,
        distance_to_shop_m > ${geofence_radius_m}
            + LEAST(${exit_accuracy_factor} * accuracy_m, ${geofence_exit_margin_m}) AS clearly_away
    FROM pings_around_shop
)
WINDOW by_time AS (PARTITION BY customer_id ORDER BY event_time);

CREATE TEMPORARY VIEW dwell_stretches AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time, in_geofence, clearly_away,
    previous_ts,
    MAX(CASE
            WHEN (clearly_away AND previous_clearly_away) OR previous_ts IS NULL
                 OR ts - previous_ts > ${session_gap_s} * 1000 THEN ts
        END) OVER (
        PARTITION BY customer_id ORDER BY event_time
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS stretch_since_ts
FROM dwell_steps;

CREATE TEMPORARY VIEW dwell_stays AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time, clearly_away, stretch_since_ts,
    MIN(CASE WHEN in_geofence THEN ts END) OVER so_far_in_stretch AS stay_start_ts,
    SUM(CASE WHEN in_geofence THEN 1 ELSE 0 END) OVER so_far_in_stretch AS fixes_inside,
    COUNT(*) OVER so_far_in_stretch AS fixes
FROM dwell_stretches
WINDOW so_far_in_stretch AS (
    PARTITION BY customer_id, stretch_since_ts ORDER BY event_time
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
);

-- A stay qualifies at a ping that is not clearly away, once the dwell has reached the
-- threshold, if most fixes of the stretch were inside the geofence: someone lingering just
-- outside it gets the odd noisy fix inside, a customer at the counter mostly inside ones.
CREATE TEMPORARY VIEW dwell_qualified AS
SELECT
    customer_id, device_id, ts, lat, lon, zone_id, event_time, stay_start_ts, qualifies,
    SUM(CASE WHEN qualifies THEN 1 ELSE 0 END) OVER (
        PARTITION BY customer_id, stretch_since_ts ORDER BY event_time
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS qualified_pings
FROM (
    SELECT *,
        COALESCE(NOT clearly_away
                 AND ts - stay_start_ts >= ${dwell_threshold_s} * 1000
                 AND fixes_inside >= ${min_inside_share} * fixes, FALSE) AS qualifies
    FROM dwell_stays
);

-- The trigger: the first qualifying ping of a stretch.
CREATE TEMPORARY VIEW dwell_triggers AS
SELECT
    customer_id,
    device_id,
    lat,
    lon,
    zone_id,
    stay_start_ts AS visit_start_ts,
    ts AS triggered_at,
    (ts - stay_start_ts) / 1000.0 AS dwell_seconds,
    event_time
FROM dwell_qualified
WHERE qualifies AND qualified_pings = 1;

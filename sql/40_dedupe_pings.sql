-- Stage 4: clean: drop resent pings (same event_id), keeping the first copy, and fixes whose
-- reported accuracy is worse than the limit: such a fix cannot place a person at a shop front
-- (it is valid, just useless).
--
-- A resent copy repeats its ping's customer and event time. An event-time OVER window per
-- customer hands a customer's pings over in event-time order as the watermark passes them, so
-- the copies of a ping meet there, and the window only has to remember the event_ids of the
-- customer's latest instant. A dedupe keyed by event_id kept every event_id for the whole state
-- retention, and copying those millions of entries at every checkpoint cost more than the rest
-- of the pipeline. The windows and the trigger wait for the same watermark, so waiting for it
-- here costs them nothing.
--
-- The dwell trigger (stage 8, sql/80_dwell_trigger.sql) needs the same pings in the same order,
-- so the same window answers for it: CUSTOMER_TIMELINE (flink_jobs/java) returns, at each ping,
-- whether it is the first copy and whether it completes a dwell; for the dwell it keeps the
-- customer's fixes of the last position window (60 s by default), nothing older. An
-- event-time OVER window keeps every ping in state until the watermark passes it and sets a
-- timer for it; a second window for the trigger repeated that for most pings and added a
-- hand-over between tasks.

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS CUSTOMER_TIMELINE
    AS 'com.pizzario.flink.CustomerTimeline' LANGUAGE JAVA;

-- Every on-time ping, with what the customer's earlier pings say about it. The dwell rule
-- (stage 8) takes every accurate fix, however far from the shop: a fix from the food court in
-- the window pulls the customer's weighted position out, as it should. It places each fix on a
-- flat plane around the shop (metres east and north; a mall is a few hundred metres across, so
-- the plane is exact to millimetres there), so that the rule only adds and multiplies.
CREATE TEMPORARY VIEW pings_in_customer_order AS
SELECT *,
    CUSTOMER_TIMELINE(
        event_id, ts, accuracy_m <= ${max_accuracy_m},
        east_of_shop_m, north_of_shop_m, accuracy_m,
        CAST(${position_window_s} * 1000 AS BIGINT), ${enter_radius_m}, ${exit_radius_m},
        CAST(${session_gap_s} * 1000 AS BIGINT), CAST(${dwell_threshold_s} * 1000 AS BIGINT)
    ) OVER (
        PARTITION BY customer_id ORDER BY event_time
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS step
FROM (
    SELECT *,
        (lon - ${shop_lon}) * ${metres_per_degree_lon} AS east_of_shop_m,
        (lat - ${shop_lat}) * ${metres_per_degree_lat} AS north_of_shop_m
    FROM pings_enriched
    WHERE CURRENT_WATERMARK(event_time) IS NULL OR event_time > CURRENT_WATERMARK(event_time)
);

-- The clean pings: on time, deduplicated, accurate enough. The windows and the archive read
-- them.
CREATE TEMPORARY VIEW pings_clean AS
SELECT
    event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time,
    distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_in_customer_order
WHERE step.first_copy AND accuracy_m <= ${max_accuracy_m};

-- A ping already behind the watermark when it arrives would be dropped by the OVER window
-- unseen, and every window and the trigger would drop it as late anyway. The archive keeps it
-- (stage 5); a late ping and its resent copy may then both be archived, with the same event_id.
CREATE TEMPORARY VIEW pings_late AS
SELECT
    event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time,
    distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_enriched
WHERE event_time <= CURRENT_WATERMARK(event_time) AND accuracy_m <= ${max_accuracy_m};

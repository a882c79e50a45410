-- Stage 4: clean: drop resent pings (same event_id), keeping the first copy, and fixes whose
-- reported accuracy is worse than the limit: such a fix cannot place a person at a shop front
-- (it is valid, just useless).
--
-- A resent copy repeats its ping's customer and event time. An event-time OVER window per
-- customer hands a customer's pings over in event-time order as the watermark passes them, so
-- the copies of a ping meet there, and FIRST_COPY (flink_jobs/java) only has to remember the
-- event_ids of the customer's latest instant. A dedupe keyed by event_id kept every event_id
-- for the whole state retention, and copying those millions of entries at every checkpoint
-- cost more than the rest of the pipeline. The windows and the trigger wait for the same
-- watermark, so waiting for it here costs them nothing.

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS FIRST_COPY
    AS 'com.pizzario.flink.FirstCopy' LANGUAGE JAVA;

-- The clean pings: on time, deduplicated, accurate enough. The windows, the trigger and the
-- archive read them.
CREATE TEMPORARY VIEW pings_clean AS
SELECT
    event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time,
    distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM (
    SELECT *,
        FIRST_COPY(event_id, ts) OVER (
            PARTITION BY customer_id ORDER BY event_time
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS first_copy
    FROM pings_enriched
    WHERE CURRENT_WATERMARK(event_time) IS NULL OR event_time > CURRENT_WATERMARK(event_time)
)
WHERE first_copy AND accuracy_m <= ${max_accuracy_m};

-- A ping already behind the watermark when it arrives would be dropped by the OVER window
-- unseen, and every window and the trigger would drop it as late anyway. The archive keeps it
-- (stage 5); a late ping and its resent copy may then both be archived, with the same event_id.
CREATE TEMPORARY VIEW pings_late AS
SELECT
    event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time,
    distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_enriched
WHERE event_time <= CURRENT_WATERMARK(event_time) AND accuracy_m <= ${max_accuracy_m};

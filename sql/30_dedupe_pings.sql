-- Stage 3: drop resent pings (same event_id), keeping the first copy.
--
-- A resent copy repeats its ping's customer and event time. An event-time OVER window per
-- customer hands a customer's pings over in event-time order as the watermark passes them, so
-- the copies of a ping meet there, and FIRST_COPY (flink_jobs/java) only has to remember the
-- event_ids of the customer's latest instant. A dedupe keyed by event_id kept every event_id
-- for the whole state retention, and copying those millions of entries at every checkpoint
-- cost more than the rest of the pipeline. The windows and the trigger wait for the same
-- watermark, so waiting for it here costs them nothing.
--
-- A ping already behind the watermark when it arrives would be dropped by the OVER window
-- unseen. Such late pings go round it: the archive keeps them (a late ping and its resent copy
-- may then both be archived; their event_id tells them apart), and the windows and the trigger
-- drop them as late, as they would any late ping.

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS FIRST_COPY
    AS 'com.pizzario.flink.FirstCopy' LANGUAGE JAVA;

CREATE TEMPORARY VIEW pings_on_time_deduped AS
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time
FROM (
    SELECT *,
        FIRST_COPY(event_id, ts) OVER (
            PARTITION BY customer_id ORDER BY event_time
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS first_copy
    FROM pings_valid
    WHERE CURRENT_WATERMARK(event_time) IS NULL OR event_time > CURRENT_WATERMARK(event_time)
)
WHERE first_copy;

CREATE TEMPORARY VIEW pings_deduped AS
SELECT * FROM pings_on_time_deduped
UNION ALL
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time
FROM pings_valid
WHERE event_time <= CURRENT_WATERMARK(event_time);

-- Stage 2: validate against the ping contract (DESIGN.md). Bad records never reach a window
-- operator: they go to the dead-letter topic with the original record and the first reason
-- found.
--
-- PING_REJECTION (flink_jobs/java) decodes a record once, with the deserializer of the 'json'
-- format, so it sees the very field values the typed stream sees, and applies the checks of
-- `pings_valid` below in order; it returns NULL for a valid ping. Reading each field with
-- JSON_VALUE instead parsed every record once per field and cost more than the rest of the
-- pipeline together.

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS PING_REJECTION
    AS 'com.pizzario.flink.PingRejection' LANGUAGE JAVA;

CREATE TEMPORARY VIEW ping_rejections AS
SELECT CAST(line AS STRING) AS record, reason, checked_at AS rejected_at
FROM (
    SELECT
        line,
        checked_at,
        PING_REJECTION(
            line, checked_at,
            ${min_lat}, ${max_lat}, ${min_lon}, ${max_lon},
            CAST(${max_past_skew_ms} AS BIGINT), CAST(${max_future_skew_ms} AS BIGINT)
        ) AS reason
    FROM (SELECT line, UNIX_TIMESTAMP() * 1000 AS checked_at FROM mall_ping_lines)
)
WHERE reason IS NOT NULL;

-- The same contract on the typed stream: what passes here is exactly what PING_REJECTION does
-- not reject (tests/flink_jobs/test_validation.py checks that the two split every input line).
CREATE TEMPORARY VIEW pings_valid AS
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time
FROM mall_pings
WHERE event_id IS NOT NULL AND event_id <> ''
  AND customer_id IS NOT NULL
  AND device_id IS NOT NULL AND device_id <> ''
  AND ts IS NOT NULL
  AND lat >= ${min_lat} AND lat < ${max_lat}
  AND lon >= ${min_lon} AND lon < ${max_lon}
  AND accuracy_m >= 0
  -- stage 1 stamped epoch 0 on pings too far from now
  AND event_time > TO_TIMESTAMP_LTZ(0, 3);

CREATE TABLE ping_dead_letters (
    record      STRING,
    reason      STRING,
    rejected_at BIGINT
) WITH (
    ${dead_letter_sink}
);

INSERT INTO ping_dead_letters
SELECT record, reason, rejected_at FROM ping_rejections;

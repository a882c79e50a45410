-- Stage 2: validate against the ping contract (DESIGN.md). Bad records never reach a window
-- operator: they go to the dead-letter topic with the original line and the first reason found.
--
-- JSON_VALUE(... RETURNING <numeric>) throws on a JSON type mismatch despite its ON ERROR
-- clauses in Flink 1.20, so every field is read as text and TRY_CAST to its type.

CREATE TEMPORARY VIEW ping_line_fields AS
SELECT
    line,
    line IS JSON OBJECT                                          AS is_json_object,
    JSON_VALUE(line, '$.event_id')                               AS event_id,
    -- like the 'json' format, accept an integral number written as 12.0 or 1.7e12
    TRY_CAST(TRY_CAST(JSON_VALUE(line, '$.customer_id') AS DOUBLE) AS BIGINT) AS customer_id,
    JSON_VALUE(line, '$.device_id')                              AS device_id,
    TRY_CAST(TRY_CAST(JSON_VALUE(line, '$.ts') AS DOUBLE) AS BIGINT) AS ts,
    TRY_CAST(JSON_VALUE(line, '$.lat') AS DOUBLE)                AS lat,
    TRY_CAST(JSON_VALUE(line, '$.lon') AS DOUBLE)                AS lon,
    TRY_CAST(JSON_VALUE(line, '$.accuracy_m') AS DOUBLE)         AS accuracy_m,
    UNIX_TIMESTAMP() * 1000                                      AS checked_at
FROM mall_ping_lines;

CREATE TEMPORARY VIEW ping_rejections AS
SELECT line AS record, reason, checked_at AS rejected_at
FROM (
    SELECT
        line,
        checked_at,
        CASE
            WHEN line IS NULL OR NOT is_json_object           THEN 'not a JSON object'
            WHEN event_id IS NULL OR event_id = ''            THEN 'event_id missing'
            WHEN customer_id IS NULL                          THEN 'customer_id missing or not an integer'
            WHEN device_id IS NULL OR device_id = ''          THEN 'device_id missing'
            WHEN ts IS NULL                                   THEN 'ts missing or not an integer'
            WHEN lat IS NULL OR lon IS NULL                   THEN 'lat/lon missing or not numbers'
            WHEN accuracy_m IS NULL                           THEN 'accuracy_m missing or not a number'
            WHEN NOT (lat >= ${min_lat} AND lat < ${max_lat}
                      AND lon >= ${min_lon} AND lon < ${max_lon}) THEN 'lat/lon off the map or not finite'
            WHEN NOT (accuracy_m >= 0)                        THEN 'accuracy_m negative or not finite'
            WHEN ts < checked_at - ${max_past_skew_ms}        THEN 'ts too far in the past'
            WHEN ts > checked_at + ${max_future_skew_ms}      THEN 'ts in the future'
        END AS reason
    FROM ping_line_fields
)
WHERE reason IS NOT NULL;

-- The same contract on the typed stream: what passes here is exactly what is not rejected above
-- (tests/flink_jobs/test_validation.py checks that the two split every input line).
CREATE TEMPORARY VIEW pings_valid AS
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time, proc_time
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

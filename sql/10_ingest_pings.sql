-- Stage 1: ingest the ping topic with event-time watermarks.
--
-- The topic is read twice in the same job. `mall_pings` uses the fast 'json' format and feeds
-- the pipeline; it silently skips lines that are not JSON or carry a mistyped field.
-- `mall_ping_lines` reads the same records as raw bytes so that stage 2 can send exactly those
-- records to the dead-letter topic with a reason.

CREATE TABLE mall_pings (
    event_id    STRING,
    customer_id BIGINT,
    device_id   STRING,
    ts          BIGINT,
    lat         DOUBLE,
    lon         DOUBLE,
    accuracy_m  DOUBLE,
    -- Flink 1.20 fails the whole job on a NULL rowtime in the watermark operator, before any
    -- WHERE, and one ping stamped far in the future would drag the watermark ahead and make
    -- every honest ping late. Such pings get epoch 0 here (too late for any window) and stage 2
    -- rejects them.
    event_time AS TO_TIMESTAMP_LTZ(
        CASE
            WHEN ts BETWEEN UNIX_TIMESTAMP() * 1000 - ${max_past_skew_ms}
                        AND UNIX_TIMESTAMP() * 1000 + ${max_future_skew_ms} THEN ts
            ELSE 0
        END, 3),
    WATERMARK FOR event_time AS event_time - INTERVAL '${out_of_orderness_s}' SECOND(3)
) WITH (
    ${ping_json_source}
);

CREATE TABLE mall_ping_lines (
    -- bytes, not text: stage 2 decodes exactly the bytes the 'json' format decodes
    line BYTES
) WITH (
    ${ping_line_source}
);

-- Stage 1: ingest the ping topic with event-time watermarks.
--
-- The 'pizzario-ping' format (flink_jobs/java, PingFormatFactory) reads each record once and
-- checks it against the ping contract (DESIGN.md). A valid ping fills the contract's columns;
-- any other record, even one that is not JSON, keeps its text in `record` and the first rule it
-- breaks in `rejection`, which stage 2 sends to the dead-letter topic. So every record lands on
-- exactly one side, and no record can fail the job.

CREATE TABLE ping_records (
    event_id    STRING,
    customer_id BIGINT,
    device_id   STRING,
    ts          BIGINT,
    lat         DOUBLE,
    lon         DOUBLE,
    accuracy_m  DOUBLE,
    -- TRUE for the mall gateway's heartbeat (pizzario/heartbeat.py): only its ts is read, for
    -- the watermark of its partition; stage 2 drops it
    heartbeat   BOOLEAN,
    -- NULL for a valid ping or heartbeat
    rejection   STRING,
    record      STRING,
    rejected_at BIGINT,
    -- Flink 1.20 fails the whole job on a NULL rowtime in the watermark operator, before any
    -- WHERE, and a ping stamped far in the future would drag the watermark ahead and make every
    -- honest ping late. Rejected records (those included) get epoch 0: too late for any window.
    event_time AS TO_TIMESTAMP_LTZ(CASE WHEN rejection IS NULL THEN ts ELSE 0 END, 3),
    WATERMARK FOR event_time AS event_time - INTERVAL '${out_of_orderness_s}' SECOND(3)
) WITH (
    ${ping_source},
    'format' = 'pizzario-ping',
    -- the map: south and west edges on it, north and east edges off it
    'pizzario-ping.min-latitude' = '${min_lat}',
    'pizzario-ping.max-latitude' = '${max_lat}',
    'pizzario-ping.min-longitude' = '${min_lon}',
    'pizzario-ping.max-longitude' = '${max_lon}',
    -- how far a ping's ts may be from the clock when the record is read; the clock is the
    -- product's (pizzario/clock.py): the wall clock plus PIZZARIO_CLOCK_OFFSET_S
    'pizzario-ping.max-past-skew' = '${max_past_skew_ms} ms',
    'pizzario-ping.max-future-skew' = '${max_future_skew_ms} ms',
    'pizzario-ping.clock-offset-ms' = '${clock_offset_ms}'
);

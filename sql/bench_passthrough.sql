-- The throughput benchmark's reference: read and check the pings (stage 1) and discard them,
-- to show what reading and parsing alone cost next to the full pipeline.

CREATE TABLE discarded_pings (
    event_id    STRING,
    customer_id BIGINT,
    device_id   STRING,
    ts          BIGINT,
    lat         DOUBLE,
    lon         DOUBLE,
    accuracy_m  DOUBLE
) WITH (
    'connector' = 'blackhole'
);

INSERT INTO discarded_pings
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m FROM ping_records;

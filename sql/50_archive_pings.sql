-- Stage 5: keep every clean ping for replay and later analysis, as JSON lines partitioned by
-- day and hour of event time (mall local time). Flink 1.20's parquet format needs Hadoop's
-- classes (org.apache.hadoop.conf.Configuration) on the classpath, which this stack does not
-- carry, so the archive is JSON; files are committed on checkpoints.

CREATE TABLE ping_archive (
    event_id           STRING,
    customer_id        BIGINT,
    device_id          STRING,
    ts                 BIGINT,
    lat                DOUBLE,
    lon                DOUBLE,
    accuracy_m         DOUBLE,
    distance_to_shop_m DOUBLE,
    in_geofence        BOOLEAN,
    zone_id            STRING,
    `day`              STRING,
    `hour`             STRING
) PARTITIONED BY (`day`, `hour`) WITH (
    ${archive_sink}
);

INSERT INTO ping_archive
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m,
       distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_clean;

-- Late pings (stage 4) in a statement of their own: a union with the clean pings would give
-- the archive writer two inputs and take it out of the dedupe's task.
INSERT INTO ping_archive
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m,
       distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_late;

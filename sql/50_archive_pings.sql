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

-- The clean pings and the late ones (stage 4) in one statement, so that one writer with two
-- inputs takes them, in a task of its own.
--
-- Why not chained into the dedupe's and the readers' tasks, as two statements would have it:
-- the file writer keeps its part counter in union list state, and Flink 1.20 aborts a
-- checkpoint when some subtasks of a task that holds union list state have finished their
-- operators and others have not (FLIP-147, FLINK-21080: "has used UnionListState, but part of
-- its tasks has called operators' finish method"). Stop with savepoint finishes each reader
-- when it takes the stop; a reader that is back-pressured at that moment (its output buffers
-- full during a backlog) takes its part of the savepoint first and finishes after it. With the
-- late pings' writer in the readers' task, such a stop could fail
-- (PartialFinishingNotSupportedByStateException). Now the readers' task holds no union list
-- state, and the writer's subtask i, fed by reader i and by the dedupe's subtask i (which hears
-- from every reader), has finished exactly when every reader has: all its subtasks agree. A
-- second statement with its own parallelism would not do: at parallelism 1 it is chained into
-- the readers' task again, and a savepoint taken at 2 no longer maps onto the job at 1.
INSERT INTO ping_archive
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m,
       distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_clean
UNION ALL
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m,
       distance_to_shop_m, in_geofence, zone_id, event_day, event_hour
FROM pings_late;

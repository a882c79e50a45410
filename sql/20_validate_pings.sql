-- Stage 2: split the records at the ping contract. Bad records never reach a window operator:
-- they go to the dead-letter topic with the original record and the first reason found (the
-- format of stage 1 checked them).

CREATE TEMPORARY VIEW pings_valid AS
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time
FROM ping_records
WHERE rejection IS NULL;

CREATE TABLE ping_dead_letters (
    record      STRING,
    reason      STRING,
    rejected_at BIGINT
) WITH (
    ${dead_letter_sink}
);

INSERT INTO ping_dead_letters
SELECT record, rejection AS reason, rejected_at
FROM ping_records
WHERE rejection IS NOT NULL;

-- Stage 2: split the records at the ping contract. Bad records never reach a window operator:
-- they go to the dead-letter topic with the original record and the first reason found (the
-- format of stage 1 checked them).

-- A heartbeat has moved its partition's watermark in the source; no stage sees it.
CREATE TEMPORARY VIEW pings_valid AS
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time
FROM ping_records
WHERE rejection IS NULL AND NOT heartbeat;

CREATE TABLE ping_dead_letters (
    record       STRING,
    reason       STRING,
    rejected_at  BIGINT,
    -- the record's length in characters; longer than `record` when that was cut short
    record_chars BIGINT
) WITH (
    ${dead_letter_sink}
);

-- A dead letter keeps at most the record's first 65,536 characters. Written as JSON, a
-- character takes up to 6 bytes (a control character becomes \u0001, an invalid byte U+FFFD),
-- so a record near the ping topic's 1 MiB limit could grow to 6 MB, past the producer's
-- max.request.size (1 MiB): the dead-letter sink then failed the job at every restart. 65,536
-- characters stay under 400 kB, and show plenty of a bad record.
INSERT INTO ping_dead_letters
SELECT
    CASE WHEN CHAR_LENGTH(record) > 65536 THEN SUBSTRING(record FROM 1 FOR 65536)
         ELSE record END AS record,
    rejection AS reason,
    rejected_at,
    CAST(CHAR_LENGTH(record) AS BIGINT) AS record_chars
FROM ping_records
WHERE rejection IS NOT NULL;

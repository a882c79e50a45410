-- Stage 3: drop resent pings (same event_id), keeping the first copy that arrived.
--
-- Ordering by processing time keeps the result append-only and event_time a usable rowtime
-- downstream; ordering by event_time would make it an updating stream that the windows and the
-- dwell trigger refuse. The state per event_id is bounded by table.exec.state.ttl.

CREATE TEMPORARY VIEW pings_deduped AS
SELECT event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time, proc_time
FROM (
    SELECT *,
        ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY proc_time) AS copy_number
    FROM pings_valid
)
WHERE copy_number = 1;

-- Stage 7: one row per visit to the shop: a session of pings inside the geofence that ends
-- when the customer has not been seen there for the session gap. A session window fires only
-- after the visit is over, so the offer trigger (stage 8) does not use it. Visits go to the
-- visits topic (sql/00_result_topics.sql); the id (customer and start) is the document id.

-- Only pings inside the geofence make or extend a visit.
CREATE TEMPORARY VIEW pings_near_shop AS
SELECT customer_id, device_id, ts, lat, lon, distance_to_shop_m, zone_id, event_time
FROM pings_clean
WHERE in_geofence;

INSERT INTO visits_topic
SELECT
    CONCAT(CAST(customer_id AS STRING), '@', CAST(MIN(ts) AS STRING)) AS visit_id,
    customer_id,
    MAX(device_id) AS device_id,
    ${shop_zone_id} AS zone,
    MIN(ts) AS visit_start,
    MAX(ts) AS visit_end,
    (MAX(ts) - MIN(ts)) / 1000.0 AS dwell_seconds,
    COUNT(*) AS ping_count
FROM TABLE(SESSION(TABLE pings_near_shop PARTITION BY customer_id,
                   DESCRIPTOR(event_time), INTERVAL '${session_gap_s}' SECOND(3)))
GROUP BY window_start, window_end, customer_id;

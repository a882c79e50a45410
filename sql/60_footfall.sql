-- Stage 6: footfall per zone in tumbling event-time windows: distinct customers and pings,
-- into the footfall topic (sql/00_result_topics.sql). The id (zone and window start) is the
-- document id in Elasticsearch, so a window indexed again overwrites itself.

INSERT INTO footfall_topic
SELECT
    CONCAT(zone_id, '@', CAST(window_start_ms AS STRING)) AS footfall_id,
    zone_id AS zone,
    window_start_ms AS window_start,
    window_start_ms + ${footfall_window_s} * 1000 AS window_end,
    visitors,
    ping_count
FROM (
    SELECT
        zone_id,
        -- window_start is a local TIMESTAMP; UNIX_TIMESTAMP reads it back in the same time zone
        UNIX_TIMESTAMP(CAST(window_start AS STRING), 'yyyy-MM-dd HH:mm:ss.SSS') * 1000
            AS window_start_ms,
        COUNT(DISTINCT customer_id) AS visitors,
        COUNT(*) AS ping_count
    FROM TABLE(TUMBLE(TABLE pings_clean, DESCRIPTOR(event_time), INTERVAL '${footfall_window_s}' SECOND(3)))
    GROUP BY window_start, window_end, zone_id
);

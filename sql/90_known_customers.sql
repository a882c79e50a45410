-- Stage 9: who is it? The segmentation's outputs, the segment of every customer
-- (data/segments.csv) and the default offer of each segment (data/segment_offers.csv), are
-- looked up for each dwell trigger. Unknown customers drop out; customers who opted out
-- (data/opt_outs.csv, read by the job when it is submitted) are excluded here.
--
-- CUSTOMER_SEGMENT (flink_jobs/java) reads both files once per task. A regular join with the
-- files read as tables held back triggers that arrived before the catalogue was read and
-- released them in no particular order, so after a start on a backlog the frequency cap could
-- keep a customer's later trigger of a day; the lookup keeps the triggers in event-time order
-- per customer and holds no state. A restarted or resubmitted job reads the current files.

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS CUSTOMER_SEGMENT
    AS 'com.pizzario.flink.CustomerSegment' LANGUAGE JAVA;

CREATE TEMPORARY VIEW dwell_triggers_known AS
SELECT
    customer_id,
    device_id,
    lat,
    lon,
    zone_id,
    visit_start_ts,
    triggered_at,
    dwell_seconds,
    event_time,
    HOUR(CAST(event_time AS TIMESTAMP(3))) AS local_hour,
    k.segment.segment_id           AS segment_id,
    k.segment.segment_label        AS segment_label,
    k.segment.default_offer_code   AS default_offer_code,
    k.segment.default_message      AS default_message,
    k.segment.default_discount_pct AS default_discount_pct
FROM (
    SELECT t.*, CUSTOMER_SEGMENT(t.customer_id, ${segments_csv}, ${segment_offers_csv}) AS segment
    FROM dwell_triggers AS t
    WHERE t.customer_id NOT IN (${opted_out_customer_ids})
) AS k
WHERE k.segment IS NOT NULL;

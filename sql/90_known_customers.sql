-- Stage 9: who is it? The segment table (data/segments.csv) and the default offer of each
-- segment (data/segment_offers.csv) are loaded as tables and joined to the dwell triggers.
-- Unknown customers drop out of the inner join; customers who opted out (data/opt_outs.csv,
-- read by the job when it is submitted) are excluded here.

CREATE TABLE segments (
    customer_id          BIGINT,
    gender               STRING,
    age                  INT,
    annual_income_k      DOUBLE,
    spending_score       DOUBLE,
    segment_id           INT,
    segment_label        STRING,
    segment_origin       STRING,
    distance_to_centroid DOUBLE
) WITH (
    ${segments_source}
);

CREATE TABLE segment_offers (
    segment_id    INT,
    segment_label STRING,
    offer_code    STRING,
    message       STRING,
    discount_pct  DOUBLE,
    rationale     STRING
) WITH (
    ${segment_offers_source}
);

-- The CSV header line reads as a row of NULL numbers; the IS NOT NULL drops it.
CREATE TEMPORARY VIEW customer_catalogue AS
SELECT
    s.customer_id,
    s.segment_id,
    s.segment_label,
    o.offer_code   AS default_offer_code,
    o.message      AS default_message,
    o.discount_pct AS default_discount_pct
FROM segments AS s
JOIN segment_offers AS o ON s.segment_id = o.segment_id
WHERE s.customer_id IS NOT NULL;

-- The catalogue is read once, so its side of the join must outlive the global state TTL;
-- a trigger only needs to wait for its catalogue row while the job starts.
CREATE TEMPORARY VIEW dwell_triggers_known AS
SELECT /*+ STATE_TTL('t' = '${trigger_join_ttl}', 'c' = '${catalogue_join_ttl}') */
    t.customer_id,
    t.device_id,
    t.lat,
    t.lon,
    t.zone_id,
    t.visit_start_ts,
    t.triggered_at,
    t.dwell_seconds,
    HOUR(CAST(t.event_time AS TIMESTAMP(3))) AS local_hour,
    c.segment_id,
    c.segment_label,
    c.default_offer_code,
    c.default_message,
    c.default_discount_pct
FROM dwell_triggers AS t
JOIN customer_catalogue AS c ON t.customer_id = c.customer_id
WHERE t.customer_id NOT IN (${opted_out_customer_ids});

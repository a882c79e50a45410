-- Stage 11: the frequency cap and the offers topic.
--
-- offer_id is the SHA-256 of customer, campaign and the local day of the trigger, so a replay
-- produces the same id. The cap keeps the first decision per offer_id (one offer per customer
-- per campaign per day) in event-time order: an OVER window numbers a customer's decisions of
-- the day as the watermark passes them, so the earliest trigger wins even when a backlog
-- releases several at once from different subtasks (ordering by arrival let a later visit's
-- trigger win then), and its output stays append-only, which the exactly-once Kafka sink needs.
-- Its state lives for table.exec.state.ttl, a little over a day.

CREATE TEMPORARY VIEW offers_first_of_day AS
SELECT *
FROM (
    SELECT *,
        COUNT(*) OVER (
            PARTITION BY offer_id ORDER BY event_time
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS nth_of_day
    FROM (
        SELECT
            SHA256(CONCAT_WS('|', CAST(customer_id AS STRING), ${campaign},
                             DATE_FORMAT(TO_TIMESTAMP_LTZ(triggered_at, 3), 'yyyy-MM-dd')))
                AS offer_id,
            d.*
        FROM offer_decisions AS d
        WHERE offer_code IS NOT NULL
    )
)
WHERE nth_of_day = 1;

CREATE TEMPORARY VIEW offers AS
SELECT
    offer_id,
    customer_id,
    segment_id,
    segment_label,
    offer_code,
    message,
    CAST(discount_pct AS DOUBLE) AS discount_pct,
    dwell_seconds,
    triggered_at,
    -- when the offer was decided, on the product's clock (the wall clock plus
    -- PIZZARIO_CLOCK_OFFSET_S, pizzario/clock.py), as triggered_at is: the two are compared
    1000 * UNIX_TIMESTAMP(CAST(decided_at AS STRING), 'yyyy-MM-dd HH:mm:ss.SSS')
        + EXTRACT(MILLISECOND FROM CAST(decided_at AS TIMESTAMP(3)))
        + ${clock_offset_ms} AS emitted_at,
    ${campaign} AS campaign,
    device_id,
    CONCAT(CAST(lat AS STRING), ',', CAST(lon AS STRING)) AS location
FROM (SELECT *, PROCTIME() AS decided_at FROM offers_first_of_day);

-- Into the offers topic (sql/00_result_topics.sql), keyed by offer_id, in transactions
-- committed on checkpoints (exactly once). Elasticsearch gets the same record from the
-- indexer job, so the phone and Kibana see the same document and an outage of Elasticsearch
-- cannot hold an offer back.
INSERT INTO offers_topic
SELECT offer_id, customer_id, segment_id, segment_label, offer_code, message, discount_pct,
       dwell_seconds, triggered_at, emitted_at, campaign, device_id, location
FROM offers;

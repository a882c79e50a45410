-- Offer rules: which offer a customer gets when their dwell near the shop crosses the threshold.
--
-- Edit this file, then run `python -m flink_jobs apply-rules`: it checks that the file plans,
-- stops the running job with a savepoint and resubmits it with these rules, keeping its state
-- (the one-offer-per-day cap included).
--
-- Input, one row per trigger (view dwell_triggers_known):
--   customer_id, device_id, segment_id, segment_label, dwell_seconds, triggered_at (epoch ms),
--   local_hour (0-23, mall time), zone_id, lat, lon, event_time (the trigger's event time),
--   and the segment's default offer from data/segment_offers.csv: default_offer_code,
--   default_message, default_discount_pct.
-- Output: the same row with offer_code, message and discount_pct, and event_time unchanged (the
-- one-offer-per-day cap orders a customer's triggers by it). A NULL offer_code means "no
-- offer" (and does not use up the customer's offer for the day).
-- Keep it a single SELECT over dwell_triggers_known (no joins or aggregates): that keeps the
-- job's stateful operators unchanged, so the savepoint maps onto the new job.

CREATE TEMPORARY VIEW offer_decisions AS
SELECT
    customer_id,
    device_id,
    segment_id,
    segment_label,
    dwell_seconds,
    triggered_at,
    lat,
    lon,
    event_time,
    CASE
        -- Lunch rush: budget customers who are keen buyers get the value combo as a lunch deal.
        WHEN segment_label = 'low-income high-spending' AND local_hour BETWEEN 12 AND 14
            THEN 'NEWPIZZA-LUNCH'
        ELSE default_offer_code
    END AS offer_code,
    CASE
        WHEN segment_label = 'low-income high-spending' AND local_hour BETWEEN 12 AND 14
            THEN 'Lunch deal: our new pizza with a drink, 20% off until 3 pm.'
        ELSE default_message
    END AS message,
    CASE
        WHEN segment_label = 'low-income high-spending' AND local_hour BETWEEN 12 AND 14
            THEN 20.0
        ELSE default_discount_pct
    END AS discount_pct
FROM dwell_triggers_known;

-- Stage 8: the dwell trigger. It fires on the first ping at which a customer has been near the
-- shop for the dwell threshold, while they are still there, not when the visit ends.
--
-- A single fix cannot tell: its reported accuracy (5 to 20 m indoors) is as large as the shop,
-- and a stray fix inside once started a stay up to 37 s early. So the rule looks at the
-- customer's fixes of the last position window (60 s) together, through their weighted
-- position (weights 1 / accuracy^2), with hysteresis. A stay
--   begins at the ping whose weighted position comes within the enter radius (17 m) of the
--   shop, dated at the weighted mean time of that window's fixes (the time the smoothed
--   position stands for: a trailing mean lags the customer by about half its window);
--   ends at a ping whose weighted position lies beyond the exit radius (24 m), or after a
--   silence longer than the session gap;
--   qualifies at the first ping, while it lasts, at which its dwell reaches the threshold.
-- The rule runs in the dedupe's OVER window per customer, in event-time order
-- (CUSTOMER_TIMELINE in sql/40_dedupe_pings.sql), over the first copies of the accurate fixes.
-- At each ping it gives the stay's start if this ping is the stay's first qualifying one, else
-- NULL, so a long stay fires once and a stay after a break counts from zero. docs/pipeline.md
-- ("Dwell") says why these radii and this window, and why MATCH_RECOGNIZE or chained OVER
-- windows of built-in functions were not kept.

CREATE TEMPORARY VIEW dwell_triggers AS
SELECT
    customer_id,
    device_id,
    lat,
    lon,
    zone_id,
    step.triggered_stay_start_ts AS visit_start_ts,
    ts AS triggered_at,
    (ts - step.triggered_stay_start_ts) / 1000.0 AS dwell_seconds,
    event_time
FROM pings_in_customer_order
WHERE step.triggered_stay_start_ts IS NOT NULL;

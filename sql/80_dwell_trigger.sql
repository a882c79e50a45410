-- Stage 8: the dwell trigger. It fires on the first ping at which a customer has been near the
-- shop without a break for the dwell threshold, while they are still there, not when the visit
-- ends.
--
-- GPS noise makes single fixes jump in and out of the geofence, so a stay
--   starts at a fix inside the geofence,
--   is broken by two fixes in a row clearly outside it (more than two reported accuracies
--   beyond the radius, at most the exit margin) or by a silence longer than the session gap,
--   and counts once its dwell reaches the threshold at a fix that is not clearly outside,
--   provided at least the minimum share of its fixes were inside the geofence.
-- The rule runs in the dedupe's OVER window per customer, in event-time order
-- (CUSTOMER_TIMELINE in sql/40_dedupe_pings.sql), over the first copies of the accurate pings
-- within the trigger's ring around the shop: those just outside the geofence show a customer
-- leaving. At each ping it gives the stay's start if this ping is the stay's first qualifying
-- one, else NULL, so a long stay fires once and a stay after a break counts from zero.
-- (MATCH_RECOGNIZE was the other candidate, and so were four chained OVER windows of built-in
-- functions; docs/pipeline.md says why this one was kept.)

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

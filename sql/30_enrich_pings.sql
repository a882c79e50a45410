-- Stage 3: enrich. Every valid ping gets its great-circle distance to the pizza shop, whether
-- it is inside the shop's geofence, the mall zone it falls in (zones are half-open rectangles,
-- first match wins, from data/mall.json), and its local day and hour.
--
-- This runs before the dedupe (stage 4), in the readers' tasks: a resent copy gets the same
-- values, and the stages after the dedupe then run in its task without another hand-over.

CREATE TEMPORARY VIEW pings_enriched AS
SELECT
    event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time,
    distance_to_shop_m,
    distance_to_shop_m <= ${geofence_radius_m} AS in_geofence,
    ${zone_of_lat_lon} AS zone_id,
    -- the archive's partition (mall local time)
    DATE_FORMAT(event_time, 'yyyy-MM-dd') AS event_day,
    DATE_FORMAT(event_time, 'HH')         AS event_hour
FROM (
    SELECT *,
        2 * ${earth_radius_m} * ASIN(SQRT(
            POWER(SIN(RADIANS(lat - ${shop_lat}) / 2), 2)
            + COS(RADIANS(${shop_lat})) * COS(RADIANS(lat))
              * POWER(SIN(RADIANS(lon - ${shop_lon}) / 2), 2)
        )) AS distance_to_shop_m
    FROM pings_valid
);

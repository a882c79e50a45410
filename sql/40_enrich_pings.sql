-- Stage 4: clean and enrich. A fix whose reported accuracy is worse than the limit cannot place
-- a person at a shop front and is dropped (it is valid, just useless). Every kept ping gets its
-- great-circle distance to the pizza shop, whether it is inside the shop's geofence, and the
-- mall zone it falls in (zones are half-open rectangles, first match wins, from data/mall.json).

CREATE TEMPORARY VIEW pings_clean AS
SELECT
    event_id, customer_id, device_id, ts, lat, lon, accuracy_m, event_time,
    distance_to_shop_m,
    distance_to_shop_m <= ${geofence_radius_m} AS in_geofence,
    ${zone_of_lat_lon} AS zone_id
FROM (
    SELECT *,
        2 * ${earth_radius_m} * ASIN(SQRT(
            POWER(SIN(RADIANS(lat - ${shop_lat}) / 2), 2)
            + COS(RADIANS(${shop_lat})) * COS(RADIANS(lat))
              * POWER(SIN(RADIANS(lon - ${shop_lon}) / 2), 2)
        )) AS distance_to_shop_m
    FROM pings_deduped
    WHERE accuracy_m <= ${max_accuracy_m}
);

-- Only pings inside the geofence make or extend a visit (stage 7). The dwell trigger (stage 8)
-- also needs the pings just around it, to see a customer leave. Most pings are elsewhere in the
-- mall, so both stages see a small fraction of the stream.
CREATE TEMPORARY VIEW pings_near_shop AS
SELECT event_id, customer_id, device_id, ts, lat, lon, distance_to_shop_m, zone_id, event_time
FROM pings_clean
WHERE in_geofence;

CREATE TEMPORARY VIEW pings_around_shop AS
SELECT customer_id, device_id, ts, lat, lon, accuracy_m, distance_to_shop_m, in_geofence, zone_id,
       event_time
FROM pings_clean
WHERE distance_to_shop_m <= ${trigger_ring_m};

package com.pizzario.flink;

import java.io.Serializable;

/**
 * The dwell rule, applied to a customer's pings around the shop in event-time order: it says at
 * which ping a stay near the shop first qualifies for an offer.
 *
 * <p>GPS noise makes single fixes jump in and out of the geofence, so a stay
 *
 * <ul>
 *   <li>starts at a fix inside the geofence,
 *   <li>is broken by two fixes in a row clearly outside it, or by a silence longer than the
 *       session gap (the first ping of a customer opens a stretch too),
 *   <li>qualifies at a fix that is not clearly outside once its dwell has reached the threshold,
 *       provided at least the minimum share of the stretch's fixes were inside the geofence.
 * </ul>
 *
 * <p>Only the first qualifying ping of a stretch triggers, so a long stay fires once and a stay
 * after a break counts from zero. What a customer's earlier pings leave for the next one is
 * this object's few fields.
 */
public final class DwellRule implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Time of the previous ping; NULL before the first one. */
    public Long previousTs;

    public boolean previousClearlyAway;

    /** Time of the ping that opened the current stretch (the latest break). */
    public Long stretchSinceTs;

    /** First fix inside the geofence in the current stretch; NULL while there is none. */
    public Long stayStartTs;

    public long fixesInside;
    public long fixes;

    /** Whether the current stretch has already fired. */
    public boolean fired;

    /**
     * Takes the next ping around the shop.
     *
     * @return the stay's start if this ping is the stay's first qualifying one, else NULL
     */
    public Long step(
            long ts,
            boolean inside,
            boolean away,
            long sessionGapMs,
            long dwellThresholdMs,
            double minInsideShare) {
        boolean breaks =
                previousTs == null
                        || (away && previousClearlyAway)
                        || ts - previousTs > sessionGapMs;
        previousTs = ts;
        previousClearlyAway = away;
        if (breaks && (stretchSinceTs == null || ts > stretchSinceTs)) {
            stretchSinceTs = ts;
            stayStartTs = null;
            fixesInside = 0;
            fixes = 0;
            fired = false;
        }
        fixes += 1;
        if (inside) {
            fixesInside += 1;
            if (stayStartTs == null || ts < stayStartTs) {
                stayStartTs = ts;
            }
        }
        boolean qualifies =
                !away
                        && stayStartTs != null
                        && ts - stayStartTs >= dwellThresholdMs
                        && fixesInside >= minInsideShare * fixes;
        if (qualifies && !fired) {
            fired = true;
            return stayStartTs;
        }
        return null;
    }
}

package com.pizzario.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code DWELL_TRIGGER(ts, in_geofence, clearly_away, session_gap_ms, dwell_threshold_ms,
 * min_inside_share)}, an aggregate for an event-time OVER window per customer over the pings
 * around the shop: the start of the customer's stay at the ping where that stay first
 * qualifies for an offer, NULL at every other ping.
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
 * after a break counts from zero. The state of a customer is one small accumulator: the same
 * rule written as four chained OVER windows (LAG, a running MAX for the stretch, running counts
 * within it, and a count of qualifying pings) buffered and shuffled every ping around the shop
 * four times.
 */
@FunctionHint(output = @DataTypeHint("BIGINT"))
public final class DwellTrigger extends AggregateFunction<Long, DwellTrigger.Stay> {

    private static final long serialVersionUID = 1L;

    /** What a customer's earlier pings around the shop leave for the next one. */
    public static final class Stay {
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

        /** The result at the latest ping: the stay's start if that ping is the trigger. */
        public Long triggeredStayStartTs;
    }

    @Override
    public Stay createAccumulator() {
        return new Stay();
    }

    public void accumulate(
            Stay stay,
            Long ts,
            Boolean inGeofence,
            Boolean clearlyAway,
            Long sessionGapMs,
            Long dwellThresholdMs,
            Double minInsideShare) {
        stay.triggeredStayStartTs = null;
        if (ts == null) {
            return;
        }
        boolean inside = Boolean.TRUE.equals(inGeofence);
        boolean away = Boolean.TRUE.equals(clearlyAway);
        boolean breaks =
                stay.previousTs == null
                        || (away && stay.previousClearlyAway)
                        || ts - stay.previousTs > sessionGapMs;
        stay.previousTs = ts;
        stay.previousClearlyAway = away;
        if (breaks && (stay.stretchSinceTs == null || ts > stay.stretchSinceTs)) {
            stay.stretchSinceTs = ts;
            stay.stayStartTs = null;
            stay.fixesInside = 0;
            stay.fixes = 0;
            stay.fired = false;
        }
        stay.fixes += 1;
        if (inside) {
            stay.fixesInside += 1;
            if (stay.stayStartTs == null || ts < stay.stayStartTs) {
                stay.stayStartTs = ts;
            }
        }
        boolean qualifies =
                !away
                        && stay.stayStartTs != null
                        && ts - stay.stayStartTs >= dwellThresholdMs
                        && stay.fixesInside >= minInsideShare * stay.fixes;
        if (qualifies && !stay.fired) {
            stay.fired = true;
            stay.triggeredStayStartTs = stay.stayStartTs;
        }
    }

    @Override
    public Long getValue(Stay stay) {
        return stay.triggeredStayStartTs;
    }
}

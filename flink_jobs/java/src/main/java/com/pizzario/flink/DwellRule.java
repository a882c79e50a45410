package com.pizzario.flink;

import java.io.Serializable;

/**
 * The dwell rule, applied to a customer's accurate fixes in event-time order: it says at which
 * ping a stay near the shop first qualifies for an offer.
 *
 * <p>A single fix says little: its reported accuracy (the 68 % radius, 5 to 20 m indoors) is as
 * large as the shop. So the rule looks at the fixes of the last window (60 s by default)
 * together, through their accuracy-weighted position: each fix weighs 1 / accuracy², the
 * inverse of its error's variance, so that the mean is the least-variance estimate of where the
 * customer stood. A stay
 *
 * <ul>
 *   <li>begins at the ping whose weighted position comes within the enter radius of the shop;
 *       it is dated at the weighted mean time of that window's fixes, where the smoothed
 *       position lies (for a straight walk exactly, see below);
 *   <li>ends at a ping whose weighted position lies beyond the (larger) exit radius, or at a
 *       ping after a silence longer than the session gap, which also empties the window;
 *   <li>qualifies at the first ping, while it lasts, at which its dwell reaches the threshold.
 * </ul>
 *
 * <p>Why the weighted mean time: a trailing mean lags the customer. For a customer walking in a
 * straight line the weighted mean of the window's positions is exactly the position at the
 * weighted mean time of its fixes, about half a window ago; the time the mean entered is
 * therefore about half a window late, and the window's oldest fix about half a window early.
 * The two radii give hysteresis: the weighted position of a customer at the counter wanders by
 * a few metres, and a stay that needed the same radius to begin and to last would flicker.
 *
 * <p>Only the first qualifying ping of a stay triggers, so a long stay fires once and a stay
 * after a break counts from zero. The state is the window's fixes (a ring of primitive arrays
 * that grows only when a window holds more fixes than ever before, up to {@link #MAX_FIXES})
 * and a few fields; a ping allocates nothing.
 */
public final class DwellRule implements Serializable {

    private static final long serialVersionUID = 2L;

    /**
     * Room for 8 fixes at first (a power of two): a phone pinging every 3 to 10 s leaves 6 to 20
     * in 60 s.
     */
    static final int INITIAL_CAPACITY = 8;

    /**
     * At most this many fixes are kept (the oldest give way): a phone that pings many times a
     * second cannot grow a customer's state without bound.
     */
    static final int MAX_FIXES = 256;

    /**
     * A reported accuracy below this counts as this: a fix that claims 0 m would weigh
     * infinitely and hide every other fix of the window.
     */
    static final double MIN_ACCURACY_M = 1.0;

    /**
     * Event times of the window's fixes (epoch ms), a ring starting at {@link #oldest}. Its
     * capacity is a power of two (it starts at one and doubles), so positions wrap with a mask.
     */
    public long[] fixTs = new long[INITIAL_CAPACITY];

    /** Metres east and north of the shop (float: a tenth of a millimetre within a mall). */
    public float[] fixEastM = new float[INITIAL_CAPACITY];

    public float[] fixNorthM = new float[INITIAL_CAPACITY];

    /** 1 / accuracy², per fix. */
    public float[] fixWeight = new float[INITIAL_CAPACITY];

    public int oldest;
    public int count;

    /** Time of the previous fix, once {@link #seenAny}. */
    public long previousTs;

    public boolean seenAny;
    public boolean inStay;

    /** Start of the current stay (the weighted mean time of the window it began with). */
    public long stayStartTs;

    /** Whether the current stay has already fired. */
    public boolean fired;

    /**
     * Takes the customer's next accurate fix.
     *
     * @param eastM metres east of the shop
     * @param northM metres north of the shop
     * @param accuracyM reported accuracy (68 % radius), metres
     * @return the stay's start if this ping is the stay's first qualifying one, else NULL
     */
    public Long step(
            long ts,
            double eastM,
            double northM,
            double accuracyM,
            long windowMs,
            double enterRadiusM,
            double exitRadiusM,
            long sessionGapMs,
            long dwellThresholdMs) {
        if (seenAny && ts - previousTs > sessionGapMs) {
            // a silence: whatever the window held is from before it, and the stay is over
            count = 0;
            inStay = false;
        }
        seenAny = true;
        previousTs = ts;
        int mask = fixTs.length - 1;
        while (count > 0 && ts - fixTs[oldest] >= windowMs) {
            oldest = (oldest + 1) & mask;
            count -= 1;
        }
        double accuracy = Math.max(accuracyM, MIN_ACCURACY_M);
        append(ts, (float) eastM, (float) northM, (float) (1.0 / (accuracy * accuracy)));

        // Sums from the oldest fix on, recomputed at every ping (at most a few dozen terms):
        // running sums would drift by rounding over a day of additions and removals. Times
        // count back from this ping, so their products with the weights stay small and exact.
        double sumWeight = 0.0;
        double sumEast = 0.0;
        double sumNorth = 0.0;
        double sumAgo = 0.0;
        mask = fixTs.length - 1;
        for (int k = 0, i = oldest; k < count; k++, i = (i + 1) & mask) {
            double weight = fixWeight[i];
            sumWeight += weight;
            sumEast += weight * fixEastM[i];
            sumNorth += weight * fixNorthM[i];
            sumAgo += weight * (double) (ts - fixTs[i]);
        }
        double meanEast = sumEast / sumWeight;
        double meanNorth = sumNorth / sumWeight;
        double squared = meanEast * meanEast + meanNorth * meanNorth;

        if (!inStay && squared <= enterRadiusM * enterRadiusM) {
            inStay = true;
            fired = false;
            stayStartTs = ts - Math.round(sumAgo / sumWeight);
        } else if (inStay && squared > exitRadiusM * exitRadiusM) {
            inStay = false;
        }
        if (inStay && !fired && ts - stayStartTs >= dwellThresholdMs) {
            fired = true;
            return stayStartTs;
        }
        return null;
    }

    private void append(long ts, float eastM, float northM, float weight) {
        if (count == fixTs.length) {
            if (count < MAX_FIXES) {
                grow();
            } else {
                oldest = (oldest + 1) & (count - 1);
                count -= 1;
            }
        }
        int at = (oldest + count) & (fixTs.length - 1);
        fixTs[at] = ts;
        fixEastM[at] = eastM;
        fixNorthM[at] = northM;
        fixWeight[at] = weight;
        count += 1;
    }

    /** Doubles the ring, the oldest fix first. */
    private void grow() {
        int capacity = fixTs.length;
        long[] ts = new long[capacity * 2];
        float[] east = new float[capacity * 2];
        float[] north = new float[capacity * 2];
        float[] weight = new float[capacity * 2];
        for (int k = 0; k < count; k++) {
            int i = (oldest + k) & (capacity - 1);
            ts[k] = fixTs[i];
            east[k] = fixEastM[i];
            north[k] = fixNorthM[i];
            weight[k] = fixWeight[i];
        }
        fixTs = ts;
        fixEastM = east;
        fixNorthM = north;
        fixWeight = weight;
        oldest = 0;
    }
}

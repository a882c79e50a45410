package com.pizzario.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

import java.io.Serializable;

/**
 * {@code CUSTOMER_TIMELINE(event_id, ts, watched, east_m, north_m, accuracy_m, window_ms,
 * enter_radius_m, exit_radius_m, session_gap_ms, dwell_threshold_ms)}, an aggregate for an
 * event-time OVER window per customer: at each ping, {@code ROW(first_copy,
 * triggered_stay_start_ts)}.
 *
 * <ul>
 *   <li>{@code first_copy} is FALSE at a copy resent with an event_id already seen ({@link
 *       CopyFilter}), TRUE otherwise.
 *   <li>{@code triggered_stay_start_ts} is the start of the customer's stay near the shop at the
 *       ping where that stay first qualifies for an offer, NULL at every other ping ({@link
 *       DwellRule}). The rule sees the first copies of the {@code watched} pings only: those
 *       accurate enough to count. {@code east_m} and {@code north_m} place the fix relative to
 *       the shop, in metres.
 * </ul>
 *
 * <p>Both answers need the customer's pings in event-time order, and an event-time OVER window
 * is costly per ping: it keeps each ping in state until the watermark passes it and sets a
 * timer for it. One window that answers both spares a second window and a hand-over between
 * tasks.
 *
 * <p>The accumulator is a RAW value: the heap state backend then keeps the Java object itself,
 * where a structured type would be converted from and to its row form at every ping.
 */
@FunctionHint(
        accumulator = @DataTypeHint(value = "RAW", bridgedTo = CustomerTimeline.Timeline.class),
        output = @DataTypeHint("ROW<first_copy BOOLEAN, triggered_stay_start_ts BIGINT>"))
public final class CustomerTimeline extends AggregateFunction<Row, CustomerTimeline.Timeline> {

    private static final long serialVersionUID = 1L;

    /** What a customer's earlier pings leave for the next one, and the answer at the latest. */
    public static final class Timeline implements Serializable {
        private static final long serialVersionUID = 1L;

        public CopyFilter copies = new CopyFilter();
        public DwellRule dwell = new DwellRule();
        public boolean firstCopy;
        public Long triggeredStayStartTs;
    }

    @Override
    public Timeline createAccumulator() {
        return new Timeline();
    }

    public void accumulate(
            Timeline timeline,
            String eventId,
            Long ts,
            Boolean watched,
            Double eastM,
            Double northM,
            Double accuracyM,
            Long windowMs,
            Double enterRadiusM,
            Double exitRadiusM,
            Long sessionGapMs,
            Long dwellThresholdMs) {
        timeline.triggeredStayStartTs = null;
        timeline.firstCopy = timeline.copies.isFirstCopy(eventId, ts);
        if (timeline.firstCopy
                && ts != null
                && Boolean.TRUE.equals(watched)
                && eastM != null
                && northM != null
                && accuracyM != null) {
            timeline.triggeredStayStartTs =
                    timeline.dwell.step(
                            ts,
                            eastM,
                            northM,
                            accuracyM,
                            windowMs,
                            enterRadiusM,
                            exitRadiusM,
                            sessionGapMs,
                            dwellThresholdMs);
        }
    }

    @Override
    public Row getValue(Timeline timeline) {
        return Row.of(timeline.firstCopy, timeline.triggeredStayStartTs);
    }
}

package com.pizzario.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code FIRST_COPY(event_id, ts)}, an aggregate for an event-time OVER window per customer:
 * TRUE at the first copy of a ping, FALSE at a copy resent with the same event_id.
 *
 * <p>A resent copy repeats its ping's customer and event time, and the OVER window hands a
 * customer's pings over in event-time order once the watermark has passed them, so the copies
 * of a ping meet within one instant of one customer. The state is therefore the event_ids of a
 * customer's latest instant, not every event_id of the day: a dedupe keyed by event_id held
 * millions of entries for its whole retention, and copying them at every checkpoint cost more
 * than the rest of the pipeline.
 */
@FunctionHint(output = @DataTypeHint("BOOLEAN"))
public final class FirstCopy extends AggregateFunction<Boolean, FirstCopy.Seen> {

    private static final long serialVersionUID = 1L;

    /** The customer's latest instant and the event_ids already seen at it. */
    public static final class Seen {
        public Long latestTs;
        public List<String> eventIdsAtLatestTs = new ArrayList<>();

        /** The result at the latest ping. */
        public boolean firstCopy;
    }

    @Override
    public Seen createAccumulator() {
        return new Seen();
    }

    public void accumulate(Seen seen, String eventId, Long ts) {
        if (ts == null || (seen.latestTs != null && ts < seen.latestTs)) {
            // not a copy of the latest instant (the OVER window hands pings over in event-time
            // order, so only a NULL time gets here)
            seen.firstCopy = true;
            return;
        }
        if (seen.latestTs == null || ts > seen.latestTs) {
            seen.latestTs = ts;
            seen.eventIdsAtLatestTs = new ArrayList<>(1);
        }
        seen.firstCopy = !seen.eventIdsAtLatestTs.contains(eventId);
        if (seen.firstCopy) {
            seen.eventIdsAtLatestTs.add(eventId);
        }
    }

    @Override
    public Boolean getValue(Seen seen) {
        return seen.firstCopy;
    }
}

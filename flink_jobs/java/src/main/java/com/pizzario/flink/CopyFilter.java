package com.pizzario.flink;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Tells the first copy of a customer's ping from a copy resent with the same event_id, given
 * the customer's pings in event-time order.
 *
 * <p>A resent copy repeats its ping's customer and event time, so the copies of a ping meet
 * within one instant of one customer, and only the event_ids of the customer's latest instant
 * need remembering. A dedupe keyed by event_id held millions of entries for its whole
 * retention, and copying them at every checkpoint cost more than the rest of the pipeline.
 */
public final class CopyFilter implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The customer's latest instant; NULL before the first ping. */
    public Long latestTs;

    /** The event_ids already seen at {@link #latestTs}. */
    public List<String> eventIdsAtLatestTs = new ArrayList<>(1);

    /** Whether this ping is the first copy of its event_id; remembers it if so. */
    public boolean isFirstCopy(String eventId, Long ts) {
        if (ts == null || (latestTs != null && ts < latestTs)) {
            // not a copy of the latest instant (pings arrive in event-time order, so only a
            // NULL time gets here)
            return true;
        }
        if (latestTs == null || ts > latestTs) {
            latestTs = ts;
            eventIdsAtLatestTs.clear();
        }
        if (eventIdsAtLatestTs.contains(eventId)) {
            return false;
        }
        eventIdsAtLatestTs.add(eventId);
        return true;
    }
}

package com.pizzario.flink;

import java.io.Serializable;

import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.VarCharType;

/**
 * The ping contract of DESIGN.md: the fields a ping must carry, and the first rule a decoded
 * ping breaks, in a fixed order so that a record always gets the same reason.
 */
public final class PingContract implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The contract's fields, in the order of {@link #ROW_TYPE}. */
    static final String[] FIELD_NAMES = {
        "event_id", "customer_id", "device_id", "ts", "lat", "lon", "accuracy_m"
    };

    /** A ping as the JSON decoder reads it: every field nullable, numbers as BIGINT/DOUBLE. */
    static final RowType ROW_TYPE = RowType.of(
            new LogicalType[] {
                new VarCharType(VarCharType.MAX_LENGTH), new BigIntType(),
                new VarCharType(VarCharType.MAX_LENGTH), new BigIntType(),
                new DoubleType(), new DoubleType(), new DoubleType()
            },
            FIELD_NAMES);

    // The fields' positions in ROW_TYPE.
    static final int EVENT_ID = 0;
    static final int CUSTOMER_ID = 1;
    static final int DEVICE_ID = 2;
    static final int TS = 3;
    static final int LAT = 4;
    static final int LON = 5;
    static final int ACCURACY_M = 6;
    /**
     * Where the reader puts the heartbeat mark, after the contract's fields: TRUE when the
     * record is the mall gateway's heartbeat ({"heartbeat": true, "ts": ...}), else NULL.
     */
    static final int HEARTBEAT = 7;
    static final String HEARTBEAT_NAME = "heartbeat";

    /** The reason for a field of the contract that is missing, null or not of its type. */
    static final String[] FIELD_REASONS = {
        "event_id missing",
        "customer_id missing or not an integer",
        "device_id missing",
        "ts missing or not an integer",
        "lat/lon missing or not numbers",
        "lat/lon missing or not numbers",
        "accuracy_m missing or not a number"
    };

    static final String NOT_AN_OBJECT = "not a JSON object";

    /**
     * The longest event_id or device_id a ping may carry. The simulator's are under 40
     * characters and phones' identifiers under 64; a longer one is a broken or hostile sender,
     * and would otherwise be kept in the dedupe's state and in the archive.
     */
    static final int MAX_ID_LENGTH = 128;

    private final double minLat;
    private final double maxLat;
    private final double minLon;
    private final double maxLon;
    private final long maxPastSkewMs;
    private final long maxFutureSkewMs;

    /**
     * @param minLat the map's southern edge (inclusive); the northern edge is exclusive
     * @param minLon the map's western edge (inclusive); the eastern edge is exclusive
     * @param maxPastSkewMs how far behind the clock a ping's ts may be
     * @param maxFutureSkewMs how far ahead of the clock a ping's ts may be
     */
    public PingContract(
            double minLat,
            double maxLat,
            double minLon,
            double maxLon,
            long maxPastSkewMs,
            long maxFutureSkewMs) {
        this.minLat = minLat;
        this.maxLat = maxLat;
        this.minLon = minLon;
        this.maxLon = maxLon;
        this.maxPastSkewMs = maxPastSkewMs;
        this.maxFutureSkewMs = maxFutureSkewMs;
    }

    /**
     * The first rule the decoded ping breaks when checked at {@code checkedAtMs}, or NULL. A
     * heartbeat carries only a time, held to the same clock-skew limits as a ping's: one from
     * far in the future would drag the watermark ahead just as a ping would.
     */
    public String rejection(RowData ping, long checkedAtMs) {
        if (isHeartbeat(ping)) {
            return ping.isNullAt(TS)
                    ? FIELD_REASONS[TS]
                    : skewProblem(ping.getLong(TS), checkedAtMs);
        }
        for (int field = 0; field < FIELD_NAMES.length; field++) {
            if (ping.isNullAt(field)
                    || ((field == EVENT_ID || field == DEVICE_ID)
                            // the decoder's strings hold a java.lang.String: no copy here
                            && ping.getString(field).toString().isEmpty())) {
                return FIELD_REASONS[field];
            }
        }
        for (int field : new int[] {EVENT_ID, DEVICE_ID}) {
            String problem = textProblem(ping.getString(field).toString());
            if (problem != null) {
                return FIELD_NAMES[field] + problem;
            }
        }
        double lat = ping.getDouble(LAT);
        double lon = ping.getDouble(LON);
        // Written so that NaN fails every comparison and lands here.
        if (!(lat >= minLat && lat < maxLat && lon >= minLon && lon < maxLon)) {
            return "lat/lon off the map or not finite";
        }
        double accuracyM = ping.getDouble(ACCURACY_M);
        // NaN fails both comparisons; +Infinity (1e309, "Infinity") fails the second, where a
        // check of the sign alone let it through to be dropped, unseen, as a poor fix.
        if (!(accuracyM >= 0 && accuracyM <= Double.MAX_VALUE)) {
            return "accuracy_m negative or not finite";
        }
        return skewProblem(ping.getLong(TS), checkedAtMs);
    }

    /** Whether the reader marked the record as a heartbeat. */
    static boolean isHeartbeat(RowData ping) {
        return ping.getArity() > HEARTBEAT && !ping.isNullAt(HEARTBEAT);
    }

    private String skewProblem(long ts, long checkedAtMs) {
        if (ts < checkedAtMs - maxPastSkewMs) {
            return "ts too far in the past";
        }
        if (ts > checkedAtMs + maxFutureSkewMs) {
            return "ts in the future";
        }
        return null;
    }

    /**
     * What is wrong with an identifier's text, or NULL. Control characters (C0, DEL and C1,
     * whether sent raw or as JSON escapes) have no place in an identifier, and would reach a
     * terminal that prints the offers (an escape sequence can rewrite the screen). An unpaired
     * surrogate can only come from a JSON escape of U+D800 to U+DFFF alone (in UTF-8 the record
     * is refused whole): it is no character, and a writer downstream must replace it or fail,
     * so the identifier read back would not be the one sent.
     */
    private static String textProblem(String text) {
        if (text.length() > MAX_ID_LENGTH) {
            return " longer than " + MAX_ID_LENGTH + " characters";
        }
        boolean unpaired = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                return " holds control characters";
            }
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++; // a pair: one character beyond U+FFFF
                } else {
                    unpaired = true; // the rule after control characters, wherever it is
                }
            }
        }
        return unpaired ? " holds an unpaired surrogate" : null;
    }
}

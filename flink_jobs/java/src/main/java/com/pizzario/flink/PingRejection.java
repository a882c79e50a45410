package com.pizzario.flink;

import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.VarCharType;

/**
 * {@code PING_REJECTION(line, checked_at_ms, min_lat, max_lat, min_lon, max_lon,
 * max_past_skew_ms, max_future_skew_ms)}: why a raw ping record breaks the ping contract, or NULL
 * when it does not.
 *
 * <p>The pipeline reads the ping topic twice: with the 'json' format, which silently skips what it
 * cannot read, and as raw bytes for the dead-letter topic. Every record must land on exactly one
 * side, so this function decodes the bytes with the very deserializer the 'json' format uses
 * (same row type, parse errors ignored), which yields the same field values the main path sees,
 * and applies the same checks as the main path's filter (sql/20_validate_pings.sql). It parses a
 * record once; one JSON_VALUE per field parsed it once per field and was the pipeline's most
 * expensive operator.
 */
public final class PingRejection extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    /** The ping contract's fields in the order of the 'json' source table (sql/10_ingest_pings.sql). */
    private static final String[] FIELD_NAMES = {
        "event_id", "customer_id", "device_id", "ts", "lat", "lon", "accuracy_m"
    };

    private static final int EVENT_ID = 0;
    private static final int DEVICE_ID = 2;
    private static final int TS = 3;
    private static final int LAT = 4;
    private static final int LON = 5;
    private static final int ACCURACY_M = 6;

    /** The reason for a field of the contract that is missing or unreadable, by field. */
    private static final String[] FIELD_REASONS = {
        "event_id missing",
        "customer_id missing or not an integer",
        "device_id missing",
        "ts missing or not an integer",
        "lat/lon missing or not numbers",
        "lat/lon missing or not numbers",
        "accuracy_m missing or not a number"
    };

    private transient JsonParserRowDataDeserializationSchema decoder;
    private transient ObjectMapper treeReader;

    @Override
    public void open(FunctionContext context) throws Exception {
        LogicalType text = new VarCharType(VarCharType.MAX_LENGTH);
        LogicalType[] types = {
            text, new BigIntType(), text, new BigIntType(),
            new DoubleType(), new DoubleType(), new DoubleType()
        };
        RowType pingType = RowType.of(types, FIELD_NAMES);
        decoder = new JsonParserRowDataDeserializationSchema(
                pingType, InternalTypeInfo.of(pingType), false, true, TimestampFormat.SQL);
        // The decoder's open() only builds its Jackson mapper; it does not use the context.
        decoder.open(null);
        treeReader = new ObjectMapper();
    }

    /** The first contract rule the record breaks, in the order of the main path's filter. */
    public String eval(
            byte[] line,
            long checkedAtMs,
            double minLat,
            double maxLat,
            double minLon,
            double maxLon,
            long maxPastSkewMs,
            long maxFutureSkewMs)
            throws java.io.IOException {
        RowData ping = line == null ? null : decoder.deserialize(line);
        if (ping == null) {
            return unreadable(line);
        }
        for (int field = 0; field < FIELD_NAMES.length; field++) {
            if (ping.isNullAt(field)
                    || ((field == EVENT_ID || field == DEVICE_ID)
                            && ping.getString(field).toString().isEmpty())) {
                return FIELD_REASONS[field];
            }
        }
        double lat = ping.getDouble(LAT);
        double lon = ping.getDouble(LON);
        // Written so that NaN fails every comparison and lands here, as in the SQL filter.
        if (!(lat >= minLat && lat < maxLat && lon >= minLon && lon < maxLon)) {
            return "lat/lon off the map or not finite";
        }
        if (!(ping.getDouble(ACCURACY_M) >= 0)) {
            return "accuracy_m negative or not finite";
        }
        long ts = ping.getLong(TS);
        if (ts < checkedAtMs - maxPastSkewMs) {
            return "ts too far in the past";
        }
        if (ts > checkedAtMs + maxFutureSkewMs) {
            return "ts in the future";
        }
        return null;
    }

    /**
     * Why the 'json' format could not read a record at all. It gives up on the whole record when
     * a field holds an array (it loses its place in the text), so a JSON object is searched for
     * the first contract field that is an array or an object; only the rare bad record pays for
     * this second parse.
     */
    private String unreadable(byte[] line) {
        JsonNode tree;
        try {
            tree = line == null ? null : treeReader.readTree(line);
        } catch (java.io.IOException error) {
            tree = null;
        }
        if (tree != null && tree.isObject()) {
            for (int field = 0; field < FIELD_NAMES.length; field++) {
                JsonNode value = tree.get(FIELD_NAMES[field]);
                if (value != null && value.isContainerNode()) {
                    return FIELD_REASONS[field];
                }
            }
        }
        return "not a JSON object";
    }
}

package com.pizzario.flink;

import java.io.IOException;
import java.math.BigDecimal;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.json.JsonReadFeature;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;

import static com.pizzario.flink.PingContract.ACCURACY_M;
import static com.pizzario.flink.PingContract.CUSTOMER_ID;
import static com.pizzario.flink.PingContract.DEVICE_ID;
import static com.pizzario.flink.PingContract.EVENT_ID;
import static com.pizzario.flink.PingContract.HEARTBEAT;
import static com.pizzario.flink.PingContract.LAT;
import static com.pizzario.flink.PingContract.LON;
import static com.pizzario.flink.PingContract.TS;

/**
 * Reads the contract's seven fields from a ping record with one pass of Jackson's streaming
 * parser, into a row of {@link PingContract#ROW_TYPE}: a field that is missing, null or not of
 * its type is NULL, and the contract then gives the field's reason.
 *
 * <p>This replaces Flink's 'json' field reader, which is lenient where the contract is not: it
 * truncates a fractional number read into a BIGINT (customer 9100000.5 became customer 9100000)
 * and keeps an object, an array, a number or a boolean given for a STRING as its JSON text. The
 * other forms it accepted still read as they did: numbers given as strings, a whole-number ts
 * written with a fraction or an exponent, "NaN" as text (see {@link #integerOf} and
 * {@link #numberOf}). The record is checked first by {@link Utf8Json#isUtf8}.
 *
 * <p>A repeated field: the last value counts, as in Python's json module, JavaScript's
 * JSON.parse and Jackson's tree model, the tools someone reading the topic or the dead letters
 * would use (RFC 8259, section 4, leaves it open); the 'json' format kept the first, and lost
 * count of the fields when one was repeated. What follows the object's end is not parsed, as
 * with the 'json' format. Nesting costs no stack: the parser counts levels, and a container,
 * wherever it is, is skipped token by token.
 */
final class PingReader {

    /**
     * The longest number text read for an integer: a long has at most 19 digits and a sign.
     * Anything longer is refused unread, because Jackson parses a longer integer into a
     * BigInteger, whose cost grows with the square of its length.
     */
    private static final int MAX_INTEGER_CHARS = 20;
    /** The longest fraction or exponent form of a ts that is read exactly (BigDecimal). */
    private static final int MAX_INTEGRAL_FLOAT_CHARS = 40;

    // Raw control characters in strings are the contract's to refuse, by name ("device_id holds
    // control characters"), as with Flink's 'json' format, which allows them too.
    private final JsonFactory factory = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
            .build();

    /**
     * The record's contract fields, or NULL when it is not a JSON object in UTF-8: not UTF-8
     * (see {@link Utf8Json}), not JSON, cut short, or a JSON value other than an object.
     *
     * @throws IOException when the parser finds the record is not JSON
     */
    GenericRowData read(byte[] record) throws IOException {
        if (record.length == 0 || !Utf8Json.isUtf8(record)) {
            return null;
        }
        try (JsonParser parser = factory.createParser(record)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            GenericRowData ping = new GenericRowData(HEARTBEAT + 1);
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                int field = fieldOf(parser.currentName());
                JsonToken value = parser.nextToken();
                if (field >= 0) {
                    ping.setField(field, valueOf(field, value, parser));
                }
                parser.skipChildren(); // a container, whatever field holds it; else nothing
            }
            return token == JsonToken.END_OBJECT ? ping : null;
        }
    }

    private static int fieldOf(String name) {
        switch (name) {
            case "event_id": return EVENT_ID;
            case "customer_id": return CUSTOMER_ID;
            case "device_id": return DEVICE_ID;
            case "ts": return TS;
            case "lat": return LAT;
            case "lon": return LON;
            case "accuracy_m": return ACCURACY_M;
            case PingContract.HEARTBEAT_NAME: return HEARTBEAT;
            default: return -1;
        }
    }

    private static Object valueOf(int field, JsonToken value, JsonParser parser)
            throws IOException {
        switch (field) {
            case EVENT_ID:
            case DEVICE_ID:
                // only a JSON string: an object, array, number or boolean is no identifier
                return value == JsonToken.VALUE_STRING
                        ? StringData.fromString(parser.getText()) : null;
            case CUSTOMER_ID:
                return integerOf(value, parser, false);
            case TS:
                return integerOf(value, parser, true);
            case HEARTBEAT:
                // only "heartbeat": true marks one; any other value is an unknown field's
                return value == JsonToken.VALUE_TRUE ? Boolean.TRUE : null;
            default: // LAT, LON, ACCURACY_M
                return numberOf(value, parser);
        }
    }

    /**
     * An integer field: a JSON integer that fits a long, or a string of one (the 'json' format
     * reads "42" too, and the contract's tests keep it).
     *
     * <p>A number with a fraction or an exponent is refused for customer_id, even 9.1e6 or
     * 9100000.0: an identifier must match the segment table exactly, and one written that way
     * went through a double somewhere, where ids past 2^53 are no longer exact. For ts it is read
     * when its value is a whole number (1.7647e12, 1764700000000.0: the same instant, as a
     * sender computing times in floating point writes them), exactly, with BigDecimal; a
     * fraction of a millisecond is refused, where the 'json' format truncated it.
     */
    private static Long integerOf(JsonToken value, JsonParser parser, boolean integralFloats)
            throws IOException {
        try {
            switch (value) {
                case VALUE_NUMBER_INT:
                    return parser.getTextLength() <= MAX_INTEGER_CHARS
                                    && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                            ? parser.getLongValue() : null;
                case VALUE_NUMBER_FLOAT:
                    return integralFloats && parser.getTextLength() <= MAX_INTEGRAL_FLOAT_CHARS
                            ? new BigDecimal(parser.getText()).longValueExact() : null;
                case VALUE_STRING:
                    return Long.parseLong(parser.getText().trim());
                default:
                    return null;
            }
        } catch (NumberFormatException | ArithmeticException notALong) {
            return null;
        }
    }

    /**
     * A number field, read as the 'json' format reads a DOUBLE: a JSON number, or a string that
     * Java's Double.parseDouble reads (so "NaN" and "Infinity" as text read as those values and
     * the contract refuses them as not finite). A JSON integer is read from its text like the
     * string, which costs no BigInteger for a long one.
     */
    private static Double numberOf(JsonToken value, JsonParser parser) throws IOException {
        try {
            switch (value) {
                case VALUE_NUMBER_FLOAT:
                    return parser.getDoubleValue();
                case VALUE_NUMBER_INT:
                case VALUE_STRING:
                    return Double.parseDouble(parser.getText().trim());
                default:
                    return null;
            }
        } catch (NumberFormatException notANumber) {
            return null;
        }
    }
}

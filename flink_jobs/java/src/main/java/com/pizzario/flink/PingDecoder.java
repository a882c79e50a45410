package com.pizzario.flink;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

/**
 * Decodes a ping record into a row of its table (see {@link PingFormatFactory}): the contract's
 * columns, and for a record that breaks the contract also the reason, the record itself and
 * when it was checked. It never throws on a record, so no record can fail the job.
 *
 * <p>"When" is the product's clock: the wall clock plus the configured offset, so that the
 * skew check and {@code rejected_at} agree with the simulator's and the offers' times.
 *
 * <p>The fields are read with the streaming deserializer of Flink's 'json' format, so a ping
 * reads here exactly as it would there.
 */
public final class PingDecoder implements DeserializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    /** Why the record breaks the contract; NULL for a valid ping. */
    public static final String REJECTION = "rejection";
    /** The record as read (UTF-8, malformed bytes replaced), only for a rejected record. */
    public static final String RECORD = "record";
    /** When a rejected record was checked (epoch ms), only for a rejected record. */
    public static final String REJECTED_AT = "rejected_at";

    private static final int REJECTION_COLUMN = -1;
    private static final int RECORD_COLUMN = -2;
    private static final int REJECTED_AT_COLUMN = -3;

    private final PingContract contract;
    /** Added to the wall clock for the product's now (PIZZARIO_CLOCK_OFFSET_S, in ms). */
    private final long clockOffsetMs;
    private final RowType producedType;
    /** Per produced column: the contract field it copies, or one of the *_COLUMN codes. */
    private final int[] sources;

    private transient JsonParserRowDataDeserializationSchema fieldReader;
    private transient RowData.FieldGetter[] fieldGetters;
    private transient ObjectMapper treeReader;

    public PingDecoder(PingContract contract, long clockOffsetMs, RowType producedType) {
        this.contract = contract;
        this.clockOffsetMs = clockOffsetMs;
        this.producedType = producedType;
        this.sources = sourcesOf(producedType);
    }

    private static int[] sourcesOf(RowType producedType) {
        List<String> contractFields = Arrays.asList(PingContract.FIELD_NAMES);
        int[] sources = new int[producedType.getFieldCount()];
        for (int column = 0; column < sources.length; column++) {
            String name = producedType.getFieldNames().get(column);
            LogicalType type = producedType.getTypeAt(column);
            int field = contractFields.indexOf(name);
            LogicalTypeRoot expected;
            if (field >= 0) {
                sources[column] = field;
                expected = PingContract.ROW_TYPE.getTypeAt(field).getTypeRoot();
            } else if (name.equals(REJECTION) || name.equals(RECORD)) {
                sources[column] = name.equals(REJECTION) ? REJECTION_COLUMN : RECORD_COLUMN;
                expected = LogicalTypeRoot.VARCHAR;
            } else if (name.equals(REJECTED_AT)) {
                sources[column] = REJECTED_AT_COLUMN;
                expected = LogicalTypeRoot.BIGINT;
            } else {
                throw new ValidationException(String.format(
                        "The '%s' format cannot fill column '%s'; its columns are %s, %s, %s"
                                + " and %s.",
                        PingFormatFactory.IDENTIFIER, name, contractFields, REJECTION, RECORD,
                        REJECTED_AT));
            }
            if (type.getTypeRoot() != expected || !type.isNullable()) {
                throw new ValidationException(String.format(
                        "The '%s' format fills column '%s' with a nullable %s, not %s.",
                        PingFormatFactory.IDENTIFIER, name, expected, type));
            }
        }
        return sources;
    }

    @Override
    public void open(InitializationContext context) throws Exception {
        fieldReader = new JsonParserRowDataDeserializationSchema(
                PingContract.ROW_TYPE, InternalTypeInfo.of(PingContract.ROW_TYPE),
                false, true, TimestampFormat.SQL);
        fieldReader.open(context);
        fieldGetters = new RowData.FieldGetter[PingContract.FIELD_NAMES.length];
        for (int field = 0; field < fieldGetters.length; field++) {
            fieldGetters[field] =
                    RowData.createFieldGetter(PingContract.ROW_TYPE.getTypeAt(field), field);
        }
        treeReader = new ObjectMapper();
    }

    @Override
    public RowData deserialize(byte[] message) {
        long checkedAtMs = System.currentTimeMillis() + clockOffsetMs;
        RowData ping = null;
        String rejection;
        try {
            ping = message == null ? null : fieldReader.deserialize(message);
            rejection = ping == null
                    ? unreadable(message)
                    : contract.rejection(ping, checkedAtMs);
        } catch (IOException | RuntimeException error) {
            // the field reader ignores parse errors; this is for anything it lets through
            ping = null;
            rejection = PingContract.NOT_AN_OBJECT;
        }
        GenericRowData row = new GenericRowData(sources.length);
        for (int column = 0; column < sources.length; column++) {
            int source = sources[column];
            if (source >= 0) {
                row.setField(column, ping == null ? null : fieldGetters[source].getFieldOrNull(ping));
            } else if (rejection != null) {
                row.setField(column, rejectedValue(source, rejection, message, checkedAtMs));
            }
        }
        return row;
    }

    private static Object rejectedValue(
            int source, String rejection, byte[] message, long checkedAtMs) {
        switch (source) {
            case REJECTION_COLUMN:
                return StringData.fromString(rejection);
            case RECORD_COLUMN:
                return message == null ? null : StringData.fromBytes(message);
            default:
                return checkedAtMs;
        }
    }

    /**
     * Why the field reader could not read a record at all. It gives up on the whole record when a
     * field holds an array (it loses its place in the text), so a JSON object is searched for the
     * first contract field that is an array or an object; only the rare bad record pays for this
     * second parse.
     */
    private String unreadable(byte[] message) {
        JsonNode tree;
        try {
            tree = message == null ? null : treeReader.readTree(message);
        } catch (IOException error) {
            tree = null;
        }
        if (tree != null && tree.isObject()) {
            for (int field = 0; field < PingContract.FIELD_NAMES.length; field++) {
                JsonNode value = tree.get(PingContract.FIELD_NAMES[field]);
                if (value != null && value.isContainerNode()) {
                    return PingContract.FIELD_REASONS[field];
                }
            }
        }
        return PingContract.NOT_AN_OBJECT;
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return InternalTypeInfo.of(producedType);
    }
}

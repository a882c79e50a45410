package com.pizzario.flink;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
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
 * <p>The fields are read by {@link PingReader}, strictly: a record that is not UTF-8, or whose
 * identifier is not a JSON string or whose customer_id is not an integer, is refused, where
 * Flink's 'json' field reader accepted it.
 */
public final class PingDecoder implements DeserializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    /** Why the record breaks the contract; NULL for a valid ping. */
    public static final String REJECTION = "rejection";
    /** The record as read (UTF-8, malformed bytes replaced), only for a rejected record. */
    public static final String RECORD = "record";
    /** When a rejected record was checked (epoch ms), only for a rejected record. */
    public static final String REJECTED_AT = "rejected_at";
    /** TRUE for a heartbeat, whose only field is its ts; FALSE for every other record. */
    public static final String HEARTBEAT = PingContract.HEARTBEAT_NAME;

    private static final int REJECTION_COLUMN = -1;
    private static final int RECORD_COLUMN = -2;
    private static final int REJECTED_AT_COLUMN = -3;
    private static final int HEARTBEAT_COLUMN = -4;

    private final PingContract contract;
    /** Added to the wall clock for the product's now (PIZZARIO_CLOCK_OFFSET_S, in ms). */
    private final long clockOffsetMs;
    private final RowType producedType;
    /** Per produced column: the contract field it copies, or one of the *_COLUMN codes. */
    private final int[] sources;

    private transient PingReader reader;

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
            } else if (name.equals(HEARTBEAT)) {
                sources[column] = HEARTBEAT_COLUMN;
                expected = LogicalTypeRoot.BOOLEAN;
            } else {
                throw new ValidationException(String.format(
                        "The '%s' format cannot fill column '%s'; its columns are %s, %s, %s,"
                                + " %s and %s.",
                        PingFormatFactory.IDENTIFIER, name, contractFields, REJECTION, RECORD,
                        REJECTED_AT, HEARTBEAT));
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
    public void open(InitializationContext context) {
        reader = new PingReader();
    }

    @Override
    public RowData deserialize(byte[] message) {
        long checkedAtMs = System.currentTimeMillis() + clockOffsetMs;
        GenericRowData ping;
        try {
            ping = message == null ? null : reader.read(message);
        } catch (IOException | RuntimeException notJson) {
            // Jackson's parse errors; a record that is not JSON is a dead letter, not a failure
            ping = null;
        }
        String rejection = ping == null
                ? PingContract.NOT_AN_OBJECT
                : contract.rejection(ping, checkedAtMs);
        GenericRowData row = new GenericRowData(sources.length);
        for (int column = 0; column < sources.length; column++) {
            int source = sources[column];
            if (source >= 0) {
                row.setField(column, ping == null ? null : ping.getField(source));
            } else if (source == HEARTBEAT_COLUMN) {
                row.setField(column, ping != null && PingContract.isHeartbeat(ping));
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

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return InternalTypeInfo.of(producedType);
    }
}

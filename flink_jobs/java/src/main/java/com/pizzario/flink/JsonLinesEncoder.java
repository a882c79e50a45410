package com.pizzario.flink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.StreamWriteFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.SerializedString;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

/**
 * Writes a row as one JSON object, straight from the row's fields to Jackson's streaming
 * generator: strings as their UTF-8 bytes (escaped, never decoded), numbers and booleans as
 * JSON numbers and booleans, NULL as null. Doubles are written with Jackson's shortest
 * round-trip writer, so every double reads back as exactly the same value.
 */
public final class JsonLinesEncoder implements SerializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    /** The column types {@link #writeValue} has a case for. */
    private static final Set<LogicalTypeRoot> WRITTEN_TYPES = EnumSet.of(
            LogicalTypeRoot.CHAR, LogicalTypeRoot.VARCHAR, LogicalTypeRoot.BOOLEAN,
            LogicalTypeRoot.TINYINT, LogicalTypeRoot.SMALLINT, LogicalTypeRoot.INTEGER,
            LogicalTypeRoot.BIGINT, LogicalTypeRoot.FLOAT, LogicalTypeRoot.DOUBLE);

    private final RowType rowType;
    private final LogicalTypeRoot[] types;

    private transient ByteArrayOutputStream buffer;
    private transient JsonGenerator generator;
    private transient SerializedString[] names;

    public JsonLinesEncoder(RowType rowType) {
        this.rowType = rowType;
        List<RowType.RowField> fields = rowType.getFields();
        this.types = new LogicalTypeRoot[fields.size()];
        for (int field = 0; field < types.length; field++) {
            RowType.RowField column = fields.get(field);
            types[field] = column.getType().getTypeRoot();
            if (!WRITTEN_TYPES.contains(types[field])) {
                throw new ValidationException(String.format(
                        "The '%s' format writes strings, booleans, integers and floating-point"
                                + " numbers; column '%s' is %s.",
                        JsonLinesFormatFactory.IDENTIFIER, column.getName(), column.getType()));
            }
        }
    }

    @Override
    public void open(InitializationContext context) throws IOException {
        buffer = new ByteArrayOutputStream(512);
        generator = JsonFactory.builder()
                .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
                .build()
                .createGenerator(buffer);
        // one object per call, with nothing between them (the sink adds the line breaks)
        generator.setRootValueSeparator(null);
        names = new SerializedString[types.length];
        for (int field = 0; field < types.length; field++) {
            names[field] = new SerializedString(rowType.getFieldNames().get(field));
        }
    }

    @Override
    public byte[] serialize(RowData row) {
        try {
            if (generator == null) {
                open(null);
            }
            buffer.reset();
            generator.writeStartObject();
            for (int field = 0; field < types.length; field++) {
                generator.writeFieldName(names[field]);
                writeValue(row, field);
            }
            generator.writeEndObject();
            generator.flush();
        } catch (IOException error) {
            // the generator writes to memory; an error here is a bug, not bad input
            throw new UncheckedIOException(error);
        }
        return buffer.toByteArray();
    }

    private void writeValue(RowData row, int field) throws IOException {
        if (row.isNullAt(field)) {
            generator.writeNull();
            return;
        }
        switch (types[field]) {
            case CHAR:
            case VARCHAR:
                byte[] text = row.getString(field).toBytes();
                generator.writeUTF8String(text, 0, text.length);
                break;
            case BOOLEAN:
                generator.writeBoolean(row.getBoolean(field));
                break;
            case TINYINT:
                generator.writeNumber(row.getByte(field));
                break;
            case SMALLINT:
                generator.writeNumber(row.getShort(field));
                break;
            case INTEGER:
                generator.writeNumber(row.getInt(field));
                break;
            case BIGINT:
                generator.writeNumber(row.getLong(field));
                break;
            case FLOAT:
                generator.writeNumber(row.getFloat(field));
                break;
            default: // DOUBLE, the last of WRITTEN_TYPES
                generator.writeNumber(row.getDouble(field));
        }
    }
}

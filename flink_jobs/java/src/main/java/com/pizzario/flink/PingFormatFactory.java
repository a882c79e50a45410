package com.pizzario.flink;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

/**
 * The 'pizzario-ping' format: reads a ping record once and checks it against the ping contract,
 * so that one source feeds both the pipeline and the dead-letter topic.
 *
 * <p>A valid ping fills the contract's columns (event_id, customer_id, device_id, ts, lat, lon,
 * accuracy_m) and leaves {@code rejection}, {@code record} and {@code rejected_at} NULL. Any
 * other record, even one that is not JSON, yields a row whose {@code rejection} says which rule
 * it broke first, with the record's text and the time of the check. The contract's bounds are
 * the format's options, e.g. {@code 'pizzario-ping.min-latitude' = '12.99'}.
 *
 * <p>The skew bounds are measured from the product's clock, the wall clock shifted by
 * {@code clock-offset-ms} (pizzario/clock.py), so the check agrees with the "now" of the
 * simulator and of the command line when the clock is set to another time of day.
 */
public final class PingFormatFactory implements DeserializationFormatFactory {

    public static final String IDENTIFIER = "pizzario-ping";

    public static final ConfigOption<Double> MIN_LATITUDE = ConfigOptions.key("min-latitude")
            .doubleType().noDefaultValue().withDescription("The map's southern edge (kept).");
    public static final ConfigOption<Double> MAX_LATITUDE = ConfigOptions.key("max-latitude")
            .doubleType().noDefaultValue().withDescription("The map's northern edge (off the map).");
    public static final ConfigOption<Double> MIN_LONGITUDE = ConfigOptions.key("min-longitude")
            .doubleType().noDefaultValue().withDescription("The map's western edge (kept).");
    public static final ConfigOption<Double> MAX_LONGITUDE = ConfigOptions.key("max-longitude")
            .doubleType().noDefaultValue().withDescription("The map's eastern edge (off the map).");
    public static final ConfigOption<Duration> MAX_PAST_SKEW = ConfigOptions.key("max-past-skew")
            .durationType().noDefaultValue()
            .withDescription("How far behind the clock a ping's ts may be.");
    public static final ConfigOption<Duration> MAX_FUTURE_SKEW = ConfigOptions.key("max-future-skew")
            .durationType().noDefaultValue()
            .withDescription("How far ahead of the clock a ping's ts may be.");
    // Milliseconds, not a Duration: Flink's duration syntax has no negative values, and a
    // clock set to an earlier hour has a negative offset.
    public static final ConfigOption<Long> CLOCK_OFFSET_MS = ConfigOptions.key("clock-offset-ms")
            .longType().defaultValue(0L)
            .withDescription("Milliseconds added to the wall clock to give the product's now.");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(MIN_LATITUDE);
        options.add(MAX_LATITUDE);
        options.add(MIN_LONGITUDE);
        options.add(MAX_LONGITUDE);
        options.add(MAX_PAST_SKEW);
        options.add(MAX_FUTURE_SKEW);
        return options;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(CLOCK_OFFSET_MS);
        return options;
    }

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        FactoryUtil.validateFactoryOptions(this, formatOptions);
        PingContract contract = new PingContract(
                formatOptions.get(MIN_LATITUDE),
                formatOptions.get(MAX_LATITUDE),
                formatOptions.get(MIN_LONGITUDE),
                formatOptions.get(MAX_LONGITUDE),
                formatOptions.get(MAX_PAST_SKEW).toMillis(),
                formatOptions.get(MAX_FUTURE_SKEW).toMillis());
        long clockOffsetMs = formatOptions.get(CLOCK_OFFSET_MS);
        return new DecodingFormat<DeserializationSchema<RowData>>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(
                    DynamicTableSource.Context sourceContext, DataType physicalDataType) {
                return new PingDecoder(
                        contract, clockOffsetMs, (RowType) physicalDataType.getLogicalType());
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.insertOnly();
            }
        };
    }
}

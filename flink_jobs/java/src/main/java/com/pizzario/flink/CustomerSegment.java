package com.pizzario.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.MappingIterator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.dataformat.csv.CsvMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

import java.io.File;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code CUSTOMER_SEGMENT(customer_id, segments_csv, segment_offers_csv)}: the segment of a known
 * customer and that segment's default offer, as a ROW; NULL for an unknown customer or a segment
 * without an offer.
 *
 * <p>The two files are the segmentation's outputs (data/segments.csv and
 * data/segment_offers.csv). They are read when the function first needs them in a task, so a
 * restart or a resubmitted job reads the current segmentation. A lookup keeps the dwell
 * trigger's event time, and it holds no state: a regular join with the files read as tables
 * held back the triggers that arrived before the catalogue and released them in no particular
 * order, so the frequency cap could keep a customer's later trigger of a day instead of the
 * first. It is a scalar function rather than a table function because the planner computes a
 * correlated table function once per sink that uses it, and the offers must be decided once.
 */
public final class CustomerSegment extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    private transient Map<Long, Row> catalogue;
    private transient String cataloguePaths;

    @DataTypeHint(
            "ROW<segment_id INT, segment_label STRING, default_offer_code STRING,"
                    + " default_message STRING, default_discount_pct DOUBLE>")
    public Row eval(Long customerId, String segmentsCsv, String segmentOffersCsv)
            throws IOException {
        if (customerId == null) {
            return null;
        }
        return catalogue(segmentsCsv, segmentOffersCsv).get(customerId);
    }

    private Map<Long, Row> catalogue(String segmentsCsv, String segmentOffersCsv)
            throws IOException {
        String paths = segmentsCsv + "\n" + segmentOffersCsv;
        if (catalogue == null || !paths.equals(cataloguePaths)) {
            catalogue = load(segmentsCsv, segmentOffersCsv);
            cataloguePaths = paths;
        }
        return catalogue;
    }

    private static Map<Long, Row> load(String segmentsCsv, String segmentOffersCsv)
            throws IOException {
        Map<Integer, Row> offerBySegment = new HashMap<>();
        for (Map<String, String> row : readCsv(segmentOffersCsv)) {
            String[] offer = {"segment_id", "offer_code", "message", "discount_pct"};
            requireColumns(segmentOffersCsv, row, offer);
            int segmentId = Integer.parseInt(row.get("segment_id").trim());
            offerBySegment.put(
                    segmentId,
                    Row.of(
                            row.get("offer_code"),
                            row.get("message"),
                            Double.parseDouble(row.get("discount_pct").trim())));
        }
        Map<Long, Row> byCustomer = new HashMap<>();
        for (Map<String, String> row : readCsv(segmentsCsv)) {
            requireColumns(segmentsCsv, row, new String[] {"customer_id", "segment_id", "segment_label"});
            int segmentId = Integer.parseInt(row.get("segment_id").trim());
            Row offer = offerBySegment.get(segmentId);
            if (offer == null) {
                continue;
            }
            byCustomer.put(
                    Long.parseLong(row.get("customer_id").trim()),
                    Row.of(
                            segmentId,
                            row.get("segment_label"),
                            offer.getField(0),
                            offer.getField(1),
                            offer.getField(2)));
        }
        return byCustomer;
    }

    private static List<Map<String, String>> readCsv(String path) throws IOException {
        File file = new File(path);
        if (!file.isFile()) {
            throw new IOException(
                    "CUSTOMER_SEGMENT: " + path + " does not exist; run `python -m segmentation fit`");
        }
        CsvSchema withHeader = CsvSchema.emptySchema().withHeader();
        try (MappingIterator<Map<String, String>> rows =
                new CsvMapper().readerForMapOf(String.class).with(withHeader).readValues(file)) {
            return rows.readAll();
        } catch (RuntimeException error) {
            throw new IOException("CUSTOMER_SEGMENT: cannot read " + path + ": " + error, error);
        }
    }

    private static void requireColumns(String path, Map<String, String> row, String[] columns)
            throws IOException {
        for (String column : columns) {
            String value = row.get(column);
            if (value == null || value.isEmpty()) {
                throw new IOException(
                        "CUSTOMER_SEGMENT: " + path + " has a row without " + column + ": " + row);
            }
        }
    }
}

-- Stage 0: the tables that hold the pipeline's results, declared once for both jobs. The offer
-- job writes them (Kafka topics in transactions committed on checkpoints); the indexer job
-- reads them (committed records only) and keeps the Elasticsearch indices as a view of them
-- (sql/indexer.sql). Kafka is the record: an index can always be rebuilt from the topics.

-- Each table's id is NOT NULL: the indexer's tables take it as their primary key, the document id.

-- offers, keyed by offer_id: what the phones read
CREATE TABLE offers_topic (
    offer_id      STRING NOT NULL,
    customer_id   BIGINT,
    segment_id    INT,
    segment_label STRING,
    offer_code    STRING,
    message       STRING,
    discount_pct  DOUBLE,
    dwell_seconds DOUBLE,
    triggered_at  BIGINT,
    emitted_at    BIGINT,
    campaign      STRING,
    device_id     STRING,
    location      STRING
) WITH (
    ${offers_topic}
);

-- visits near the shop (stage 7), keyed by visit_id (customer@start)
CREATE TABLE visits_topic (
    visit_id      STRING NOT NULL,
    customer_id   BIGINT,
    device_id     STRING,
    zone          STRING,
    visit_start   BIGINT,
    visit_end     BIGINT,
    dwell_seconds DOUBLE,
    ping_count    BIGINT
) WITH (
    ${visits_topic}
);

-- footfall per zone and minute (stage 6), keyed by footfall_id (zone@window_start)
CREATE TABLE footfall_topic (
    footfall_id  STRING NOT NULL,
    zone         STRING,
    window_start BIGINT,
    window_end   BIGINT,
    visitors     BIGINT,
    ping_count   BIGINT
) WITH (
    ${footfall_topic}
);

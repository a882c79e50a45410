-- The indexer job: the result topics (sql/00_result_topics.sql) copied into Elasticsearch.
-- Each document's _id is its record's id, so a record indexed twice (after a restart, which
-- replays from the last checkpoint) overwrites the same document with the same content.
-- While Elasticsearch is away this job fails and restarts with the job's backoff; the offer
-- job, which writes the topics, does not notice.

CREATE TABLE offers_index (
    PRIMARY KEY (offer_id) NOT ENFORCED
) WITH (
    ${offers_index}
) LIKE offers_topic (EXCLUDING OPTIONS);

CREATE TABLE visits_index (
    PRIMARY KEY (visit_id) NOT ENFORCED
) WITH (
    ${visits_index}
) LIKE visits_topic (EXCLUDING OPTIONS);

CREATE TABLE footfall_index (
    PRIMARY KEY (footfall_id) NOT ENFORCED
) WITH (
    ${footfall_index}
) LIKE footfall_topic (EXCLUDING OPTIONS);

INSERT INTO offers_index SELECT * FROM offers_topic;

INSERT INTO visits_index SELECT * FROM visits_topic;

INSERT INTO footfall_index SELECT * FROM footfall_topic;

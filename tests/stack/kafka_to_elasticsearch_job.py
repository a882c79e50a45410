"""A minimal Flink SQL job for the stack test: JSON from a Kafka topic into an ES index."""

from __future__ import annotations

import argparse

from pyflink.table import EnvironmentSettings, TableEnvironment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topic", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--elasticsearch", required=True)
    args, _ = parser.parse_known_args()

    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    # define the source
    table_env.execute_sql(f"""
        CREATE TABLE pings (
            event_id STRING,
            customer_id INT,
            ts BIGINT,
            lat DOUBLE,
            lon DOUBLE
        ) WITH (
            'connector' = 'kafka',
            'topic' = '{args.topic}',
            'properties.bootstrap.servers' = '{args.bootstrap}',
            'properties.group.id' = 'stack-test-{args.topic}',
            'scan.startup.mode' = 'earliest-offset',
            'format' = 'json'
        )
    """)
    # define the sink: the primary key becomes the document id
    table_env.execute_sql(f"""
        CREATE TABLE documents (
            event_id STRING,
            customer_id INT,
            ts BIGINT,
            location ROW<lat DOUBLE, lon DOUBLE>,
            PRIMARY KEY (event_id) NOT ENFORCED
        ) WITH (
            'connector' = 'elasticsearch-7',
            'hosts' = '{args.elasticsearch}',
            'index' = '{args.index}',
            'sink.bulk-flush.max-actions' = '1'
        )
    """)
    table_env.execute_sql(
        "INSERT INTO documents SELECT event_id, customer_id, ts, ROW(lat, lon) FROM pings"
    )


if __name__ == "__main__":
    main()

"""Topics and Elasticsearch index templates and indices that every part expects to exist."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import requests
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import NewTopic

from pizzario import Config
from stack.kafka import kafka_admin

__all__ = ["TEMPLATE_DIR", "create_indices", "create_topics", "index_templates", "topic_plan"]

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "elasticsearch" / "templates"


def topic_plan(config: Config) -> dict[str, int]:
    """Topic name -> partition count.

    Notes
    -----
    The result topics (offers, visits, footfall) take one partition each: a few thousand
    records an evening, written in transactions, and read by one indexer task.
    """
    kafka = config.kafka
    return {
        kafka.ping_topic: kafka.ping_partitions,
        kafka.dead_letter_topic: 1,
        kafka.offer_topic: 1,
        kafka.visits_topic: 1,
        kafka.footfall_topic: 1,
    }


def create_topics(config: Config, timeout_s: float = 30.0) -> list[str]:
    """Create the missing topics (one replica: a single broker); return the ones created.

    Raises
    ------
    confluent_kafka.KafkaException
        When the broker does not answer within timeout_s or refuses a topic.
    """
    admin = kafka_admin(config.kafka.bootstrap, timeout_s, client_id="pizzario-stack-setup")
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    plan = topic_plan(config)
    missing = [
        NewTopic(name, num_partitions=partitions, replication_factor=1)
        for name, partitions in plan.items()
        if name not in existing
    ]
    if not missing:
        return []
    created = []
    futures = admin.create_topics(missing, request_timeout=timeout_s)
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as error:
            # Another process may have created it since the list above.
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            continue
        created.append(name)
        log.info("kafka: created topic %s (%d partitions)", name, plan[name])
    return created


def index_templates(config: Config) -> dict[str, dict]:
    """Index name -> composable index template body, read from stack/elasticsearch/templates."""
    names = (
        config.elasticsearch.offers_index,
        config.elasticsearch.visits_index,
        config.elasticsearch.footfall_index,
    )
    templates = {}
    for template, index in zip(("offers", "visits", "footfall"), names, strict=True):
        body = json.loads((TEMPLATE_DIR / f"{template}.json").read_text())
        # An index renamed in the configuration keeps its mapping.
        body["index_patterns"] = [index, f"{index}-*"]
        templates[index] = body
    return templates


def create_indices(config: Config) -> list[str]:
    """Put the index templates (always, so edits apply) and create missing indices."""
    url = config.elasticsearch.url.rstrip("/")
    created = []
    for index, body in index_templates(config).items():
        response = requests.put(f"{url}/_index_template/pizzario-{index}", json=body, timeout=30)
        if not response.ok:
            raise RuntimeError(
                f"elasticsearch: template for {index} rejected: {response.status_code} "
                f"{response.text[:500]}"
            )
        if requests.head(f"{url}/{index}", timeout=10).status_code == 404:
            response = requests.put(f"{url}/{index}", timeout=30)
            if not response.ok and "resource_already_exists" not in response.text:
                raise RuntimeError(f"elasticsearch: creating {index} failed: {response.text[:500]}")
            created.append(index)
            log.info("elasticsearch: created index %s", index)
    return created

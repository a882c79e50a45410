"""Where records go: Kafka (kafka-python or confluent-kafka) or a JSON-lines file."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

__all__ = [
    "DEFAULT_COMPRESSION",
    "PRODUCER_BACKENDS",
    "ConfluentKafkaSink",
    "FileSink",
    "KafkaPythonSink",
    "Sink",
    "open_kafka_sink",
]

log = logging.getLogger(__name__)
PRODUCER_BACKENDS = ("kafka-python", "confluent-kafka")
# kafka-python frames and sends batches in Python: zstd's smaller batches halve that work
# (bench/simulator_throughput.py measured 16 k -> 34 k records/s); librdkafka compresses in C
# threads that compete with the broker for the cores, so it sends raw.
DEFAULT_COMPRESSION: dict[str, str | None] = {"kafka-python": "zstd", "confluent-kafka": None}


class Sink(Protocol):
    """Accepts records; counts what was delivered and what failed (nothing is dropped silently)."""

    delivered: int
    failed: int
    errors: Counter[str]

    def send(self, key: bytes, value: bytes) -> None: ...

    def send_many(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None: ...

    def close(self) -> None:
        """Flush everything outstanding; afterwards ``delivered + failed`` equals the sends."""


class _Counted:
    """Delivery bookkeeping shared by the sinks."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.delivered = 0
        self.failed = 0
        self.errors: Counter[str] = Counter()

    def send(self, key: bytes, value: bytes) -> None:
        raise NotImplementedError

    def send_many(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None:
        send = self.send
        for key, value in zip(keys, values, strict=True):
            send(key, value)

    def _failed(self, reason: str) -> None:
        self.failed += 1
        self.errors[reason] += 1
        if self.failed <= 5:
            log.error("delivery to %s failed after retries: %s", self.topic, reason)


class FileSink(_Counted):
    """One record value per line; the same bytes that would go to Kafka."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self._handle: IO[bytes] = self.path.open("wb")

    def send(self, key: bytes, value: bytes) -> None:
        self._handle.write(value + b"\n")
        self.delivered += 1

    def close(self) -> None:
        self._handle.close()


class KafkaPythonSink(_Counted):
    """kafka-python producer: acks=all, idempotent, batched; every delivery is accounted for.

    Delivery results arrive on the producer's I/O thread through the future's callbacks; that
    thread is the only writer of the counters.
    """

    def __init__(self, bootstrap: str, topic: str, linger_ms: int, batch_size: int,
                 compression: str | None) -> None:
        from kafka import KafkaProducer

        super().__init__(topic)
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="pizzario-simulator",
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            batch_size=batch_size,
            compression_type=compression,
            # Idempotence keeps order and removes duplicates across these retries.
            max_in_flight_requests_per_connection=5,
            delivery_timeout_ms=120_000,
        )

    def _ok(self, _metadata: object) -> None:
        self.delivered += 1

    def _fail(self, error: BaseException) -> None:
        self._failed(f"{type(error).__name__}: {error}")

    def send(self, key: bytes, value: bytes) -> None:
        future = self._producer.send(self.topic, key=key, value=value)
        future.add_callback(self._ok)
        future.add_errback(self._fail)

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()


class ConfluentKafkaSink(_Counted):
    """confluent-kafka (librdkafka) producer with the same guarantees, for load tests."""

    def __init__(self, bootstrap: str, topic: str, linger_ms: int, batch_size: int,
                 compression: str | None) -> None:
        from confluent_kafka import Producer

        super().__init__(topic)
        self._producer = Producer({
            "bootstrap.servers": bootstrap,
            "client.id": "pizzario-simulator",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": linger_ms,
            "batch.size": batch_size,
            "compression.type": compression or "none",
            "delivery.timeout.ms": 120_000,
            "queue.buffering.max.messages": 1_000_000,
        })
        self._produce = self._producer.produce
        self._since_poll = 0

    def _report(self, error: object, _message: object) -> None:
        if error is None:
            self.delivered += 1
            return
        self._failed(str(error))

    def send(self, key: bytes, value: bytes) -> None:
        while True:
            try:
                self._produce(self.topic, value, key, on_delivery=self._report)
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.05)
        self._since_poll += 1
        if self._since_poll >= 1000:
            self._since_poll = 0
            self._producer.poll(0)

    def send_many(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None:
        # The hot loop of --speed max: locals only, and delivery reports served every 1,000.
        produce, poll, topic, report = self._produce, self._producer.poll, self.topic, self._report
        for index, (key, value) in enumerate(zip(keys, values, strict=True)):
            try:
                produce(topic, value, key, on_delivery=report)
            except BufferError:
                self.send(key, value)
            if not index % 1000:
                poll(0)

    def close(self) -> None:
        deadline = time.monotonic() + 130
        while len(self._producer) and time.monotonic() < deadline:
            self._producer.flush(1.0)
        self._producer.flush(1.0)


def open_kafka_sink(backend: str, bootstrap: str, topic: str, linger_ms: int = 20,
                    batch_size: int = 512 * 1024, compression: str | None = None) -> Sink:
    """A connected producer of the chosen backend (see :data:`PRODUCER_BACKENDS`)."""
    if backend == "kafka-python":
        return KafkaPythonSink(bootstrap, topic, linger_ms, batch_size, compression)
    if backend == "confluent-kafka":
        return ConfluentKafkaSink(bootstrap, topic, linger_ms, batch_size, compression)
    raise ValueError(f"unknown producer backend {backend!r} (expected one of {PRODUCER_BACKENDS})")

"""Where records go: Kafka (kafka-python or confluent-kafka) or a JSON-lines file."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from pizzario.heartbeat import HEARTBEAT_KEY, heartbeat_record

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_COMPRESSION",
    "DELIVERY_TIMEOUT_MS",
    "LIBRDKAFKA_LOGGER",
    "PRODUCER_BACKENDS",
    "ConfluentKafkaSink",
    "FileSink",
    "KafkaPythonSink",
    "KafkaUnavailableError",
    "Sink",
    "open_kafka_sink",
]

log = logging.getLogger(__name__)
PRODUCER_BACKENDS = ("kafka-python", "confluent-kafka")
# kafka-python frames and sends batches in Python: zstd's smaller batches halve that work
# (bench/simulator_throughput.py measured 16 k -> 34 k records/s); librdkafka compresses in C
# threads that compete with the broker for the cores, so it sends raw.
DEFAULT_COMPRESSION: dict[str, str | None] = {"kafka-python": "zstd", "confluent-kafka": None}
# How long a producer may take to reach the broker at start (a stack that is not up fails
# the run at once).
CONNECT_TIMEOUT_S = 10.0
# librdkafka's own log lines go to this Python logger (served by the producer's poll()).
LIBRDKAFKA_LOGGER = f"{__name__}.librdkafka"
# Delivery retries end after this, and kafka-python's send() may block this long on metadata
# or buffer space before the run gives up on Kafka: long enough to ride out a broker restart
# (the local broker is back within about 15 s), short enough that a broker gone for good ends
# the run with its records counted as failed. close() waits a little longer for the last
# reports.
DELIVERY_TIMEOUT_MS = 120_000


class KafkaUnavailableError(RuntimeError):
    """The producer could not reach the broker."""


class Sink(Protocol):
    """Accepts records; counts what was delivered and what failed (nothing is dropped silently)."""

    delivered: int
    failed: int
    errors: Counter[str]
    heartbeats: int
    # Whether the destination's readers need heartbeats for event time to move (a file's
    # reader does not: reaching its end ends event time).
    needs_heartbeats: bool

    def send(self, key: bytes, value: bytes) -> None: ...

    def send_many(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None: ...

    def heartbeat(self, ts_ms: int) -> None:
        """Tell every partition the time (:mod:`pizzario.heartbeat`); not counted as a record."""

    def close(self) -> None:
        """Flush everything outstanding; afterwards ``delivered + failed`` equals the sends."""


class _Counted:
    """Delivery bookkeeping shared by the sinks."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.delivered = 0
        self.failed = 0
        self.errors: Counter[str] = Counter()
        # Heartbeats confirmed by the broker, one per partition and beat; a lost one only
        # delays the watermark until the next, so it is logged, never counted as a failure.
        self.heartbeats = 0
        self.needs_heartbeats = True
        self._partitions: list[int] | None = None

    def heartbeat(self, ts_ms: int) -> None:
        """A file has no partitions, and its reader's end moves event time: nothing to do."""

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
        self.needs_heartbeats = False
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
    thread is the only writer of ``delivered``, and failures from either thread take a lock.
    While the broker restarts, records wait in the producer's buffer and are retried (the
    idempotent producer keeps their order and drops the copies a retry may make). When
    ``send()`` cannot get metadata or buffer space within :data:`DELIVERY_TIMEOUT_MS` (the
    broker went away for good), the sink gives up on Kafka: that record and every later one is
    counted as failed at once, so the run still ends, with its ground truth and summary written.
    """

    def __init__(self, bootstrap: str, topic: str, linger_ms: int, batch_size: int,
                 compression: str | None) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        super().__init__(topic)
        self._kafka_error = KafkaError
        self._gave_up: str | None = None
        self._lock = threading.Lock()
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
            delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
            bootstrap_timeout_ms=round(CONNECT_TIMEOUT_S * 1000),
            max_block_ms=DELIVERY_TIMEOUT_MS,
        )

    def _ok(self, _metadata: object) -> None:
        self.delivered += 1

    def _beat_ok(self, _metadata: object) -> None:
        self.heartbeats += 1

    @staticmethod
    def _beat_lost(error: BaseException) -> None:
        log.warning("a heartbeat was not delivered: %s", _describe(error))

    def heartbeat(self, ts_ms: int) -> None:
        if self._gave_up is not None:
            return
        if self._partitions is None:
            self._partitions = sorted(self._producer.partitions_for(self.topic) or ())
        value = heartbeat_record(ts_ms)
        try:
            for partition in self._partitions:
                future = self._producer.send(self.topic, key=HEARTBEAT_KEY, value=value,
                                             partition=partition)
                future.add_callback(self._beat_ok)
                future.add_errback(self._beat_lost)
        except self._kafka_error as error:
            log.warning("a heartbeat was not sent: %s", _describe(error))

    def _fail(self, error: BaseException) -> None:
        self._failed(_describe(error))

    def _failed(self, reason: str) -> None:
        with self._lock:
            super()._failed(reason)

    def send(self, key: bytes, value: bytes) -> None:
        if self._gave_up is not None:
            self._failed(self._gave_up)
            return
        try:
            future = self._producer.send(self.topic, key=key, value=value)
        except self._kafka_error as error:
            self._gave_up = f"not sent: the producer gave up after {type(error).__name__}"
            log.error("Kafka refused a record (%s); counting the rest of the run as failed",
                      _describe(error))
            self._failed(_describe(error))
            return
        future.add_callback(self._ok)
        future.add_errback(self._fail)

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()


class ConfluentKafkaSink(_Counted):
    """confluent-kafka (librdkafka) producer with the same guarantees, for load tests.

    librdkafka logs through the Python logger :data:`LIBRDKAFKA_LOGGER`.
    """

    def __init__(self, bootstrap: str, topic: str, linger_ms: int, batch_size: int,
                 compression: str | None, *, check_connection: bool = True) -> None:
        """``check_connection=False`` skips asking the broker for metadata at start."""
        from confluent_kafka import KafkaException, Producer

        super().__init__(topic)
        self._accepted = 0
        self._producer = Producer({
            "bootstrap.servers": bootstrap,
            "client.id": "pizzario-simulator",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": linger_ms,
            "batch.size": batch_size,
            "compression.type": compression or "none",
            "delivery.timeout.ms": DELIVERY_TIMEOUT_MS,
            "queue.buffering.max.messages": 1_000_000,
            "logger": logging.getLogger(LIBRDKAFKA_LOGGER),
        })
        try:
            # librdkafka connects lazily and retries for ever: ask for metadata to find out.
            if check_connection:
                self._producer.list_topics(timeout=CONNECT_TIMEOUT_S)
        except KafkaException as error:
            raise KafkaUnavailableError(str(error.args[0].str())) from error
        self._produce = self._producer.produce
        self._since_poll = 0

    def _report(self, error: object, _message: object) -> None:
        if error is None:
            self.delivered += 1
            return
        self._failed(str(error))

    def _beat_report(self, error: object, _message: object) -> None:
        if error is None:
            self.heartbeats += 1
        else:
            log.warning("a heartbeat was not delivered: %s", error)

    def heartbeat(self, ts_ms: int) -> None:
        if self._partitions is None:
            topic = self._producer.list_topics(self.topic, timeout=CONNECT_TIMEOUT_S)
            self._partitions = sorted(topic.topics[self.topic].partitions)
        value = heartbeat_record(ts_ms)
        for partition in self._partitions:
            while True:
                try:
                    self._produce(self.topic, value, HEARTBEAT_KEY, partition=partition,
                                  on_delivery=self._beat_report)
                    break
                except BufferError:
                    self._producer.poll(0.05)

    def send(self, key: bytes, value: bytes) -> None:
        while True:
            try:
                self._produce(self.topic, value, key, on_delivery=self._report)
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.05)
        self._accepted += 1
        self._since_poll += 1
        if self._since_poll >= 1000:
            self._since_poll = 0
            self._producer.poll(0)

    def send_many(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None:
        # The hot loop of --speed max: locals only, and delivery reports served every 1,000.
        produce, poll, topic, report = self._produce, self._producer.poll, self.topic, self._report
        retried = 0
        for index, (key, value) in enumerate(zip(keys, values, strict=True)):
            try:
                produce(topic, value, key, on_delivery=report)
            except BufferError:
                self.send(key, value)
                retried += 1
            if not index % 1000:
                poll(0)
        self._accepted += len(values) - retried

    def close(self) -> None:
        deadline = time.monotonic() + DELIVERY_TIMEOUT_MS / 1000 + 10
        while len(self._producer) and time.monotonic() < deadline:
            self._producer.flush(1.0)
        # Whatever is still queued past the delivery timeout has failed: purge it so that
        # its reports arrive, and count any report that never came.
        self._producer.purge()
        self._producer.flush(1.0)
        unreported = self._accepted - self.delivered - self.failed
        for _ in range(unreported):
            self._failed("still queued when the producer closed")


def _describe(error: BaseException) -> str:
    # kafka-python's errors already start with their class name.
    text, name = str(error), type(error).__name__
    return text if text.startswith(name) else f"{name}: {text}"


def open_kafka_sink(backend: str, bootstrap: str, topic: str, linger_ms: int = 20,
                    batch_size: int = 512 * 1024, compression: str | None = None) -> Sink:
    """A connected producer of the chosen backend (see :data:`PRODUCER_BACKENDS`).

    Raises
    ------
    KafkaUnavailableError
        When the broker does not answer within :data:`CONNECT_TIMEOUT_S`.
    """
    sinks = {"kafka-python": KafkaPythonSink, "confluent-kafka": ConfluentKafkaSink}
    if backend not in sinks:
        raise ValueError(
            f"unknown producer backend {backend!r} (expected one of {PRODUCER_BACKENDS})")
    from kafka.errors import KafkaError

    try:
        return sinks[backend](bootstrap, topic, linger_ms, batch_size, compression)
    except (KafkaUnavailableError, KafkaError) as error:
        raise KafkaUnavailableError(
            f"Kafka at {bootstrap}: cannot connect ({error}); start the local stack with "
            "`make up` and check it with `python -m stack status`") from error

"""One configuration for the whole system, with defaults that run on a laptop.

Every host, port, topic, index, path and business threshold lives here. Programs call
:func:`load_config` once at their entry point; an environment variable named
``PIZZARIO_<SECTION>_<FIELD>`` (for example ``PIZZARIO_KAFKA_BOOTSTRAP`` or
``PIZZARIO_OFFERS_DWELL_THRESHOLD_S``) overrides a default without editing code.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "ClockSettings",
    "Config",
    "ElasticsearchSettings",
    "FlinkSettings",
    "KafkaSettings",
    "OfferSettings",
    "Paths",
    "PipelineSettings",
    "StackSettings",
    "TruthSettings",
    "load_config",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class KafkaSettings:
    """The broker and the topics that the simulator, Flink and the phones share."""

    bootstrap: str = "127.0.0.1:9092"
    controller_port: int = 9093
    ping_topic: str = "mall-pings"
    dead_letter_topic: str = "mall-pings-dlq"
    offer_topic: str = "offers"
    # The offer job's other results. Kafka holds the record of everything the pipeline
    # decided; the Elasticsearch indices are a view of these topics, kept by the indexer job.
    visits_topic: str = "visits"
    footfall_topic: str = "footfall"
    ping_partitions: int = 4

    @property
    def host(self) -> str:
        """Host of the first bootstrap server."""
        return self.bootstrap.split(",", 1)[0].strip().rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """Port of the first bootstrap server."""
        return int(self.bootstrap.split(",", 1)[0].strip().rsplit(":", 1)[1])


@dataclass(frozen=True)
class ElasticsearchSettings:
    """Where offers, visits and footfall are indexed for Kibana."""

    url: str = "http://127.0.0.1:9200"
    offers_index: str = "offers"
    visits_index: str = "visits"
    footfall_index: str = "footfall"
    # Kibana runs only in the Docker Compose stack (docker/compose.yml).
    kibana_url: str = "http://127.0.0.1:5601"

    @property
    def host(self) -> str:
        """Host of the HTTP endpoint."""
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """Port of the HTTP endpoint (9200 when the URL names none)."""
        return urlsplit(self.url).port or 9200


@dataclass(frozen=True)
class FlinkSettings:
    """The standalone Flink cluster the jobs are submitted to."""

    rest_url: str = "http://127.0.0.1:8081"
    parallelism: int = 2
    # Room for two pipelines at the default parallelism side by side (a person's demo job and
    # a test's sandboxed one) plus their Elasticsearch indexers; slots share the TaskManager's
    # heap, so more slots cost no memory until a job uses them.
    task_slots: int = 8
    checkpoint_interval_ms: int = 2_000

    @property
    def rest_host(self) -> str:
        """Host of the REST endpoint (the JobManager binds to it too)."""
        return urlsplit(self.rest_url).hostname or "127.0.0.1"

    @property
    def rest_port(self) -> int:
        """Port of the REST endpoint (8081 when the URL names none)."""
        return urlsplit(self.rest_url).port or 8081


@dataclass(frozen=True)
class OfferSettings:
    """Business defaults of the shipped offer rules (see docs and sql/offer_rules.sql)."""

    campaign: str = "new-pizza-launch"
    dwell_threshold_s: int = 180
    out_of_orderness_s: int = 10
    # A partition without records for this long stops holding the watermark back. The mall
    # gateway's heartbeats (pizzario/heartbeat.py) keep every partition moving, so this only
    # covers a producer that sends no heartbeats. Not a few seconds: a reader that falls that
    # far behind (a busy machine) would be counted idle, the other partitions' watermark would
    # run ahead, and its next pings would be dropped as late: offers would depend on the load.
    source_idle_timeout_s: int = 60
    session_gap_s: int = 120
    footfall_window_s: int = 60
    max_accuracy_m: float = 50.0
    max_clock_skew_s: int = 86_400
    # A ping from the future would drag the watermark ahead and make every honest ping late,
    # so the future side of the clock-skew check is much tighter than the past side.
    max_future_skew_s: int = 300
    # The dwell rule judges where a customer stands from the accuracy-weighted position of
    # their fixes over this many seconds of event time (docs/pipeline.md, "Dwell"): 60 s holds
    # 6 to 20 fixes of a phone pinging every 3 to 10 s, which takes the noise of a 5-20 m fix
    # down to a few metres. A longer window is steadier but lags more: stays are dated at the
    # window's weighted mean time, about half a window back, and end that much late.
    position_window_s: int = 60
    # A stay begins when the weighted position comes this close to the shop's centre. Measured
    # with the simulator's phones (bench/dwell_radii.py): the weighted position of a customer
    # standing in a far corner of the shop (9.5 m out) lies within 20.6 m at 99.9 % of pings,
    # of one browsing 30 m away (the nearest neighbour's spots) beyond 23.6 m at 99 %; at 17 m
    # a stay began in 9 % of 20-minute browses next door and none lasted to an offer (18 m:
    # 12 %), and the larger the radius, the sooner a customer walking in is seen.
    enter_radius_m: float = 17.0
    # ... and ends when it lies farther than this. Above the enter radius, so that the weighted
    # position of a customer at the counter, which wanders by a few metres, does not end and
    # restart a stay, and above the far corner's 20.6 m; at the browsers' 23.6 m, so that a
    # walk next door ends the stay (their weighted position lies beyond 24 m at 98.7 % of
    # pings).
    exit_radius_m: float = 24.0


@dataclass(frozen=True)
class TruthSettings:
    """How the simulator's ground truth judges a stay near the shop on the true path.

    Notes
    -----
    The truth is three-valued so that a trigger working on noisy fixes can be held to it
    exactly (docs/simulator.md derives these from the simulated positioning). A stay is
    ``offer`` when the true position stayed within ``inner_radius_m`` for at least the dwell
    threshold plus ``time_margin_s``, ``no_offer`` when it never stayed within
    ``outer_radius_m`` for longer than the threshold minus the margin, ``either`` otherwise
    (and when the phone fell silent during a dwell that would have been an offer).
    The radii sit one averaging error (the p99 radial error of a 60 s accuracy-weighted mean
    of the fixes, about 10 m) inside and outside the shop's 20 m geofence; the margin is that
    averaging window, by which a smoothed position can start or end a stay early or late.
    """

    inner_radius_m: float = 10.0
    outer_radius_m: float = 30.0
    time_margin_s: float = 60.0
    # A dwell during whose first threshold + margin seconds the phone fell silent for longer
    # than this (a dropout: 20-120 s in the simulator) is "either", not "offer": no trigger
    # sees the customer then. 0 turns the rule off.
    max_silence_s: float = 20.0


@dataclass(frozen=True)
class ClockSettings:
    """What "now" is for the whole product: the wall clock shifted by an offset.

    :mod:`pizzario.clock` reads it; the simulator's default start, the command line's times,
    the ping check of the Flink job and the offers' ``emitted_at`` all take the same offset.
    """

    # Seconds added to the wall clock; 0 in production. Set it to play the mall at another hour
    # (a lunch-time demo at night) or to run the tests at a chosen time of day.
    offset_s: int = 0


@dataclass(frozen=True)
class PipelineSettings:
    """How the Flink SQL pipeline (flink_jobs/) runs: job name, state lifetimes, delivery."""

    job_name: str = "pizzario-offers"
    consumer_group: str = "pizzario-pipeline"
    transactional_id_prefix: str = "pizzario-offers"
    # The frequency cap must remember a customer for a whole day, so state lives a bit longer.
    state_ttl_h: int = 26
    # A job restarts for as long as it takes (a TaskManager coming back, a broker restarting),
    # waiting longer after each failure in a row, up to the maximum.
    restart_initial_delay_s: int = 1
    restart_max_delay_s: int = 30
    savepoint_timeout_s: int = 120


@dataclass(frozen=True)
class StackSettings:
    """Sizes and limits of the local services that ``python -m stack up`` starts."""

    # Elasticsearch 7.17 and Flink 1.20 support Java 17, not the newer JDK a machine may carry.
    java_home: Path = Path("/usr/lib/jvm/java-17-openjdk-amd64")
    kafka_heap_mb: int = 768
    elasticsearch_heap_mb: int = 1024
    flink_jobmanager_memory_mb: int = 1024
    flink_taskmanager_memory_mb: int = 2560
    flink_rpc_port: int = 6123
    # Elasticsearch refuses to run as root; as root, set-up runs it as this system user.
    service_user: str = "pizzario"
    start_timeout_s: int = 180


@dataclass(frozen=True)
class Paths:
    """Files in the repository and folders outside it."""

    repo_root: Path = REPO_ROOT
    data_dir: Path = REPO_ROOT / "data"
    customers_csv: Path = REPO_ROOT / "data" / "pizza_customers.csv"
    segments_csv: Path = REPO_ROOT / "data" / "segments.csv"
    segment_model: Path = REPO_ROOT / "data" / "segment_model.json"
    segment_offers_csv: Path = REPO_ROOT / "data" / "segment_offers.csv"
    mall_json: Path = REPO_ROOT / "data" / "mall.json"
    opt_outs_csv: Path = REPO_ROOT / "data" / "opt_outs.csv"
    sql_dir: Path = REPO_ROOT / "sql"
    offer_rules_sql: Path = REPO_ROOT / "sql" / "offer_rules.sql"
    # Downloads are shared between checkouts; runtime state belongs to this checkout.
    cache_dir: Path = Path.home() / ".cache" / "pizzario"
    state_dir: Path = REPO_ROOT / ".state"
    output_dir: Path = REPO_ROOT / "out"


@dataclass(frozen=True)
class Config:
    """Everything configurable, grouped by the part of the system it concerns."""

    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    elasticsearch: ElasticsearchSettings = field(default_factory=ElasticsearchSettings)
    flink: FlinkSettings = field(default_factory=FlinkSettings)
    offers: OfferSettings = field(default_factory=OfferSettings)
    truth: TruthSettings = field(default_factory=TruthSettings)
    clock: ClockSettings = field(default_factory=ClockSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    stack: StackSettings = field(default_factory=StackSettings)
    paths: Paths = field(default_factory=Paths)


_Section = TypeVar("_Section")


def _coerce(raw: str, current: Any, name: str) -> Any:
    """Turn an environment string into the type of the default it replaces."""
    try:
        if isinstance(current, bool):
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes"}
        if isinstance(current, Path):
            return Path(raw).expanduser()
        return type(current)(raw)
    except ValueError as error:
        raise ValueError(
            f"{name}={raw!r} is not a valid {type(current).__name__}"
        ) from error


def _override(section: _Section, prefix: str, environ: Mapping[str, str]) -> _Section:
    changes = {}
    for item in dataclasses.fields(section):  # type: ignore[arg-type]
        name = f"{prefix}_{item.name}".upper()
        if name in environ:
            changes[item.name] = _coerce(environ[name], getattr(section, item.name), name)
    return dataclasses.replace(section, **changes)  # type: ignore[type-var]


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from the defaults and ``PIZZARIO_*`` environment variables.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read; ``os.environ`` when omitted (tests pass their own).

    Returns
    -------
    Config
        A frozen configuration; an unparsable override raises ``ValueError`` naming it.
    """
    environ = os.environ if environ is None else environ
    defaults = Config()
    return Config(
        **{
            item.name: _override(getattr(defaults, item.name), f"PIZZARIO_{item.name}", environ)
            for item in dataclasses.fields(defaults)
        }
    )

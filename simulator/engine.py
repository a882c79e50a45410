"""The simulation as a stream of ready-to-send records, in send order (pure, no I/O).

Visitors arrive in blocks of simulated time. When block ``[b, b + B)`` has been planned, no
later arrival can ping before ``b + B``, so every ping up to there is known: it is put in
event-time order, faults are applied, and the records due before ``b + B`` are released.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from simulator.agents import (
    Destinations,
    behaviour_for,
    build_trajectory,
    departure_bound_s,
    plan_visit,
)
from simulator.faults import (
    MALFORMED_KINDS,
    RESEND_DELAY_MS,
    FaultCounts,
    FaultRates,
    malformed_value,
)
from simulator.mall import Mall
from simulator.pings import device_for, sample_pings
from simulator.population import UNKNOWN_ID_BASE, Customer, device_id_for
from simulator.truth import StayRule, TruthStay, judge_stays, next_door_stores
from simulator.walkways import WalkGraph

__all__ = [
    "DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN",
    "EVENING_START_MS",
    "FIX_MARGIN_M",
    "FLAT_PROFILE",
    "HOURLY_PROFILE",
    "Batch",
    "Settings",
    "Simulation",
]

# Relative arrival rate by local hour (1.0 = the evening peak). Never zero, so that a run
# started at any hour shows some traffic; the shape follows a typical mall's footfall.
HOURLY_PROFILE = (0.10, 0.08, 0.06, 0.05, 0.05, 0.06, 0.08, 0.12, 0.20, 0.30, 0.45, 0.55,
                  0.75, 0.80, 0.65, 0.60, 0.70, 0.85, 0.95, 1.00, 0.90, 0.65, 0.35, 0.18)
FLAT_PROFILE = (1.0,) * 24
# About 30 % of the population in the mall at the evening peak with ~40-minute visits.
DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN = 0.0075
# The seed's second stream, for the faults (numpy seeds a stream from [seed, FAULT_STREAM]).
FAULT_STREAM = 2
# Unknown visitors' visit numbers start here, apart from the customers' (hex in event ids).
UNKNOWN_VISIT_BASE = 1 << 32
# 2026-11-22 13:00 UTC is 18:30 in Bengaluru, near the evening peak: a reference start for
# reproducible runs (tests, benchmarks).
EVENING_START_MS = 1_795_352_400_000
# Noisy fixes are kept this far inside the map (negative margin) so that rounding cannot push
# them off it: only injected faults are off the map.
FIX_MARGIN_M = -1.0
# Visits are capped so that a run can start with the mall already busy (see warm-up).
MAX_VISIT_S = 2 * 3600.0
# A ping's JSON (DESIGN.md): per visit, the event-id prefix and the customer and device parts
# are formatted once; per ping only the sequence number and the changing fields are. Bytes
# formatting also saves a str.encode per record.
VISIT_ID_TEMPLATE = '{"event_id":"%s-%x-'
VISIT_WHO_TEMPLATE = '","customer_id":%d,"device_id":"%s",'
PING_TEMPLATE = b'%s%x%s"ts":%d,"lat":%.7f,"lon":%.7f,"accuracy_m":%.1f}'



@dataclass(frozen=True)
class Settings:
    """One run: when, how long, how busy, which faults. Equal settings give equal records."""

    start_ms: int
    duration_s: float
    seed: int
    arrivals_per_minute: float
    faults: FaultRates = field(default_factory=FaultRates)
    out_of_orderness_s: float = 10.0
    block_s: float = 60.0
    warm_up: bool = True
    # Relative arrival rate by local hour; a flat profile keeps the peak rate all day.
    hourly_profile: tuple[float, ...] = HOURLY_PROFILE
    # How the ground truth judges a stay near the shop (pizzario.config.TruthSettings).
    truth: StayRule = field(default_factory=StayRule)


@dataclass(frozen=True)
class Batch:
    """Records ready to send, in send order: send time (simulated ms), key and value bytes."""

    send_ms: np.ndarray
    keys: list[bytes]
    values: list[bytes]


class Simulation:
    """Plans visits and yields :class:`Batch` es; ground truth and counts fill in as it runs.

    Parameters
    ----------
    mall : Mall
        The layout.
    customers : sequence of Customer
        The population that may visit (each is at most once in the mall at a time).
    settings : Settings
        Timing, rates and seed.
    """

    def __init__(self, mall: Mall, customers: Sequence[Customer], settings: Settings) -> None:
        self.mall = mall
        self.settings = settings
        self.graph = WalkGraph(mall)
        self.customers = list(customers)
        self.counts = FaultCounts()
        self.truth: list[TruthStay] = []
        # Two random streams: the world (who arrives, where they walk, the fixes' noise) and the
        # faults (unknown visitors, malformed, delayed and resent records). The same seed with
        # and without faults then simulates the same customers doing the same things; only
        # what reaches the pipeline differs.
        self.rng = np.random.default_rng(settings.seed)
        self.fault_rng = np.random.default_rng([settings.seed, FAULT_STREAM])
        self._known_visits = 0
        run_key = f"{settings.seed}:{settings.start_ms}".encode()
        self.event_prefix = hashlib.blake2b(run_key, digest_size=4).hexdigest()
        self._places = Destinations.of(mall)
        self._behaviour = {segment: behaviour_for(score) for segment, score in
                           _segment_spending(self.customers).items()}
        self._unknown_behaviour = behaviour_for(None)
        self._free = list(range(len(self.customers)))
        self._busy: list[tuple[float, int]] = []
        self._visit_head: list[bytes] = []
        self._visit_who: list[bytes] = []
        self._visit_key: list[bytes] = []
        self._visit_span: list[tuple[float, float]] = []
        self._buckets: dict[int, list[tuple[np.ndarray, ...]]] = defaultdict(list)
        self._pending = Batch(np.empty(0, dtype=np.int64), [], [])
        self._clip_xy = mall.bounds_m(margin_m=FIX_MARGIN_M)
        self._shop_xy = mall.projection.to_xy(mall.pizza_shop.lat, mall.pizza_shop.lon)
        self._next_door = next_door_stores(mall)
        self._utc_offset_h = _utc_offset_hours(mall.timezone, settings.start_ms)

    @property
    def start_s(self) -> float:
        return self.settings.start_ms / 1000.0

    @property
    def end_s(self) -> float:
        return self.start_s + self.settings.duration_s

    def active_visitors(self, t_s: float) -> int:
        """How many visitors are in the mall at simulated time ``t_s`` (planned so far)."""
        return sum(1 for arrival, departure in self._visit_span if arrival <= t_s < departure)

    def batches(self) -> Iterator[Batch]:
        """Yield records block by block of simulated time, until the run's end."""
        block_s = self.settings.block_s
        begin = self.start_s - (MAX_VISIT_S if self.settings.warm_up else 0.0)
        block_start = begin
        while block_start < self.end_s:
            block_end = min(block_start + block_s, self.end_s)
            self._plan_block(block_start, block_end)
            if block_end > self.start_s:
                batch = self._release(block_end)
                if batch.values:
                    yield batch
            block_start = block_end
        final = self._release(None)
        if final.values:
            yield final

    # -- planning ---------------------------------------------------------------------------

    def _plan_block(self, block_start: float, block_end: float) -> None:
        settings, rng = self.settings, self.rng
        peak_per_s = settings.arrivals_per_minute / 60.0
        count = rng.poisson(peak_per_s * (block_end - block_start))
        candidates = np.sort(rng.uniform(block_start, block_end, count))
        local_hour = (candidates / 3600.0 + self._utc_offset_h) % 24.0
        profile = settings.hourly_profile
        weight = np.interp(local_hour, np.arange(25), (*profile, profile[0]))
        for arrival_s in candidates[rng.random(count) < weight]:
            self._plan_visit(float(arrival_s), unknown=False)
        # Unknown visitors come on top of the customers, from the fault stream, at the rate
        # that makes them the configured share of all visitors.
        share = settings.faults.unknown
        if share > 0:
            faults = self.fault_rng
            count = faults.poisson(peak_per_s * (block_end - block_start) * share / (1 - share))
            candidates = np.sort(faults.uniform(block_start, block_end, count))
            local_hour = (candidates / 3600.0 + self._utc_offset_h) % 24.0
            weight = np.interp(local_hour, np.arange(25), (*profile, profile[0]))
            for arrival_s in candidates[faults.random(count) < weight]:
                self._plan_visit(float(arrival_s), unknown=True)

    def _plan_visit(self, arrival_s: float, *, unknown: bool) -> None:
        counts = self.counts
        rng = self.fault_rng if unknown else self.rng
        while self._busy and self._busy[0][0] <= arrival_s:
            self._free.append(heapq.heappop(self._busy)[1])
        if unknown:
            customer_index = -1
            customer_id = UNKNOWN_ID_BASE + counts.unknown_visitors
            behaviour = self._unknown_behaviour
        elif self._free:
            slot = int(rng.integers(0, len(self._free)))
            customer_index = self._free[slot]
            self._free[slot] = self._free[-1]
            self._free.pop()
            customer = self.customers[customer_index]
            customer_id = customer.customer_id
            behaviour = self._behaviour[customer.segment_id]
        else:
            counts.skipped_arrivals += 1
            return
        plan = plan_visit(behaviour, self._places, rng, MAX_VISIT_S)
        bound_s = departure_bound_s(plan, self.graph, arrival_s)
        if bound_s <= self.start_s:
            # Left before the run starts: it only matters that this customer was busy.
            if customer_index >= 0:
                heapq.heappush(self._busy, (bound_s, customer_index))
            return
        trajectory = build_trajectory(plan, self.graph, arrival_s, rng)
        departure_s = trajectory.departure_s
        if customer_index >= 0:
            heapq.heappush(self._busy, (departure_s, customer_index))
        if departure_s <= self.start_s:
            return
        counts.visitors += 1
        counts.unknown_visitors += customer_index < 0
        visit = len(self._visit_span)
        # A visit's number in its event ids counts the customers' visits alone, so that the
        # unknown visitors of a faulty run leave the customers' event ids as in a clean run.
        if unknown:
            label = UNKNOWN_VISIT_BASE + counts.unknown_visitors
        else:
            label, self._known_visits = self._known_visits, self._known_visits + 1
        device_id = device_id_for(customer_id)
        self._visit_key.append(str(customer_id).encode())
        self._visit_head.append((VISIT_ID_TEMPLATE % (self.event_prefix, label)).encode())
        self._visit_who.append((VISIT_WHO_TEMPLATE % (customer_id, device_id)).encode())
        self._visit_span.append((arrival_s, departure_s))
        pings = sample_pings(trajectory, device_for(customer_id, device_id),
                             (self.start_s, self.end_s), self._clip_xy, rng)
        for stay in judge_stays(trajectory, self._shop_xy, self.settings.truth,
                                (self.start_s, self.end_s), self._next_door, pings.t_s):
            # A row starts where its dwell began, so that an offer stay reaches the threshold
            # at enter_ts + threshold (a stay that never came within the inner radius: where
            # it entered the outer one).
            enter_s = stay.dwell_start_s if stay.dwell_s > 0 else stay.enter_s
            self.truth.append(TruthStay(
                customer_id, customer_index >= 0, round(enter_s * 1000),
                round(stay.exit_s * 1000), round(stay.dwell_s, 3), stay.kind, stay.expect))
        if not pings.t_s.size:
            return
        ts_ms = np.floor(pings.t_s * 1000.0).astype(np.int64)
        lat, lon = self.mall.projection.to_latlon(pings.x_m, pings.y_m)
        bucket = (ts_ms - self.settings.start_ms) // round(self.settings.block_s * 1000)
        edges = np.flatnonzero(np.diff(bucket)) + 1
        seq = np.arange(ts_ms.size)
        for piece in np.split(np.arange(ts_ms.size), edges):
            self._buckets[int(bucket[piece[0]])].append(
                (ts_ms[piece], np.full(piece.size, visit), seq[piece], lat[piece], lon[piece],
                 pings.accuracy_m[piece]))

    # -- release ----------------------------------------------------------------------------

    def _release(self, until_s: float | None) -> Batch:
        """Records with send time before ``until_s`` (all of them when None)."""
        settings = self.settings
        block_ms = round(settings.block_s * 1000)
        limit_ms = None if until_s is None else round(until_s * 1000)
        ready = sorted(k for k in self._buckets
                       if limit_ms is None or settings.start_ms + (k + 1) * block_ms <= limit_ms)
        parts = [self._pending] + [self._render(self._buckets.pop(k)) for k in ready]
        send_ms = np.concatenate([part.send_ms for part in parts])
        keys = [key for part in parts for key in part.keys]
        values = [value for part in parts for value in part.values]
        order = np.argsort(send_ms, kind="stable")
        cut = order.size if limit_ms is None else int(np.searchsorted(send_ms[order], limit_ms))
        now, later = order[:cut], order[cut:]
        self._pending = Batch(send_ms[later], [keys[i] for i in later], [values[i] for i in later])
        return Batch(send_ms[now], [keys[i] for i in now], [values[i] for i in now])

    def _render(self, pieces: list[tuple[np.ndarray, ...]]) -> Batch:
        """Serialise one bucket of pings in event-time order and inject faults."""
        ts_ms, visit, seq, lat, lon, accuracy = (np.concatenate(column) for column in zip(
            *pieces, strict=True))
        order = np.lexsort((seq, visit, ts_ms))
        ts_ms, visit, seq = ts_ms[order], visit[order], seq[order]
        lat, lon, accuracy = lat[order], lon[order], accuracy[order]
        visits = visit.tolist()
        # Per-visit byte strings are formatted once; per ping only the changing fields are.
        heads, whos, keys = self._visit_head, self._visit_who, self._visit_key
        values = [
            PING_TEMPLATE % (heads[v], s, whos[v], t, la, lo, a)
            for v, s, t, la, lo, a in zip(visits, seq.tolist(), ts_ms.tolist(), lat.tolist(),
                                          lon.tolist(), accuracy.tolist(), strict=True)
        ]
        keys = [keys[v] for v in visits]
        send_ms = self._inject_faults(ts_ms, keys, values)
        return Batch(send_ms, keys, values)

    def _inject_faults(self, ts_ms: np.ndarray, keys: list[bytes], values: list[bytes]
                       ) -> np.ndarray:
        """Replace, delay and resend records in place; returns each record's send time."""
        rates, rng, counts = self.settings.faults, self.fault_rng, self.counts
        n = ts_ms.size
        counts.pings += n
        draws = rng.random((n, 2))
        send_ms = ts_ms.copy()
        malformed = draws[:, 0] < rates.malformed
        for index in np.flatnonzero(malformed).tolist():
            kind = MALFORMED_KINDS[int(rng.integers(0, len(MALFORMED_KINDS)))]
            counts.malformed[kind] += 1
            values[index] = malformed_value(kind, _decode(values[index]), rng)
        # Each well-formed ping suffers at most one of: late, out of order, resent. Keeping
        # them apart makes every fault observable on its own (a resend is out of order too).
        wellformed, fate = ~malformed, draws[:, 1]
        late = wellformed & (fate < rates.late)
        out_of_order = wellformed & (fate >= rates.late) & (fate < rates.late + rates.out_of_order)
        resent = np.flatnonzero(wellformed & (fate >= rates.late + rates.out_of_order)
                                & (fate < rates.late + rates.out_of_order + rates.duplicate))
        watermark_ms = self.settings.out_of_orderness_s * 1000.0
        # Out-of-order records stay within the watermark's allowance; late ones go past it.
        send_ms[out_of_order] += rng.uniform(1000, watermark_ms - 2000,
                                             int(out_of_order.sum())).astype(np.int64)
        send_ms[late] += rng.uniform(watermark_ms + 5000, watermark_ms + 60_000,
                                     int(late.sum())).astype(np.int64)
        counts.out_of_order += int(out_of_order.sum())
        counts.late += int(late.sum())
        counts.duplicate += resent.size
        counts.records += n + resent.size
        if resent.size:
            keys.extend(keys[i] for i in resent.tolist())
            values.extend(values[i] for i in resent.tolist())
            send_ms = np.concatenate([send_ms, send_ms[resent] + rng.integers(
                *RESEND_DELAY_MS, resent.size)])
        return send_ms


def _decode(value: bytes) -> dict[str, object]:
    return json.loads(value)


def _segment_spending(customers: Sequence[Customer]) -> dict[int, float]:
    """Each segment's mean spending score, which drives its members' behaviour."""
    scores: dict[int, list[float]] = defaultdict(list)
    for customer in customers:
        scores[customer.segment_id].append(customer.spending_score)
    return {segment: float(np.mean(values)) for segment, values in scores.items()}


def _utc_offset_hours(timezone: str, at_ms: int) -> float:
    moment = datetime.fromtimestamp(at_ms / 1000.0, tz=UTC).astimezone(ZoneInfo(timezone))
    offset = moment.utcoffset()
    return 0.0 if offset is None else offset.total_seconds() / 3600.0

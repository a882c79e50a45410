from __future__ import annotations

import csv
import itertools
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from simulator import Mall, haversine_m
from simulator.engine import EVENING_START_MS, FLAT_PROFILE, HOURLY_PROFILE, Settings, Simulation
from simulator.faults import FaultRates
from simulator.population import (
    UNKNOWN_ID_BASE,
    load_segments,
    synthesize_customers,
    write_population,
)

FIELDS = {"event_id": str, "customer_id": int, "device_id": str, "ts": int, "lat": float,
          "lon": float, "accuracy_m": float}


def _run(mall: Mall, segments_csv: Path, *, seed: int = 1, duration_s: float = 600,
         arrivals: float = 3.0, faults: FaultRates | None = None,
         customers: int | None = None) -> tuple[Simulation, list[tuple[int, bytes, bytes]]]:
    population = load_segments(segments_csv)
    if customers:
        population = synthesize_customers(population, customers, np.random.default_rng(0))
    simulation = Simulation(mall, population, Settings(
        start_ms=EVENING_START_MS, duration_s=duration_s, seed=seed,
        arrivals_per_minute=arrivals, faults=faults or FaultRates()))
    records = [(int(t), k, v) for batch in simulation.batches()
               for t, k, v in zip(batch.send_ms.tolist(), batch.keys, batch.values, strict=True)]
    return simulation, records


def _valid(value: bytes, mall: Mall) -> dict | None:
    """The pipeline's contract for a ping (DESIGN.md); None for a record it must reject."""
    try:
        ping = json.loads(value)
    except ValueError:
        return None
    for name, kind in FIELDS.items():
        if name not in ping or isinstance(ping[name], bool):
            return None
        if not isinstance(ping[name], kind) and not (kind is float and isinstance(ping[name], int)):
            return None
    return ping if mall.in_bounds(ping["lat"], ping["lon"]) else None


def test_same_seed_same_records_and_another_seed_differs(mall: Mall, segments_csv: Path) -> None:
    _, first = _run(mall, segments_csv, seed=4, faults=FaultRates(0.02, 0.02, 0.02, 0.02, 0.1))
    _, again = _run(mall, segments_csv, seed=4, faults=FaultRates(0.02, 0.02, 0.02, 0.02, 0.1))
    _, other = _run(mall, segments_csv, seed=5, faults=FaultRates(0.02, 0.02, 0.02, 0.02, 0.1))
    assert len(first) > 1000
    assert first == again
    assert first != other


def test_pings_follow_the_contract(mall: Mall, segments_csv: Path) -> None:
    simulation, records = _run(mall, segments_csv)
    pings = [_valid(value, mall) for _, _, value in records]
    assert all(ping is not None for ping in pings)
    assert len({ping["event_id"] for ping in pings}) == len(pings)
    # Keyed by customer_id; one stable device per customer; accuracy indoors 3-100 m.
    assert all(key == str(ping["customer_id"]).encode() for (_, key, _), ping in zip(
        records, pings, strict=True))
    devices = {(ping["customer_id"], ping["device_id"]) for ping in pings}
    assert len(devices) == len({customer for customer, _ in devices})
    accuracy = np.array([ping["accuracy_m"] for ping in pings])
    assert accuracy.min() >= 3 and accuracy.max() <= 100
    assert 5 <= np.median(accuracy) <= 30
    # Without faults the stream is in event-time order and inside the run.
    ts = [ping["ts"] for ping in pings]
    assert ts == sorted(ts)
    assert ts[0] >= EVENING_START_MS and ts[-1] < EVENING_START_MS + 600_000
    assert simulation.counts.records == simulation.counts.pings == len(records)
    # Every device pings every 3-10 s (gaps aside): the median interval tells.
    by_device: dict[str, list[int]] = {}
    for ping in pings:
        by_device.setdefault(ping["device_id"], []).append(ping["ts"])
    intervals = [np.median(np.diff(t)) / 1000 for t in by_device.values() if len(t) > 10]
    assert min(intervals) >= 2.5 and max(intervals) <= 10.5


def _tolerance(n: int, p: float) -> float:
    """Four standard deviations of a binomial count, plus one for rounding."""
    return 4 * math.sqrt(n * p * (1 - p)) + 1


def test_every_fault_appears_at_its_rate_and_is_observable(mall: Mall, segments_csv: Path) -> None:
    rates = FaultRates(duplicate=0.04, out_of_order=0.05, late=0.03, malformed=0.02, unknown=0.2)
    simulation, records = _run(mall, segments_csv, duration_s=1800, arrivals=6.0, faults=rates,
                               customers=400)
    counts = simulation.counts
    n = counts.pings
    assert n > 30_000
    assert abs(counts.malformed_total - n * rates.malformed) <= _tolerance(n, rates.malformed)
    wellformed = n - counts.malformed_total
    for observed, rate in ((counts.duplicate, rates.duplicate), (counts.late, rates.late),
                           (counts.out_of_order, rates.out_of_order)):
        assert abs(observed - wellformed * rate) <= _tolerance(wellformed, rate)
    visitors = counts.visitors
    assert abs(counts.unknown_visitors - visitors * rates.unknown) <= _tolerance(visitors, 0.2)
    assert len(records) == counts.records == n + counts.duplicate

    # What a consumer sees agrees with the counts.
    valid = [(send, _valid(value, mall)) for send, _, value in records]
    assert sum(ping is None for _, ping in valid) == counts.malformed_total
    ids = Counter(ping["event_id"] for _, ping in valid if ping)
    assert sum(seen - 1 for seen in ids.values()) == counts.duplicate
    running_max, late, disordered = 0, 0, 0
    for _, ping in valid:
        if ping is None:
            continue
        lateness_ms = running_max - ping["ts"]
        late += lateness_ms > 10_000
        disordered += 0 < lateness_ms <= 10_000
        running_max = max(running_max, ping["ts"])
    # Only a late ping due after the run's last on-time ping can escape notice.
    assert 0.99 * counts.late <= late <= counts.late
    # A delayed or resent ping is overtaken by others nearly always in this busy a mall.
    assert 0.97 * (counts.out_of_order + counts.duplicate) <= disordered
    assert disordered <= counts.out_of_order + counts.duplicate + (counts.late - late)
    unknown_ids = {ping["customer_id"] for _, ping in valid if ping
                   and ping["customer_id"] >= UNKNOWN_ID_BASE}
    assert 0 < len(unknown_ids) <= counts.unknown_visitors
    kinds = counts.malformed
    assert all(kinds[kind] > 0 for kind in kinds)


def test_truth_stays_are_seen_in_the_pings(mall: Mall, segments_csv: Path) -> None:
    simulation, records = _run(mall, segments_csv, duration_s=1800, arrivals=4.0)
    shop = mall.pizza_shop
    pings_by_customer: dict[int, list[dict]] = {}
    for _, _, value in records:
        ping = json.loads(value)
        pings_by_customer.setdefault(ping["customer_id"], []).append(ping)
    offer_stays = [stay for stay in simulation.truth if stay.expect == "offer"]
    assert len(offer_stays) >= 5
    assert all(stay.known for stay in simulation.truth)
    for stay in offer_stays:
        assert stay.kind == "counter_stop" and stay.dwell_s >= 240
        during = [p for p in pings_by_customer[stay.customer_id]
                  if stay.enter_ts <= p["ts"] <= stay.exit_ts]
        assert len(during) >= stay.dwell_s / 10 * 0.5
        distances = [haversine_m(shop.lat, shop.lon, p["lat"], p["lon"]) for p in during]
        # The fixes are noisy, but their median sits well inside the geofence.
        assert float(np.median(distances)) < shop.geofence_radius_m
    # Walkers past the shop front and people on their way to the stores next door make most
    # of the stays; none of them is an offer.
    kinds = Counter(stay.kind for stay in simulation.truth if stay.expect != "offer")
    assert kinds["walk_past"] > 0 and kinds["browse_next_door"] > 0


def test_synthetic_customers_keep_each_segments_profile(segments_csv: Path, tmp_path: Path
                                                        ) -> None:
    real = load_segments(segments_csv)
    grown = synthesize_customers(real, 5000, np.random.default_rng(2))
    assert len(grown) == 5000 and grown[:60] == real
    assert len({c.customer_id for c in grown}) == 5000
    for segment in (1, 2):
        real_scores = [c.spending_score for c in real if c.segment_id == segment]
        new_scores = [c.spending_score for c in grown[60:] if c.segment_id == segment]
        assert np.mean(new_scores) == pytest.approx(np.mean(real_scores), abs=1.5)
        assert len(new_scores) == pytest.approx(4940 / 2, rel=0.1)
    write_population(tmp_path / "population.csv", grown)
    again = load_segments(tmp_path / "population.csv")
    assert [c.customer_id for c in again] == [c.customer_id for c in grown]
    # The real rows keep the segment table's origin and distance as written; look-alikes are
    # assigned, with no distance.
    with segments_csv.open(newline="") as table, (tmp_path / "population.csv").open(
            newline="") as written:
        table_rows, written_rows = list(csv.DictReader(table)), list(csv.DictReader(written))
    kept = ("customer_id", "segment_origin", "distance_to_centroid")
    assert [[row[k] for k in kept] for row in written_rows[:60]] == [
        [row[k] for k in kept] for row in table_rows]
    assert sum(row["segment_origin"] == "assigned" for row in written_rows[:60]) == 12
    assert written_rows[59]["distance_to_centroid"] == "0.6186"  # 60 / 97
    assert all(row["segment_origin"] == "assigned" and row["distance_to_centroid"] == ""
               for row in written_rows[60:])


def test_a_customer_is_never_in_two_places(mall: Mall, segments_csv: Path) -> None:
    # Demand far above what 60 customers can supply: arrivals are skipped, never doubled.
    simulation, records = _run(mall, segments_csv, duration_s=1800, arrivals=30.0)
    assert simulation.counts.skipped_arrivals > 0
    visits: dict[int, dict[str, list[int]]] = {}
    devices: dict[int, set[str]] = {}
    for _, _, value in records:
        ping = json.loads(value)
        visit = ping["event_id"].split("-")[1]
        visits.setdefault(ping["customer_id"], {}).setdefault(visit, []).append(ping["ts"])
        devices.setdefault(ping["customer_id"], set()).add(ping["device_id"])
    assert all(len(found) == 1 for found in devices.values())
    repeat_visitors = 0
    for by_visit in visits.values():
        spans = sorted((min(ts), max(ts)) for ts in by_visit.values())
        repeat_visitors += len(spans) > 1
        assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans))
    assert repeat_visitors >= 10


@pytest.mark.parametrize(("profile", "night_share"), [(HOURLY_PROFILE, 0.05), (FLAT_PROFILE, 1.0)])
def test_arrivals_follow_the_time_of_day(mall: Mall, segments_csv: Path, profile: tuple,
                                         night_share: float) -> None:
    population = synthesize_customers(load_segments(segments_csv), 5000,
                                      np.random.default_rng(0))

    def arrivals(start_ms: int) -> int:
        simulation = Simulation(mall, population, Settings(
            start_ms=start_ms, duration_s=3600, seed=8, arrivals_per_minute=10.0,
            warm_up=False, hourly_profile=profile))
        for _ in simulation.batches():
            pass
        return simulation.counts.visitors

    hour_ms = 3_600_000
    # Bengaluru is UTC+05:30: 13:00 UTC starts the 18:30-19:30 peak, 22:00 UTC is 03:30-04:30.
    evening, night = arrivals(EVENING_START_MS), arrivals(EVENING_START_MS + 9 * hour_ms)
    evening_weight = np.mean([HOURLY_PROFILE[18], HOURLY_PROFILE[19]]) if night_share < 1 else 1
    # Poisson counts: four standard deviations are four square roots of the expectation.
    for observed, expected in ((evening, 600 * evening_weight), (night, 600 * night_share)):
        assert abs(observed - expected) <= 4 * math.sqrt(expected) + 1


def test_faults_change_what_is_sent_not_what_the_customers_do(mall: Mall, segments_csv: Path
                                                              ) -> None:
    clean_sim, clean = _run(mall, segments_csv, seed=6, duration_s=1200, arrivals=4.0)
    faulty_sim, faulty = _run(mall, segments_csv, seed=6, duration_s=1200, arrivals=4.0,
                              faults=FaultRates(0.05, 0.05, 0.02, 0.02, 0.2))
    known = [stay for stay in faulty_sim.truth if stay.known]
    # the same customers in the same places at the same times, event ids included
    assert known == clean_sim.truth
    assert len(faulty_sim.truth) > len(known)  # and unknown visitors besides
    sent_by_customers = {value for _, key, value in clean}
    faulty_customers = [value for _, key, value in faulty
                        if int(key) < UNKNOWN_ID_BASE and _valid(value, mall) is not None]
    # every well-formed record of a customer is one the clean run sent, byte for byte
    assert set(faulty_customers) <= sent_by_customers
    counts = faulty_sim.counts
    assert counts.duplicate > 0 and counts.malformed_total > 0 and counts.unknown_visitors > 0
    # what is missing is what the faults replaced with malformed records
    missing = len(sent_by_customers - set(faulty_customers))
    assert 0 < missing <= counts.malformed_total

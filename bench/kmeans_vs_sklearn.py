"""Our NumPy k-means against scikit-learn's, side by side, each fit in its own process.

Run: ``.venv/bin/python bench/kmeans_vs_sklearn.py`` (about 5-10 minutes on 2 cores).

For every size and k, both implementations fit the same synthetic data (k Gaussian blobs in
5 dimensions, generated from a seed inside each worker, untimed) with the same n_init. The
runs alternate (ours, theirs, theirs, ours, ...) so that a change in machine load hits both
sides alike, and the table reports medians of wall time, the time ratio (ours / theirs; below
1 means ours is faster), the inertia ratio (both inertias recomputed here, in float64, from
the centres each side returned) and the spread of the runs as a measure of noise. The BLAS
and its kernel (threadpoolctl) are printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_FEATURES = 5
# Variables that pin OpenBLAS's kernel and cache size on this machine; --native-blas removes
# them from both sides' environments so that OpenBLAS detects the CPU itself.
OPENBLAS_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def make_blobs(n_samples: int, n_clusters: int, seed: int, noise: float) -> np.ndarray:
    """k Gaussian blobs (standard deviation ``noise``) around centres drawn in [-10, 10]^5."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(n_clusters, N_FEATURES))
    X = rng.normal(scale=noise, size=(n_samples, N_FEATURES))
    X += centres[rng.integers(0, n_clusters, size=n_samples)]
    return X


def inertia_float64(X: np.ndarray, centres: np.ndarray, chunk_rows: int = 65_536) -> float:
    """Sum of squared distances to the nearest centre, computed the same way for both sides."""
    centres = centres.astype(np.float64)
    total = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        block = X[start : start + chunk_rows]
        squared = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        total += float(squared.min(axis=1).sum())
    return total


def run_worker(side: str, n_samples: int, n_clusters: int, args: argparse.Namespace) -> None:
    """Fit once and print one JSON line: wall and CPU seconds, inertia, iterations, BLAS."""
    from threadpoolctl import threadpool_info

    if side == "ours":
        from segmentation.kmeans import KMeans
    else:
        from sklearn.cluster import KMeans  # type: ignore[assignment]
    X = make_blobs(n_samples, n_clusters, args.seed, args.noise)
    model = KMeans(n_clusters, n_init=args.n_init, random_state=args.seed)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    model.fit(X)
    wall_s, cpu_s = time.perf_counter() - wall_start, time.process_time() - cpu_start
    blas = [
        {key: info.get(key) for key in ("internal_api", "version", "architecture",
                                        "num_threads", "filepath")}
        for info in threadpool_info()
    ]
    print(json.dumps({
        "wall_s": wall_s, "cpu_s": cpu_s, "n_iter": int(model.n_iter_),
        "inertia": inertia_float64(X, model.cluster_centers_), "blas": blas,
    }))


def _spawn(side: str, n_samples: int, n_clusters: int, args: argparse.Namespace,
           environment: dict[str, str]) -> dict:
    command = [sys.executable, __file__, "--worker", side, "--n", str(n_samples),
               "--k", str(n_clusters), "--n-init", str(args.n_init), "--seed", str(args.seed),
               "--noise", str(args.noise)]
    result = subprocess.run(command, capture_output=True, text=True, env=environment,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"{side} worker failed (n={n_samples}, k={n_clusters}):\n"
                         f"{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _print_blas(sample: dict, side: str) -> None:
    for info in sample["blas"]:
        print(f"  {side:7s} {info['internal_api']} {info['version'] or ''} "
              f"kernel={info['architecture'] or '-'} threads={info['num_threads']} "
              f"({Path(info['filepath']).name})")


def run_benchmark(args: argparse.Namespace) -> None:
    """Alternate the two sides over sizes and k, then print the table of medians."""
    environment = dict(os.environ)
    repo_root = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [repo_root, environment.get("PYTHONPATH")]))
    if args.native_blas:
        for name in OPENBLAS_PINS:
            environment.pop(name, None)
    pins = {name: environment.get(name) for name in OPENBLAS_PINS}
    print(f"k-means benchmark: n_init={args.n_init}, {N_FEATURES} features, blobs with "
          f"noise {args.noise}, "
          f"{args.repeats} alternating runs per side, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}")
    print(f"OpenBLAS pins in the workers' environment: {pins}")
    header = (f"{'rows':>9} {'k':>2} | {'ours s':>7} {'sklearn s':>9} | {'time ratio':>10} "
              f"{'cpu ratio':>9} | {'inertia ratio':>13} | {'iters':>9} | spread o/s")
    printed_blas = False
    rows = []
    for n_samples in args.sizes:
        for n_clusters in args.ks:
            runs: dict[str, list[dict]] = {"ours": [], "sklearn": []}
            for repeat in range(args.repeats):
                order = ("ours", "sklearn") if repeat % 2 == 0 else ("sklearn", "ours")
                for side in order:
                    runs[side].append(_spawn(side, n_samples, n_clusters, args, environment))
            if not printed_blas:
                print("BLAS in use:")
                _print_blas(runs["ours"][0], "ours")
                _print_blas(runs["sklearn"][0], "sklearn")
                print(header)
                printed_blas = True
            rows.append(_summarise(n_samples, n_clusters, runs))
            print(rows[-1]["line"], flush=True)
    time_ratios = [row["time_ratio"] for row in rows]
    inertia_ratios = [row["inertia_ratio"] for row in rows]
    print(f"time ratio (ours/sklearn): median {statistics.median(time_ratios):.2f}, "
          f"worst {max(time_ratios):.2f}; inertia ratio: worst {max(inertia_ratios):.8f}; "
          f"load average at end {os.getloadavg()[0]:.1f}")


def _summarise(n_samples: int, n_clusters: int, runs: dict[str, list[dict]]) -> dict:
    def median(side: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[side])

    def spread(side: str) -> float:
        walls = [run["wall_s"] for run in runs[side]]
        return max(walls) / min(walls)

    time_ratio = median("ours", "wall_s") / median("sklearn", "wall_s")
    cpu_ratio = median("ours", "cpu_s") / median("sklearn", "cpu_s")
    inertia_ratio = median("ours", "inertia") / median("sklearn", "inertia")
    iterations = f"{runs['ours'][0]['n_iter']}/{runs['sklearn'][0]['n_iter']}"
    line = (f"{n_samples:>9} {n_clusters:>2} | {median('ours', 'wall_s'):>7.3f} "
            f"{median('sklearn', 'wall_s'):>9.3f} | {time_ratio:>10.2f} {cpu_ratio:>9.2f} | "
            f"{inertia_ratio:>13.8f} | {iterations:>9} | "
            f"{spread('ours'):.2f}/{spread('sklearn'):.2f}")
    return {"time_ratio": time_ratio, "inertia_ratio": inertia_ratio, "line": line}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(float(v)) for v in s.split(",")],
                        default=[100_000, 1_000_000], help="rows, comma-separated")
    parser.add_argument("--ks", type=lambda s: [int(v) for v in s.split(",")],
                        default=[4, 5, 6, 7, 8], help="numbers of clusters, comma-separated")
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="runs per side and case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=4.0,
                        help="standard deviation of each blob (centres lie in [-10, 10]^5; "
                        "4 overlaps neighbours, 10 leaves almost no structure)")
    parser.add_argument("--native-blas", action="store_true",
                        help=f"unset {', '.join(OPENBLAS_PINS)} in both sides' workers")
    parser.add_argument("--worker", choices=["ours", "sklearn"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    arguments = _parser().parse_args()
    if arguments.worker:
        run_worker(arguments.worker, arguments.n, arguments.k, arguments)
    else:
        run_benchmark(arguments)

"""Our NumPy k-means against scikit-learn's, side by side, each fit in its own process.

Run: ``.venv/bin/python bench/kmeans_vs_sklearn.py`` (about 30 minutes on 2 cores; use
``--sizes 1e5`` for a few minutes).

For every size and k, three fits run on the same synthetic data (10 Gaussian blobs of uneven
sizes in 5 dimensions, from a fixed data seed whatever k is, generated inside each worker,
untimed) with the same n_init: ours, scikit-learn at its default ``tol=1e-4``, and
scikit-learn at ``tol=0``. The last is the fair reference for large inputs, where ours
iterates its best run until the labels stop changing. Repeat r uses ``random_state=r`` on every
side, and the order of the sides rotates between repeats so that a change in machine load hits
all alike. The table reports medians of wall time, time ratios (ours / theirs; below 1 means
ours is faster) and the worst inertia ratio over the repeats (ours / theirs at the same
random_state; both inertias recomputed here, in float64, from the centres each side returned).
The BLAS and its kernel (threadpoolctl) are printed first; each row ends with the 1-minute
load average when its case finished.
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
N_BLOBS = 10
SIDES = ("ours", "sklearn", "sklearn_tol0")
# Variables that pin OpenBLAS's kernel and cache size on this machine; --native-blas removes
# them from both sides' environments so that OpenBLAS detects the CPU itself.
OPENBLAS_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def make_blobs(n_samples: int, seed: int, noise: float) -> np.ndarray:
    """10 Gaussian blobs (standard deviation ``noise``) around centres drawn in [-10, 10]^5.

    Blob i holds a share proportional to i + 1 of the rows (1/55 to 10/55), so the clusters
    are of uneven sizes, and the data do not depend on the k being fitted.
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(N_BLOBS, N_FEATURES))
    shares = np.arange(1, N_BLOBS + 1) / np.arange(1, N_BLOBS + 1).sum()
    X = rng.normal(scale=noise, size=(n_samples, N_FEATURES))
    X += centres[rng.choice(N_BLOBS, size=n_samples, p=shares)]
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
    """Fit once and print one JSON line: wall and CPU seconds, inertia, BLAS."""
    from threadpoolctl import threadpool_info

    X = make_blobs(n_samples, args.seed, args.noise)
    if side == "ours":
        from segmentation.kmeans import KMeans

        model = KMeans(n_clusters, n_init=args.n_init, random_state=args.random_state)
    else:
        from sklearn.cluster import KMeans as SklearnKMeans

        tol = 0.0 if side == "sklearn_tol0" else 1e-4
        model = SklearnKMeans(
            n_clusters, n_init=args.n_init, random_state=args.random_state, tol=tol
        )
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    model.fit(X)
    wall_s, cpu_s = time.perf_counter() - wall_start, time.process_time() - cpu_start
    blas = [
        {
            key: info.get(key)
            for key in ("internal_api", "version", "architecture", "num_threads", "filepath")
        }
        for info in threadpool_info()
    ]
    print(
        json.dumps(
            {
                "wall_s": wall_s,
                "cpu_s": cpu_s,
                "inertia": inertia_float64(X, model.cluster_centers_),
                "blas": blas,
            }
        )
    )


def _spawn(
    side: str,
    n_samples: int,
    n_clusters: int,
    random_state: int,
    args: argparse.Namespace,
    environment: dict[str, str],
) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        side,
        "--n",
        str(n_samples),
        "--k",
        str(n_clusters),
        "--n-init",
        str(args.n_init),
        "--seed",
        str(args.seed),
        "--noise",
        str(args.noise),
        "--random-state",
        str(random_state),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{side} worker failed (n={n_samples}, k={n_clusters}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _print_blas(sample: dict, side: str) -> None:
    for info in sample["blas"]:
        print(
            f"  {side:7s} {info['internal_api']} {info['version'] or ''} "
            f"kernel={info['architecture'] or '-'} threads={info['num_threads']} "
            f"({Path(info['filepath']).name})"
        )


def run_benchmark(args: argparse.Namespace) -> None:
    """Alternate the two sides over sizes and k, then print the table of medians."""
    environment = dict(os.environ)
    repo_root = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [repo_root, environment.get("PYTHONPATH")])
    )
    if args.native_blas:
        for name in OPENBLAS_PINS:
            environment.pop(name, None)
    pins = {name: environment.get(name) for name in OPENBLAS_PINS}
    print(
        f"k-means benchmark: n_init={args.n_init}, {N_FEATURES} features, {N_BLOBS} blobs "
        f"of uneven sizes with noise {args.noise}, data seed {args.seed}, "
        f"random_state 0..{args.repeats - 1} (one per repeat), "
        f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}"
    )
    print(f"OpenBLAS pins in the workers' environment: {pins}")
    print(
        "s = median wall seconds; t/ = time ratio ours/theirs; worst I/ = largest inertia "
        "ratio ours/theirs over the repeats (sk = tol 1e-4, sk0 = tol 0)"
    )
    header = (
        f"{'rows':>9} {'k':>2} | {'ours s':>7} {'sk s':>7} {'sk0 s':>7} | "
        f"{'t/sk':>5} {'t/sk0':>5} | {'worst I/sk':>10} {'worst I/sk0':>11} | "
        f"spread o/sk/sk0 | load"
    )
    printed_blas = False
    rows = []
    for n_samples in args.sizes:
        for n_clusters in args.ks:
            runs: dict[str, list[dict]] = {side: [] for side in SIDES}
            for repeat in range(args.repeats):
                shift = repeat % len(SIDES)
                for side in SIDES[shift:] + SIDES[:shift]:
                    runs[side].append(
                        _spawn(side, n_samples, n_clusters, repeat, args, environment)
                    )
            if not printed_blas:
                print("BLAS in use:")
                _print_blas(runs["ours"][0], "ours")
                _print_blas(runs["sklearn"][0], "sklearn")
                print(header)
                printed_blas = True
            rows.append(_summarise(n_samples, n_clusters, runs))
            print(rows[-1]["line"], flush=True)
    for reference in ("sklearn", "sklearn_tol0"):
        time_ratios = [row["time_ratio"][reference] for row in rows]
        inertia_ratios = [row["inertia_ratio"][reference] for row in rows]
        print(
            f"vs {reference}: time ratio median {statistics.median(time_ratios):.2f}, "
            f"worst {max(time_ratios):.2f}; inertia ratio worst {max(inertia_ratios):.8f}"
        )
    print(f"load average at end {os.getloadavg()[0]:.1f}")


def _summarise(n_samples: int, n_clusters: int, runs: dict[str, list[dict]]) -> dict:
    def median(side: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[side])

    def spread(side: str) -> float:
        walls = [run["wall_s"] for run in runs[side]]
        return max(walls) / min(walls)

    time_ratio, inertia_ratio = {}, {}
    for reference in ("sklearn", "sklearn_tol0"):
        time_ratio[reference] = median("ours", "wall_s") / median(reference, "wall_s")
        # Same random_state on both sides of each pair; the worst pair is reported.
        inertia_ratio[reference] = max(
            ours["inertia"] / theirs["inertia"]
            for ours, theirs in zip(runs["ours"], runs[reference], strict=True)
        )
    line = (
        f"{n_samples:>9} {n_clusters:>2} | {median('ours', 'wall_s'):>7.2f} "
        f"{median('sklearn', 'wall_s'):>7.2f} {median('sklearn_tol0', 'wall_s'):>7.2f} | "
        f"{time_ratio['sklearn']:>5.2f} {time_ratio['sklearn_tol0']:>5.2f} | "
        f"{inertia_ratio['sklearn']:>10.6f} {inertia_ratio['sklearn_tol0']:>11.6f} | "
        f"{spread('ours'):.2f}/{spread('sklearn'):.2f}/{spread('sklearn_tol0'):.2f} | "
        f"{os.getloadavg()[0]:.1f}"
    )
    return {"time_ratio": time_ratio, "inertia_ratio": inertia_ratio, "line": line}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(float(v)) for v in s.split(",")],
        default=[100_000, 1_000_000],
        help="rows, comma-separated",
    )
    parser.add_argument(
        "--ks",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[4, 5, 6, 7, 8],
        help="numbers of clusters, comma-separated",
    )
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs per side and case; repeat r uses random_state=r",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data (fixed)")
    parser.add_argument(
        "--noise",
        type=float,
        default=10.0,
        help="standard deviation of each blob (centres lie in [-10, 10]^5; "
        "4 overlaps neighbours, 10 leaves little structure)",
    )
    parser.add_argument(
        "--native-blas",
        action="store_true",
        help=f"unset {', '.join(OPENBLAS_PINS)} in both sides' workers",
    )
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--random-state", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    arguments = _parser().parse_args()
    if arguments.worker:
        run_worker(arguments.worker, arguments.n, arguments.k, arguments)
    else:
        run_benchmark(arguments)

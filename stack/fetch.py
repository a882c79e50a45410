"""``python -m stack fetch``: download Kafka, Elasticsearch and the Flink connector jars.

Maven resolves each profile of stack/maven/pom.xml into the cache; a stamp file per profile
records which version of the pom filled it, so a second fetch downloads nothing and does
not even start Maven. Maven also builds the pipeline's own SQL functions (flink_jobs/java),
stamped by a digest of their sources. The Flink jars are then installed into PyFlink's own
lib/, the single place the standalone cluster, ``flink run`` and any local mini cluster all
read.
"""

from __future__ import annotations

import filecmp
import hashlib
import logging
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from stack.layout import Layout, pyflink_home

__all__ = [
    "FUNCTIONS_PROJECT",
    "FetchError",
    "build_functions",
    "fetch",
    "functions_digest",
    "install_flink_jars",
    "is_fetched",
]

log = logging.getLogger(__name__)

_STAMP = ".fetched"
# Written into pyflink/lib so a later fetch can remove jars the pom no longer lists.
_MANIFEST = ".pizzario-jars"
# The Maven project of the pipeline's own Flink SQL functions.
FUNCTIONS_PROJECT = Path(__file__).resolve().parents[1] / "flink_jobs" / "java"


class FetchError(RuntimeError):
    """A download or unpack step failed; the message names the step and what to check."""


def _stamp_ok(folder: Path, digest: str) -> bool:
    stamp = folder / _STAMP
    return stamp.is_file() and stamp.read_text().strip() == digest


def _destinations(layout: Layout) -> dict[str, Path]:
    return {
        "flink-lib": layout.flink_lib_cache,
        "kafka": layout.kafka_libs,
        "elasticsearch": layout.elasticsearch_download,
    }


def functions_digest(project: Path = FUNCTIONS_PROJECT) -> str:
    """Digest of the functions project's pom and sources (code and resources): a change means a
    rebuild."""
    digest = hashlib.sha256()
    sources = (path for path in (project / "src").rglob("*") if path.is_file())
    for path in sorted([project / "pom.xml", *sources]):
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def is_fetched(layout: Layout) -> bool:
    """True when every profile is in the cache and the connector jars are in pyflink/lib."""
    return (
        all(
            _stamp_ok(folder, layout.pom.profile_digest(profile))
            for profile, folder in _destinations(layout).items()
        )
        and _stamp_ok(layout.flink_functions_cache, functions_digest())
        and (layout.elasticsearch_dist / "bin" / "elasticsearch").is_file()
        and not _missing_flink_jars(layout, pyflink_home() / "lib")
    )


def _run_maven(step: str, arguments: list[str], java_home: Path | None) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise FetchError("fetch: Maven (mvn) is not on PATH; install it (apt-get install maven)")
    command = [mvn, "-B", *arguments]
    env = dict(os.environ)
    if java_home is not None:
        env["JAVA_HOME"] = str(java_home)
    log.info("fetch %s: mvn %s", step, " ".join(arguments[2:]))
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        line = line.rstrip()
        tail = [*tail[-30:], line]
        # Maven's own progress: one line per downloaded file.
        if line.startswith("Downloaded from") or "[ERROR]" in line:
            log.info("  %s", line)
    if process.wait() != 0:
        raise FetchError(
            f"fetch {step}: Maven failed (exit {process.returncode}); last lines:\n"
            + "\n".join(tail)
        )


def _copy_profile(profile: str, destination: Path, pom: Path, java_home: Path | None) -> None:
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    arguments = [
        "-f", str(pom), "-P", profile,
        "dependency:copy-dependencies", f"-DoutputDirectory={destination}",
    ]  # fmt: skip
    _run_maven(profile, arguments, java_home)


def build_functions(
    layout: Layout, java_home: Path | None = None, project: Path = FUNCTIONS_PROJECT
) -> Path:
    """Build the pipeline's SQL functions jar into the cache unless its sources are unchanged.

    Parameters
    ----------
    layout : Layout
        Where the built jar goes (``layout.flink_functions_cache``).
    java_home : Path, optional
        JDK for Maven and the compiler.
    project : Path
        The Maven project (flink_jobs/java).

    Returns
    -------
    Path
        The jar.
    """
    folder = layout.flink_functions_cache
    digest = functions_digest(project)
    built = not _stamp_ok(folder, digest)
    if built:
        if folder.exists():
            shutil.rmtree(folder)
        build_dir = folder / "build"
        arguments = [
            "-f", str(project / "pom.xml"), "-q", "package", f"-Dfunctions.build.dir={build_dir}",
        ]  # fmt: skip
        _run_maven("flink-functions", arguments, java_home)
        for jar in build_dir.glob("*.jar"):
            shutil.copy2(jar, folder / jar.name)
        shutil.rmtree(build_dir)
        (folder / _STAMP).write_text(digest + "\n")
    jars = sorted(folder.glob("*.jar"))
    if len(jars) != 1:
        raise FetchError(f"fetch flink-functions: expected one jar in {folder}, found {len(jars)}")
    if built:
        log.info("fetch flink-functions: built %s", jars[0].name)
    return jars[0]


def _unpack_zip(archive: Path, target_parent: Path) -> None:
    """Unpack keeping the executable bits (zipfile alone drops them)."""
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            path = Path(bundle.extract(member, target_parent))
            mode = (member.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)


def _unpack_elasticsearch(layout: Layout) -> None:
    zips = sorted(layout.elasticsearch_download.glob("elasticsearch-*.zip"))
    if not zips:
        raise FetchError(f"fetch elasticsearch: no zip in {layout.elasticsearch_download}")
    if layout.elasticsearch_dist.exists():
        shutil.rmtree(layout.elasticsearch_dist)
    log.info("fetch elasticsearch: unpacking %s", zips[0].name)
    try:
        _unpack_zip(zips[0], layout.elasticsearch_dist.parent)
    except zipfile.BadZipFile as error:  # a truncated download; fetch again replaces it
        raise FetchError(f"fetch elasticsearch: {zips[0]} is not a valid zip: {error}") from error
    if not (layout.elasticsearch_dist / "bin" / "elasticsearch").is_file():
        raise FetchError(
            f"fetch elasticsearch: {zips[0]} did not unpack to {layout.elasticsearch_dist}"
        )


def _fetched_flink_jars(layout: Layout) -> list[Path]:
    jars = [*layout.flink_lib_cache.glob("*.jar"), *layout.flink_functions_cache.glob("*.jar")]
    return sorted(jars, key=lambda jar: jar.name)


def _missing_flink_jars(layout: Layout, lib: Path) -> list[Path]:
    """Fetched jars absent from (or different in) lib; a placeholder when none were fetched."""
    jars = _fetched_flink_jars(layout)
    if not jars:
        return [layout.flink_lib_cache / "<none fetched>"]
    # A rebuilt functions jar can keep its size, so compare contents when size or time differ.
    return [
        jar
        for jar in jars
        if not (lib / jar.name).is_file() or not filecmp.cmp(jar, lib / jar.name, shallow=True)
    ]


def install_flink_jars(layout: Layout, lib: Path | None = None) -> list[str]:
    """Copy the fetched Flink jars into pyflink/lib and drop ones the pom no longer lists.

    Parameters
    ----------
    layout : Layout
        Where the fetched jars are.
    lib : Path, optional
        The target lib/ folder; PyFlink's own by default.

    Returns
    -------
    list of str
        Names of the jars copied now (empty when all were already there).
    """
    lib = lib or pyflink_home() / "lib"
    wanted = {jar.name: jar for jar in _fetched_flink_jars(layout)}
    manifest = lib / _MANIFEST
    previous = set(manifest.read_text().split()) if manifest.is_file() else set()
    for stale in sorted(previous - set(wanted)):
        (lib / stale).unlink(missing_ok=True)
        log.info("fetch flink-lib: removed %s from %s", stale, lib)
    copied = []
    for jar in _missing_flink_jars(layout, lib):
        if jar.is_file():
            # Beside it, then renamed over it: a running Flink process keeps reading the jar it
            # opened, where copying onto it would rewrite the bytes under that process.
            partial = lib / f".{jar.name}.partial"
            shutil.copy2(jar, partial)
            partial.replace(lib / jar.name)
            copied.append(jar.name)
    manifest.write_text("\n".join(sorted(wanted)) + "\n")
    if copied:
        log.info("fetch flink-lib: installed %d jars into %s", len(copied), lib)
    return copied


def fetch(layout: Layout, java_home: Path | None = None) -> float:
    """Resolve every profile that is missing or stale, unpack Elasticsearch, install jars.

    Parameters
    ----------
    layout : Layout
        Cache and pom to use.
    java_home : Path, optional
        JDK for Maven itself.

    Returns
    -------
    float
        Seconds spent (near zero when everything was present).
    """
    started = time.monotonic()
    for profile, folder in _destinations(layout).items():
        digest = layout.pom.profile_digest(profile)
        if _stamp_ok(folder, digest):
            log.info("fetch %s: present in %s", profile, folder)
            continue
        _copy_profile(profile, folder, layout.pom.path, java_home)
        if profile == "elasticsearch":
            _unpack_elasticsearch(layout)
        (folder / _STAMP).write_text(digest + "\n")
        log.info("fetch %s: %d files in %s", profile, len(list(folder.iterdir())) - 1, folder)
    if not (layout.elasticsearch_dist / "bin" / "elasticsearch").is_file():
        _unpack_elasticsearch(layout)
    build_functions(layout, java_home)
    install_flink_jars(layout)
    return time.monotonic() - started

"""Read versions and artifacts from the project's Maven descriptor (stack/maven/pom.xml)."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

__all__ = ["POM_PATH", "Artifact", "Pom", "read_pom"]

POM_PATH = Path(__file__).resolve().parent / "maven" / "pom.xml"
_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
_PROPERTY = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Artifact:
    """One dependency of a profile, with its properties substituted."""

    group_id: str
    artifact_id: str
    version: str
    packaging: str = "jar"

    @property
    def file_name(self) -> str:
        """The name ``dependency:copy-dependencies`` gives the copied file."""
        return f"{self.artifact_id}-{self.version}.{self.packaging}"


@dataclass(frozen=True)
class Pom:
    """The parts of the descriptor that the Python side needs."""

    path: Path
    properties: dict[str, str]
    profiles: dict[str, tuple[Artifact, ...]]
    digest: str

    def profile_digest(self, profile: str) -> str:
        """A fingerprint of one profile, so a changed list is fetched again."""
        text = "\n".join(
            f"{a.group_id}:{a.artifact_id}:{a.version}:{a.packaging}"
            for a in self.profiles[profile]
        )
        return hashlib.sha1(f"{profile}\n{text}\n{self.digest}".encode()).hexdigest()[:16]


def _substitute(text: str, properties: dict[str, str]) -> str:
    return _PROPERTY.sub(lambda match: properties.get(match.group(1), match.group(0)), text)


def _text(element: ET.Element, tag: str, default: str = "") -> str:
    child = element.find(f"m:{tag}", _NS)
    return (child.text or "").strip() if child is not None else default


def read_pom(path: Path = POM_PATH) -> Pom:
    """Parse the descriptor's properties and each profile's dependencies.

    Parameters
    ----------
    path : Path
        The pom.xml; the project's own by default.

    Returns
    -------
    Pom
        Properties (global and per-profile merged into the artifacts' versions), the
        artifacts of every profile, and a digest of the whole file.
    """
    raw = path.read_bytes()
    root = ET.fromstring(raw)
    properties: dict[str, str] = {}
    props = root.find("m:properties", _NS)
    if props is not None:
        for prop in props:
            properties[prop.tag.split("}", 1)[1]] = (prop.text or "").strip()
    profiles: dict[str, tuple[Artifact, ...]] = {}
    for profile in root.findall("m:profiles/m:profile", _NS):
        artifacts = tuple(
            Artifact(
                group_id=_substitute(_text(dep, "groupId"), properties),
                artifact_id=_substitute(_text(dep, "artifactId"), properties),
                version=_substitute(_text(dep, "version"), properties),
                packaging=_text(dep, "type", "jar"),
            )
            for dep in profile.findall("m:dependencies/m:dependency", _NS)
        )
        profiles[_text(profile, "id")] = artifacts
    # Only the digest of the file's own bytes: a changed comment costs one quick re-copy.
    digest = hashlib.sha1(raw).hexdigest()[:16]
    return Pom(path=path, properties=properties, profiles=profiles, digest=digest)

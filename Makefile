# Human entry points. `make demo` and `make test` are the two commands a newcomer needs;
# every target sets up what it needs first (virtual environment, downloads).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)

.PHONY: help setup fetch up down status segments submit demo test unit lint bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@echo "==> Python environment ($(VENV)) from requirements.lock"
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)  ## create the Python environment

fetch: setup  ## download Kafka, Elasticsearch and the Flink connectors (cached)
	$(PY) -m stack fetch

up: fetch  ## start Kafka, Elasticsearch and the Flink cluster as local processes
	$(PY) -m stack up

down: setup  ## stop the services that `make up` started
	$(PY) -m stack down

status: setup  ## show each service: pid, port, health, log
	$(PY) -m stack status

segments: setup  ## fit the customer segments and write data/segments.csv
	$(PY) -m segmentation fit

submit: up  ## submit the Flink SQL jobs to the local cluster
	$(PY) -m flink_jobs submit

demo: up  ## run the whole system and show offers as they arrive (stack stays up: make down)
	bash scripts/demo.sh

test: fetch  ## run every test, starting the local stack when none is running
	$(PY) -m pytest

unit: setup  ## run the tests that need no services
	$(PY) -m pytest -m "not integration"

lint: setup  ## ruff
	$(PY) -m ruff check .

bench: up  ## benchmarks: k-means vs scikit-learn, simulator, dwell radii, pipeline
	$(PY) bench/kmeans_vs_sklearn.py
	$(PY) bench/geofence_separation.py
	$(PY) bench/dwell_radii.py
	$(PY) bench/simulator_throughput.py
	$(PY) bench/pipeline_throughput.py
	$(PY) bench/pipeline_latency.py

lock:  ## re-resolve requirements.lock from pyproject.toml
	rm -rf /tmp/pizzario-lock && python3 -m venv /tmp/pizzario-lock
	/tmp/pizzario-lock/bin/pip install -q ".[dev]" && /tmp/pizzario-lock/bin/pip freeze --exclude pizzario-offers > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:  ## remove the environment and runtime state (downloads stay cached)
	rm -rf $(VENV) .state out

#!/usr/bin/env bash
# The whole system on one machine, as `make demo` runs it once the stack is up:
# segments -> Flink SQL pipeline -> a simulated mall evening -> offers on screen -> summary.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
SPEED=${DEMO_SPEED:-30}
DURATION=${DEMO_DURATION:-20m}

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "1/4 Customer segments (our NumPy k-means over data/pizza_customers.csv)"
$PY -m segmentation fit

step "2/4 Submitting the Flink SQL pipeline to http://127.0.0.1:8081"
if ! $PY -m flink_jobs submit; then
    # `submit` refuses to start a second copy; a pipeline that already runs is what we want.
    $PY -m flink_jobs list | grep -q RUNNING || { echo "the pipeline did not start" >&2; exit 1; }
fi

step "3/4 A mall evening at ${SPEED}x speed for ${DURATION} of mall time; offers appear as they fire"
$PY -m flink_jobs offers --follow --from-latest &
follower=$!
trap 'kill "$follower" 2>/dev/null || true' EXIT
# A flat arrival rate keeps the mall busy whatever the hour the demo runs at; a little of
# every kind of bad input shows that the pipeline dead-letters it and carries on.
$PY -m simulator --speed "$SPEED" --duration "$DURATION" --flat-day --peak-arrivals-per-min 6 \
    --duplicate-rate 0.01 --out-of-order-rate 0.02 --late-rate 0.002 --malformed-rate 0.002 \
    --unknown-rate 0.05 --progress-every 10
# Offers for the last stays need the watermark to pass and a checkpoint to commit them.
sleep 15

step "4/4 Summary"
$PY -m flink_jobs summary
cat <<'TEXT'

Look around:
  Flink web UI            http://127.0.0.1:8081   (the pipeline, one named operator per stage)
  offers in Elasticsearch curl -s 'http://127.0.0.1:9200/offers/_search?size=5&pretty'
  visits and footfall     curl -s 'http://127.0.0.1:9200/visits/_count'; .../footfall/_count
  watch offers            .venv/bin/python -m flink_jobs offers --follow
  change the offers       edit sql/offer_rules.sql, then .venv/bin/python -m flink_jobs apply-rules
  stop everything         make down
TEXT

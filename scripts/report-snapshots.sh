#!/usr/bin/env bash
# Runs every report on the demo data (pinned --now) in every format and writes each output to
# OUT/<name>.<format>, so two checkouts can be compared byte for byte:
#   bash scripts/report-snapshots.sh /tmp/before && (in the other tree) bash scripts/report-snapshots.sh /tmp/after
#   diff -r /tmp/before /tmp/after
# STORE (optional, 2nd argument): an existing store to report on instead of seeding a new one.
set -uo pipefail
out="${1:?usage: report-snapshots.sh OUT_DIR [STORE]}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
now=2026-11-20T12:00:00Z
dm() { node bin/discover-metrics --store "$store" "$@"; }
if [ -n "${2:-}" ]; then store="$2"; else
  store="$(mktemp -d)/demo.duckdb"
  node bin/discover-metrics --store "$store" seed --now "$now" >/dev/null 2>&1 || { echo "seed failed" >&2; exit 1; }
fi
run() { # name, args...
  local name="$1"; shift
  for f in table json csv markdown; do
    NO_COLOR=1 COLUMNS=200 dm --format "$f" "$@" >"$out/$name.$f" 2>"$out/$name.$f.err"
    echo "exit $?" >>"$out/$name.$f.err"
  done
}
run funnel-all funnel --resource all --now "$now"
run funnel-rds funnel --resource rds-postgres --now "$now"
run funnel-server-sh funnel --resource server --deployment self-hosted --now "$now"
run funnel-bd funnel --resource kubernetes --breakdown tp.cluster_name --now "$now"
run funnel-list funnel --resource list
run funnel-pq funnel --resource rds-mysql --print-query --now "$now"
run ttfr ttfr --now "$now"
run ttfr-fs ttfr --first-seen --now "$now"
run ttfr-wizard ttfr --wizard --now "$now"
run steps-all steps --resource all --now "$now"
run steps-eks steps --resource eks --now "$now"
run failures-all failures --resource all --now "$now"
run failures-pg failures --resource postgres --now "$now"
run dau-day dau --interval day --now "$now"
run dau-week dau --interval week --breakdown os --compare --now "$now"
run dau-month dau --interval month --now "$now"
run features features --now "$now"
run platforms platforms --now "$now"
run adoption adoption --now "$now"
run compare-all compare --before 2026-09-22..2026-10-21 --after 2026-10-22..2026-11-20 --now "$now"
run compare-release compare --resource server --release 17.5 --now "$now"
run funnel-week funnel --resource server --interval week --from -60d --now "$now"
run dropoffs-rds dropoffs --resource rds-postgres --step integrationAwsOidcConnect --now "$now"
run correlation-server correlation --resource server --from -60d --now "$now"
run report report --now "$now"
run lifecycle lifecycle --now "$now"
run lifecycle-day lifecycle --interval day --from -14d --now "$now"
run retention retention --now "$now"
run retention-recurring retention --recurring --period day --intervals 10 --now "$now"
run stickiness stickiness --now "$now"
run connect-share connect-share --now "$now"
run store-info store info
# the store's path differs from run to run: name it STORE
for f in "$out"/*; do sed -i "s#$store#STORE#g" "$f"; done

#!/usr/bin/env bash
# Runs every fuzz target for RUNS executions (default 1,000,000) with one job, one after the
# other, seeded from seeds/<target>; prints the libFuzzer summary line of each.
# Build first:  cargo fuzz build -O --debug-assertions -s none
# Usage:        fuzz/run.sh [RUNS] [target ...]
set -u
cd "$(dirname "$0")"
RUNS=${1:-1000000}
shift || true
TARGETS=${*:-envelope client_frame pb_messages content tips command_args config}
BIN=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in $TARGETS; do
  mkdir -p "corpus/$t" "artifacts/$t"
  nice -n 10 "$BIN/$t" "corpus/$t" "seeds/$t" -runs="$RUNS" -jobs=1 -workers=1 \
    -artifact_prefix="artifacts/$t/" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
    -print_final_stats=1 > "logs/$t.out" 2>&1
  if [ -f fuzz-0.log ]; then mv fuzz-0.log "logs/$t.log"; fi
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  done_line=$(grep -h "Done [0-9]* runs\|DONE" "logs/$t.log" "logs/$t.out" 2>/dev/null | tail -1)
  echo "$t: ${done_line:-no summary (crashed?)} artifacts=$crashes"
done

#!/usr/bin/env bash
# Time one refinement schedule on the synthetic set through `mim train`
# (MMAction2's tools/train.py, as `mim train mmaction2` runs it) and through
# this project's tools/train.py, one after the other in one session, and
# print both wall-clock times (docs/benchmarks.md).
#
#   tools/compare_launchers.sh [ROUNDS] [EPOCHS_PER_ROUND] [OUT_DIR]
#
# Defaults: 4 rounds x 10 epochs (what `make demo` trains) into
# work_dirs/compare_launchers/{mim,tools}. Needs `make venv` (openmim lives
# in .venv/openmim) and generates data/synthetic when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-4}
EPOCHS=${2:-10}
OUT=${3:-work_dirs/compare_launchers}
PY=${PY:-.venv/bin/python}
MIM_DIR=${MIM_DIR:-.venv/openmim}
CONFIG=configs/refineloc/refineloc_i3d_4x10e_synthetic.py

test -d "$MIM_DIR/mim" || { echo "openmim missing in $MIM_DIR: run make venv" >&2; exit 1; }
test -f data/synthetic/synthetic_test_groundtruth.csv ||
    "$PY" tools/data/generate_synthetic.py --out-dir data/synthetic
rm -rf "$OUT/mim" "$OUT/tools"

seconds() {  # seconds LOG COMMAND...: run, log, print the wall time
    local log=$1 start end
    shift
    start=$(date +%s.%N)
    "$@" > "$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
    end=$(date +%s.%N)
    "$PY" -c "print($end - $start)"
}

mkdir -p "$OUT"
# the schedule as config keys: what a mim user writes
t_mim=$(seconds "$OUT/mim.log" env PYTHONPATH="$MIM_DIR" "$PY" -m mim train \
    mmaction2 "$CONFIG" --work-dir "$OUT/mim" \
    --cfg-options train_cfg.num_rounds="$ROUNDS" \
    train_cfg.epochs_per_round="$EPOCHS")
t_tools=$(seconds "$OUT/tools.log" "$PY" tools/train.py "$CONFIG" \
    --work-dir "$OUT/tools" --rounds "$ROUNDS" --epochs-per-round "$EPOCHS")

for run in mim tools; do
    rounds=$("$PY" -c "import json, sys; s = json.load(open(sys.argv[1])); \
print(len(s['rounds']))" "$OUT/$run/refinement_summary.json")
    test "$rounds" = "$ROUNDS" || {
        echo "$run: $rounds rounds, expected $ROUNDS" >&2; exit 1; }
    grep -q 'reuse_freed_memory: large blocks come from the heap' \
        "$OUT/$run.log" || {
        echo "$run: the allocator setting was not applied" >&2; exit 1; }
done
echo "| launcher | ${ROUNDS} x ${EPOCHS} synthetic schedule, wall clock |"
echo "|---|---|"
printf '| `mim train mmaction2 %s` | %.1f s |\n' "$CONFIG" "$t_mim"
printf '| `python tools/train.py %s` | %.1f s |\n' "$CONFIG" "$t_tools"

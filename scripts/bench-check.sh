#!/usr/bin/env bash
# Benchmarks `sercompat check --parse-only` on the public corpus and compares
# it with Kamailio's own `kamailio -c` on the newest Kamailio 5.x example.
#
# Targets (docs/benchmarks.md):
#   * the whole corpus (INDEX.tsv, ~1,170 files) in under 1 s, one process;
#   * etc__kamailio@2025-01-21-132e5324bf.cfg in under 1 ms (per-file timing).
#
# Usage: scripts/bench-check.sh [RUNS]      (RUNS: corpus repetitions, default 7)
# Env:   CORPUS=/path/to/corpus  (default: ../shared/corpus next to the repo)
#        KAMAILIO=/usr/sbin/kamailio  KAMAILIO_MODULES=/usr/lib/x86_64-linux-gnu/kamailio/modules
#        SINGLE_RUNS=21  (repetitions of the single file)
#        NO_BUILD=1      (use the existing target/release/sercompat)
#
# Prints everything it measures; the machine should be otherwise idle.
set -eu   # no pipefail: `sort | head` ends with SIGPIPE by design

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpus
RUNS=${1:-7}
SINGLE_RUNS=${SINGLE_RUNS:-21}
SINGLE=kamailio-5.x/etc__kamailio@2025-01-21-132e5324bf.cfg
KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
KAMAILIO_MODULES=${KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
BIN=$ROOT/target/release/sercompat
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

echo "== machine"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "kernel:  $(uname -r)"
echo "rustc:   $(rustc -V)"
echo "commit:  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- grammar runtime compiler 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "corpus:  $CORPUS"

if [ -z "${NO_BUILD:-}" ]; then
    echo "== build"
    (cd "$ROOT" && cargo build --release -q -p sercompat)
fi
[ -x "$BIN" ] || { echo "no $BIN" >&2; exit 2; }

cd "$CORPUS"
tail -n +2 INDEX.tsv | cut -f1 > "$TMP/files"
NFILES=$(wc -l < "$TMP/files")

# xargs must pass every file to one process: count its invocations first.
INVOCATIONS=$(xargs -n 5000 sh -c 'echo x' sh < "$TMP/files" | wc -l)
if [ "$INVOCATIONS" -ne 1 ]; then
    echo "xargs split the $NFILES files into $INVOCATIONS processes; raise the limit" >&2
    exit 2
fi

echo "== corpus: $NFILES files, one process, $RUNS runs (1 warm-up)"
run_corpus() {
    # exit 1 = some file has errors (expected: the corpus has broken configs); xargs maps it to 123.
    xargs -n 5000 "$BIN" check --parse-only --timings -q --format json < "$TMP/files" > "$TMP/out.json" 2> "$TMP/timings" || true
    grep -c ' total, ' "$TMP/timings" | grep -qx 1 || { echo "expected one 'total' line" >&2; cat "$TMP/timings" | tail >&2; exit 2; }
}
run_corpus
for i in $(seq "$RUNS"); do
    s=$(date +%s%N)
    run_corpus
    e=$(date +%s%N)
    total=$(awk '/ total, /{print $1}' "$TMP/timings")
    echo "$total" >> "$TMP/corpus_total"
    echo "$(( (e - s) / 1000 ))" | awk '{printf "%.3f\n", $1/1000}' >> "$TMP/corpus_wall"
    printf 'run %2d: total line %10.3f ms   process wall %10.3f ms\n' "$i" "$total" "$(tail -1 "$TMP/corpus_wall")"
done
cp "$TMP/timings" "$TMP/last_timings"
CORPUS_MED=$(median < "$TMP/corpus_total")
CORPUS_WALL_MED=$(median < "$TMP/corpus_wall")
echo "corpus median: $CORPUS_MED ms (timing line), $CORPUS_WALL_MED ms (process wall); target < 1000 ms"
echo "diagnostics printed: $(wc -l < "$TMP/out.json") lines; errors: $(grep -c '"severity":"error"' "$TMP/out.json" || true)"
echo "slowest files in the last run:"
grep -v ' total, ' "$TMP/last_timings" | sort -gr | head -5
echo "sum of per-file times: $(grep -v ' total, ' "$TMP/last_timings" | awk '{s+=$1} END {printf "%.3f", s}') ms"

echo "== single file: $SINGLE ($(wc -l < "$SINGLE") lines, $(wc -c < "$SINGLE") bytes), $SINGLE_RUNS runs"
for i in $(seq "$SINGLE_RUNS"); do
    "$BIN" check --parse-only --timings -q --format json "$SINGLE" 2>&1 >/dev/null | awk '!/ total, /{print $1}' >> "$TMP/single"
done
SINGLE_MED=$(median < "$TMP/single")
echo "per-file timing: median $SINGLE_MED ms, min $(sort -g "$TMP/single" | head -1) ms, max $(sort -g "$TMP/single" | tail -1) ms; target < 1 ms"

echo "== single file, in-process repeat: the same file 200 times in one process"
yes "$SINGLE" | head -200 > "$TMP/repeat"
xargs -n 5000 "$BIN" check --parse-only --timings -q --format json < "$TMP/repeat" 2>&1 >/dev/null | awk '!/ total, /{print $1}' | tail -n +2 > "$TMP/warm"
echo "warm per-file timing (runs 2..200): median $(median < "$TMP/warm") ms, min $(sort -g "$TMP/warm" | head -1) ms"

echo "== kamailio -c on the same file"
KOUT=$TMP/kamailio.out
if [ -x "$KAMAILIO" ]; then
    KCMD=("$KAMAILIO" -c -f "$SINGLE")
    [ -d "$KAMAILIO_MODULES" ] && KCMD+=(-L "$KAMAILIO_MODULES")
    echo "command: ${KCMD[*]}"
    set +e
    "${KCMD[@]}" > "$KOUT" 2>&1
    KRC=$?
    set -e
    echo "exit status: $KRC; it printed:"
    sed 's/^/    /' "$KOUT"
else
    echo "kamailio not found at $KAMAILIO"
fi

if command -v hyperfine > /dev/null; then
    echo "== hyperfine: whole processes, same file"
    HF=(hyperfine -N --warmup 3 --runs 30 --export-json "$TMP/hf.json")
    [ -x "$KAMAILIO" ] && HF+=(-i -n kamailio "${KCMD[*]}")
    HF+=(-n sercompat "$BIN check --parse-only -q --format json $SINGLE")
    # sercompat exits 0 on this file; -i only matters for kamailio.
    "${HF[@]}"
    python3 - "$TMP/hf.json" "$SINGLE_MED" <<'EOF'
import json, sys, statistics
d = json.load(open(sys.argv[1]))
single = float(sys.argv[2])
r = {x["command"]: x for x in d["results"]}
def ms(x): return statistics.median(x["times"]) * 1e3
for name, x in r.items():
    print(f"{name}: median wall {ms(x):.3f} ms, mean user {x['user']*1e3:.3f} ms, mean sys {x['system']*1e3:.3f} ms")
if "kamailio" in r and "sercompat" in r:
    k, s = r["kamailio"], r["sercompat"]
    print(f"ratio kamailio/sercompat, whole process wall (median): {ms(k)/ms(s):.1f}x")
    print(f"ratio kamailio/sercompat, user+sys CPU (mean): {(k['user']+k['system'])/(s['user']+s['system']):.1f}x")
    print(f"ratio kamailio whole process / sercompat per-file parse time: {ms(k)/single:.1f}x")
EOF
else
    echo "hyperfine not installed (apt-get install -y hyperfine); timing with a loop of /usr/bin/time"
    for i in $(seq 10); do
        [ -x "$KAMAILIO" ] && /usr/bin/time -f "kamailio %e s wall %U user %S sys" "${KCMD[@]}" > /dev/null 2>> "$TMP/ktime" || true
        /usr/bin/time -f "sercompat %e s wall %U user %S sys" "$BIN" check --parse-only -q --format json "$SINGLE" > /dev/null 2>> "$TMP/stime" || true
    done
    grep -h 'wall' "$TMP/ktime" "$TMP/stime" 2>/dev/null || true
fi

echo "== summary"
awk -v c="$CORPUS_MED" -v s="$SINGLE_MED" 'BEGIN {
    printf "corpus: %.1f ms (target 1000 ms): %s\n", c, (c < 1000 ? "met" : "NOT met");
    printf "single: %.3f ms (target 1 ms): %s\n", s, (s < 1 ? "met" : "NOT met");
}'

#!/usr/bin/env bash
# Instructions per call of the stateful proxy without sockets
# (runtime/examples/stateful_hotpath.rs) under callgrind: only the
# proxy's work is counted (parse + handler per message, the timer task),
# on two call counts; the difference divided by the extra calls leaves
# out the warm-up.
#
# With --registrar, the same for the benchmark's registrar.cfg: each call
# REGISTERs a new user, then calls it through lookup("location").
#
#   scripts/stateful-instructions.sh [--registrar] [CALLS_1 CALLS_2]   (default 1000 3000)

set -eu -o pipefail
cd "$(dirname "$0")/.."
SCENARIO=()
if [[ ${1:-} == --registrar ]]; then
	SCENARIO=(--registrar)
	shift
fi
N1=${1:-1000}
N2=${2:-3000}
cargo build --release -p sercompat --example stateful_hotpath >&2
BIN=target/release/examples/stateful_hotpath
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

irs() {
	valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$1" \
		--toggle-collect='*stateful_hotpath::Proxy::deliver*' \
		--toggle-collect='*stateful_hotpath::Proxy::timer_task*' \
		"$BIN" "${SCENARIO[@]}" "$1" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

I1=$(irs "$N1")
I2=$(irs "$N2")
echo "calls=$N1 Ir=$I1"
echo "calls=$N2 Ir=$I2"
echo "instructions_per_call=$(((I2 - I1) / (N2 - N1)))"
if [[ -n ${KEEP:-} ]]; then cp "$OUT/cg.$N2" "$KEEP"; fi

#!/usr/bin/env bash
# Regenerates compiler/catalog/releases-kamailio.tsv: the export tables of
# SER 0.8.8-0.8.14, 0.9 and 2.0, Kamailio/SER 3.0-3.3 and the last point release of
# every Kamailio minor release from 4.0 on, merged. Needs a clone or bare
# mirror of github.com/kamailio/kamailio.
#
#   [KEEP_DIR=DIR] scripts/extract-release-catalogs.sh [REPO]
# (KEEP_DIR keeps the per-release tables there, for reading them by hand)
set -eu -o pipefail
cd "$(dirname "$0")/.."
REPO=${1:-/work/.mirror/kamailio+kamailio/repo}
# branch or tag:release. The SER ones (ser_* tags on the trunk, rel_*
# branches) hold the core and tm only; the other modules are read from the
# SER modules' own history (imported under modules_s/, reaching the tag
# pure_ser_cvs_modules) as it was when the tag was made or the branch left
# the trunk.
BRANCHES="ser_0_8_8-final-cd-release:0.8.8 ser_0_8_9-release:0.8.9 ser_0_8_10:0.8.10 rel_0_8_11:0.8.11 rel_0_8_12:0.8.12 rel_0_8_14:0.8.14 rel_0_9_0:0.9 rel_2_0_0:2.0 sr_3.0:3.0 3.1:3.1 3.2:3.2 3.3:3.3"
TAGS="4.0.7 4.1.9 4.2.8 4.3.7 4.4.7 5.0.8 5.1.10 5.2.8 5.3.9 5.4.9 5.5.7 5.6.6 5.7.7 5.8.8 6.0.7 6.1.4"
OUT=${KEEP_DIR:-$(mktemp -d)}
[ -n "${KEEP_DIR:-}" ] || trap 'rm -rf "$OUT"' EXIT
files=()
for b in $BRANCHES; do
	branch=${b%%:*} release=${b##*:}
	extra=()
	case $branch in
	rel_* | ser_*)
		root=$(git -C "$REPO" log -1 --format=%cI "$(git -C "$REPO" merge-base "$branch" master)")
		extra=(--modules-from "$(git -C "$REPO" rev-list -1 --before="$root" pure_ser_cvs_modules)")
		;;
	esac
	python3 scripts/extract-target-catalog.py --repo "$REPO" --tag "$branch" --release "$release" \
		"${extra[@]}" --out "$OUT/$release.tsv" >/dev/null
	files+=("$OUT/$release.tsv")
done
for t in $TAGS; do
	python3 scripts/extract-target-catalog.py --repo "$REPO" --tag "$t" --out "$OUT/$t.tsv" >/dev/null
	files+=("$OUT/$t.tsv")
done
python3 scripts/merge-release-catalogs.py --out compiler/catalog/releases-kamailio.tsv "${files[@]}"

#!/usr/bin/env bash
# Regenerates compiler/catalog/releases-kamailio.tsv: the export tables of
# the last point release of every Kamailio minor release from 4.0 on,
# merged. Needs a clone or bare mirror of github.com/kamailio/kamailio.
#
#   scripts/extract-release-catalogs.sh [REPO]
set -eu -o pipefail
cd "$(dirname "$0")/.."
REPO=${1:-/work/.mirror/kamailio+kamailio/repo}
TAGS="4.0.7 4.1.9 4.2.8 4.3.7 4.4.7 5.0.8 5.1.10 5.2.8 5.3.9 5.4.9 5.5.7 5.6.6 5.7.7 5.8.8 6.0.7 6.1.4"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
files=()
for t in $TAGS; do
	python3 scripts/extract-target-catalog.py --repo "$REPO" --tag "$t" --out "$OUT/$t.tsv" >/dev/null
	files+=("$OUT/$t.tsv")
done
python3 scripts/merge-release-catalogs.py --out compiler/catalog/releases-kamailio.tsv "${files[@]}"

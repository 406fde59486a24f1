#!/usr/bin/env bash
# Regenerates compiler/catalog/releases-kamailio.tsv: the export tables of
# SER 0.8.8-0.8.14, 0.9 and 2.0, OpenSER 1.0-1.3, Kamailio 1.4 and 1.5,
# Kamailio/SER 3.0-3.3 and the last point release of every Kamailio minor
# release from 4.0 on, merged. Needs clones or bare mirrors of
# github.com/kamailio/kamailio and github.com/OpenSIPS/opensips (whose
# history holds OpenSER's trunk, core and modules, up to the 2008 split).
#
#   [KEEP_DIR=DIR] scripts/extract-release-catalogs.sh [REPO [OPENSIPS_REPO]]
# (KEEP_DIR keeps the per-release tables there, for reading them by hand)
set -eu -o pipefail
cd "$(dirname "$0")/.."
REPO=${1:-/work/.mirror/kamailio+kamailio/repo}
OPENSIPS=${2:-/work/.mirror/OpenSIPS+opensips/repo}
# branch or tag:release. The SER ones (ser_* tags on the trunk, rel_*
# branches) hold the core and tm only; the other modules are read from the
# SER modules' own history (imported under modules_s/, reaching the tag
# pure_ser_cvs_modules) as it was when the tag was made or the branch left
# the trunk.
BRANCHES="ser_0_8_8-final-cd-release:0.8.8 ser_0_8_9-release:0.8.9 ser_0_8_10:0.8.10 rel_0_8_11:0.8.11 rel_0_8_12:0.8.12 rel_0_8_14:0.8.14 rel_0_9_0:0.9 rel_2_0_0:2.0 sr_3.0:3.0 3.1:3.1 3.2:3.2 3.3:3.3"
TAGS="4.0.7 4.1.9 4.2.8 4.3.7 4.4.7 5.0.8 5.1.10 5.2.8 5.3.9 5.4.9 5.5.7 5.6.6 5.7.7 5.8.8 6.0.7 6.1.4"
OUT=${KEEP_DIR:-$(mktemp -d)}
[ -n "${KEEP_DIR:-}" ] || trap 'rm -rf "$OUT"' EXIT
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
done
# OpenSER and Kamailio 1.x, commit:release. The repositories hold no
# release branch of theirs: each release is the trunk where its branch left
# it (the trunk's svn revision, git-svn-id, in brackets), read with the
# export layout of that snapshot's own sr_module.h (--lineage openser).
#  1.0 13da30ba8a [r342] 2005-10-28 "no extraversion": Makefile.defs 1.0.0;
#      the next commit sets trunk to 1.1.0-dev0, "branch rel_1_0_0 has been
#      created" (1.0.0 released 2005-10-28)
#  1.1 352510296a [r993] 2006-07-10 "version set to 1.1.0", the release day
#      (trunk went to 1.2.0-dev0 on 2006-07-14)
#  1.2 f2937778eb [r1824] 2007-03-12, the last trunk commit before
#      e5e8151805 "ports from 1.2 branch - version increased to 1.3.0-dev0"
#      (1.2.0 released 2007-03-12; Makefile.defs still says 1.2.0-pre8,
#      the branch set the release version)
#  1.3 b763c86ee8 [r3357] 2007-12-13 "reset the extra version for
#      release": 1.3.0; the next commit, 3fedf499b5, "increase the version
#      to 1.4" (1.3.0 released 2007-12-13)
#  Kamailio 1.4 and 1.5: the core is OpenSER's trunk at 47afe8cbc4 [r4463]
#      2008-07-08, the last revision OpenSIPS and Kamailio share (from r4465
#      the two svn trunks differ: OpenSIPS's renames, Kamailio's own work);
#      no later Kamailio 1.x core is in either repository, so core
#      parameters and actions added to Kamailio 1.4 after 2008-07-08 or in
#      1.5 are missing (approximate). The modules come from the Kamailio
#      modules' own history in the kamailio repository (modules_k/, svn
#      trunk of openser.svn.sourceforge.net):
#  1.4 modules 12df93fe0d [r4635] 2008-08-07, trunk on the day 1.4.0 was
#      released (ChangeLog: "2008-08-07 Kamailio v1.4.0 released"); the 1.4
#      branch point is not recorded, so trunk-only changes of the last days
#      may be in (approximate)
#  1.5 modules c451ea55c2 [r5649] 2009-03-01, the last modules commit before
#      r5660 2009-03-02 "remove old logs for the new development towards
#      1.6.0", the 1.5 branch point (ChangeLog: "2009-03-02 Kamailio v1.5.0")
OPENSER="13da30ba8a:1.0 352510296a:1.1 f2937778eb:1.2 b763c86ee8:1.3"
KAMAILIO1_CORE=47afe8cbc4
KAMAILIO1="12df93fe0d:1.4 c451ea55c2:1.5"
openser=(--lineage openser --origin github.com/OpenSIPS/opensips)
for b in $OPENSER; do
	commit=${b%%:*} release=${b##*:}
	python3 scripts/extract-target-catalog.py --repo "$OPENSIPS" --tag "$commit" --release "$release" \
		"${openser[@]}" --out "$OUT/$release.tsv" >/dev/null
done
for b in $KAMAILIO1; do
	commit=${b%%:*} release=${b##*:}
	python3 scripts/extract-target-catalog.py --repo "$OPENSIPS" --tag "$KAMAILIO1_CORE" --release "$release" \
		"${openser[@]}" --modules-repo "$REPO" --modules-from "$commit" --modules-dir modules_k \
		--modules-replace --out "$OUT/$release.tsv" >/dev/null
done
for t in $TAGS; do
	python3 scripts/extract-target-catalog.py --repo "$REPO" --tag "$t" --out "$OUT/$t.tsv" >/dev/null
done
# The merge's release order: each lineage's releases in a row, so that an
# era is a range of them. OpenSER forked from SER 0.9 and Kamailio 3.0
# merged Kamailio 1.5 with SER 2.0's successor: 1.0-1.5 sit between 0.9 and
# 2.0 (2.0, branched in 2007 and released in 2008, is contemporaneous with
# 1.2-1.4; see RELEASES in compiler/src/catalog/release_exports.rs).
files=()
for r in 0.8.8 0.8.9 0.8.10 0.8.11 0.8.12 0.8.14 0.9 1.0 1.1 1.2 1.3 1.4 1.5 2.0 3.0 3.1 3.2 3.3 $TAGS; do
	files+=("$OUT/$r.tsv")
done
python3 scripts/merge-release-catalogs.py --out compiler/catalog/releases-kamailio.tsv "${files[@]}"

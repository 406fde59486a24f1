#!/usr/bin/env python3
"""First-draft extraction of the module catalog from the reference spec.

Reads ../shared/reference/modules.md and config-language.md (or the directory
given with --reference) and writes draft TSVs into OUTDIR:

    functions.tsv  params.tsv  modules.tsv  core_params.tsv
    core_actions.tsv  pvs.tsv  renames.tsv

This script produced the *first version* of compiler/catalog/*.tsv. Those
files were then reviewed and corrected by hand and are the source of truth:
do not regenerate them over the checked-in files. Re-run it into a scratch
directory to see what a new reference would add, and merge by hand:

    python3 scripts/extract-catalog.py /tmp/catalog-draft
    diff -r /tmp/catalog-draft compiler/catalog

Cells it could not interpret are written with a leading "FIXME" so that the
hand review finds them (the Rust loader rejects them).

Stdlib only (Python 3.8+).
"""

import argparse
import os
import re
import sys

# ---------------------------------------------------------------------------
# Releases, the lineage DAG and span normalisation
# ---------------------------------------------------------------------------

# The sampled releases of both reference files, in the catalog's total order
# (a topological order of the lineage DAG: SER line, then OpenSER line, then
# the merged tree).
RELEASES = [
    "S0.8", "S0.9", "S2.0",
    "O1.0", "O1.1", "O1.2", "O1.3", "K1.4", "K1.5",
    "K3.0", "K3.1", "K3.3", "K4.0", "K4.4", "K5.0", "K5.4", "K5.6", "K6.0", "K6.x",
]
SER_TREE = {"S0.8", "S0.9", "S2.0"}
OPENSER_TREE = {"O1.0", "O1.1", "O1.2", "O1.3", "K1.4", "K1.5"}
MERGED_TREE = {"K3.0", "K3.1", "K3.3", "K4.0", "K4.4", "K5.0", "K5.4", "K5.6", "K6.0", "K6.x"}

PARENTS = {
    "S0.8": [],
    "S0.9": ["S0.8"],
    "S2.0": ["S0.9"],
    "O1.0": ["S0.9"],
    "O1.1": ["O1.0"],
    "O1.2": ["O1.1"],
    "O1.3": ["O1.2"],
    "K1.4": ["O1.3"],
    "K1.5": ["K1.4"],
    "K3.0": ["S2.0", "K1.5"],
    "K3.1": ["K3.0"],
    "K3.3": ["K3.1"],
    "K4.0": ["K3.3"],
    "K4.4": ["K4.0"],
    "K5.0": ["K4.4"],
    "K5.4": ["K5.0"],
    "K5.6": ["K5.4"],
    "K6.0": ["K5.6"],
    "K6.x": ["K6.0"],
}


def ancestors(r):
    out = {r}
    for p in PARENTS[r]:
        out |= ancestors(p)
    return out


def releases_between(a, b):
    """Releases on a lineage path from a to b (inclusive)."""
    if a not in ancestors(b):
        raise ValueError("%s is not an ancestor of %s" % (a, b))
    return {r for r in RELEASES if a in ancestors(r) and r in ancestors(b)}


def version_key(code):
    """(line, major, minor) for rounding an arbitrary release to a sample."""
    line = code[0]
    rest = code[1:]
    major, minor = rest.split(".")
    minor = 99 if minor == "x" else int(minor)
    return line, int(major), minor


def samples_of_line(line_pred):
    return [r for r in RELEASES if line_pred(r)]


def round_up(code):
    """First sampled release at or after `code` (on its own line)."""
    if code in RELEASES:
        return code
    line, major, minor = version_key(code)
    for r in RELEASES:
        l2, m2, n2 = version_key(r)
        same_line = (l2 == line) or (line == "K" and l2 == "K")
        if same_line and (m2, n2) >= (major, minor):
            return r
    raise ValueError("no sample at or after " + code)


def round_down(code):
    """Last sampled release at or before `code`."""
    if code in RELEASES:
        return code
    line, major, minor = version_key(code)
    best = None
    for r in RELEASES:
        l2, m2, n2 = version_key(r)
        if l2 == line and (m2, n2) <= (major, minor):
            best = r
    if best is None:
        raise ValueError("no sample at or before " + code)
    return best


# Loose era words of the tables, as (start, end) sample codes.
SINCE_WORDS = {
    "all": "*",
    "": "*",
    "K": ("K1.4", None),
    "O/K": ("O1.0", None),
}
GROUP_START = {"S0.x": "S0.8", "O1.x": "O1.0", "K1.x": "K1.4", "K3.x": "K3.0",
               "K4.x": "K4.0", "K5.x": "K5.0", "K6.x": "K6.x", "K6": "K6.x"}
GROUP_END = {"S0.x": "S0.9", "O1.x": "O1.3", "K1.x": "K1.5", "K3.x": "K3.3",
             "K4.x": "K4.4", "K5.x": "K5.6", "K6.x": "K6.x", "K6": "K6.x"}


def start_of(tok):
    tok = tok.strip()
    if tok in GROUP_START:
        return GROUP_START[tok]
    return round_up(tok)


def end_of(tok):
    tok = tok.strip()
    if tok in GROUP_END:
        return GROUP_END[tok]
    return round_down(tok)


def expand_short(tok, prev):
    """'0.9' after 'S0.8' means 'S0.9'; '4.4' after 'K4.1' means 'K4.4'."""
    if re.fullmatch(r"[0-9]+\.[0-9x]+", tok):
        return prev[0] + tok
    return tok


def normalize_span(text, since_marks=False):
    """Turn a reference era cell into catalog span syntax.

    Returns (span, exact) where exact is False when remarks were dropped.
    since_marks: a lone group word ("K5.x", "K4.x") means "since then".
    """
    raw = text
    text = text.strip()
    exact = True
    # drop parenthetical remarks
    t2 = re.sub(r"\s*\([^)]*\)", "", text).strip()
    if t2 != text:
        exact = False
    text = t2
    if text in SINCE_WORDS:
        v = SINCE_WORDS[text]
        if v == "*":
            return "*", exact
        return v[0] + "–", exact
    parts = [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    out = []
    for p in parts:
        p = p.replace("-", "–")
        if p == "K":
            out.append("K1.4–")
            continue
        m = re.fullmatch(r"≤\s*([SOK][0-9.x]+)", p)
        if m:
            out.append("FIXME≤" + m.group(1))
            continue
        open_ = p.endswith("+")
        if open_:
            p = p[:-1].strip()
        # "K3.2/3.3" and "K6.1/devel": first seen in either
        m = re.fullmatch(r"([SOK][0-9.x]+)/(?:[0-9.x]+|devel)", p)
        if m:
            out.append(start_of(m.group(1)) + ("–" if open_ else ""))
            if not open_:
                out[-1] += "–"
            continue
        m = re.fullmatch(r"([SOK][0-9.x]+|[SOK][0-9]+)–([SOK]?[0-9.x]+)", p)
        if m:
            a = m.group(1)
            b = expand_short(m.group(2), a)
            if since_marks and a.endswith(".x") and b.endswith(".x"):
                # PV tables: "K4.x–K5.x" = first seen between 4.x and 5.x
                open_ = True
            if open_:
                # "K4.1–4.4+": first seen between a and b, then on
                out.append(start_of(a) + "–")
            else:
                out.append(start_of(a) + "–" + end_of(b))
            continue
        m = re.fullmatch(r"[SOK][0-9.x]+|[SOK][0-9]+", p)
        if m:
            if open_:
                out.append(start_of(p) + "–")
            elif since_marks and (p.endswith(".x") or p in ("K3.0",)):
                out.append(start_of(p) + "–")
            elif p.endswith(".x") and p not in ("K6.x",):
                out.append(start_of(p) + "–" + end_of(p))
            else:
                out.append(start_of(p))
            continue
        out.append("FIXME:" + raw)
        break
    return "; ".join(out), exact


def span_releases(span):
    """Set of releases of a normalised span (for lineage decisions)."""
    rel = set()
    for seg in span.split(";"):
        seg = seg.strip()
        if not seg:
            continue
        if "–" in seg:
            a, b = seg.split("–")
            b = b or "K6.x"
            rel |= releases_between(a, b)
        else:
            rel.add(seg)
    return rel


# ---------------------------------------------------------------------------
# Markdown table helpers
# ---------------------------------------------------------------------------

def cells(line):
    line = line.strip()
    assert line.startswith("|") and line.endswith("|"), line
    parts = re.split(r"(?<!\\)\|", line[1:-1])
    return [p.strip() for p in parts]


def is_sep(c):
    return all(set(x) <= set("-: ") for x in c)


def unbt(s):
    return s.replace("`", "").replace("\\|", "|")


def tsv_escape(s):
    s = s.replace("\t", " ").replace("\n", " ")
    return s


def write_tsv(path, header_comment, columns, rows):
    with open(path, "w", encoding="utf-8") as f:
        for c in header_comment.strip("\n").split("\n"):
            f.write("# " + c + "\n" if c else "#\n")
        f.write("\t".join(columns) + "\n")
        for r in rows:
            assert len(r) == len(columns), (path, r)
            f.write("\t".join(tsv_escape(str(x)) for x in r) + "\n")


# ---------------------------------------------------------------------------
# modules.md
# ---------------------------------------------------------------------------

# The code base that carries a module's K3.0+ segments (modules.md §1 table
# and the module headers). Used only for arity segments that start at K3.0
# or later and are not a K3.x-only continuation of an older segment.
K3_LINEAGE = {
    "sl": "merged", "tm": "ser", "tmx": "merged", "rr": "openser",
    "maxfwd": "merged", "usrloc": "openser", "registrar": "openser",
    "textops": "merged", "textopsx": "ser", "siputils": "openser",
    "uri": "ser", "uri_db": "openser", "sanity": "openser", "xlog": "openser",
    "pv": "openser", "kex": "merged", "auth": "merged", "auth_db": "openser",
    "acc": "openser", "acc_db": "ser", "acc_syslog": "ser",
    "permissions": "openser", "nathelper": "openser", "rtpproxy": "merged",
    "mediaproxy": "openser", "nat_traversal": "openser", "domain": "openser",
    "alias_db": "openser", "avpops": "openser", "avp": "ser",
    "dispatcher": "openser", "mi_fifo": "openser", "ctl": "ser",
    "jsonrpcs": "merged", "cfgutils": "openser", "gflags": "ser",
    "htable": "openser", "dialog": "openser", "pike": "merged",
    "exec": "merged", "presence": "openser", "corex": "merged",
}

SEG_RE = re.compile(r"([SOK][0-9.x]+)(?:–([SOK][0-9.x]+))?:([0-9,?]+)")


MODULES_SAMPLES = ["S0.8", "S0.9", "S2.0", "O1.1", "O1.3", "K1.5",
                   "K3.0", "K3.3", "K4.0", "K5.0", "K5.6", "K6.x"]


def segment_lineage(module, seg_rel, earlier_rel, prev):
    """Which code base a reference arity segment documents.

    prev: (lineage, releases) of the segment before, or None.
    """
    start = min(seg_rel, key=RELEASES.index)
    if prev is not None and start in MERGED_TREE:
        plin, prel = prev
        pstart = min(prel, key=RELEASES.index)
        pend = max(prel, key=RELEASES.index)
        crossed = pstart not in MERGED_TREE and pend in MERGED_TREE
        adjacent = (pend in MODULES_SAMPLES and
                    MODULES_SAMPLES.index(pend) + 1 < len(MODULES_SAMPLES) and
                    MODULES_SAMPLES[MODULES_SAMPLES.index(pend) + 1] == start)
        if crossed and adjacent:
            # the same function continuing after an arity change
            return plin
    if start in ("S0.8", "S0.9"):
        return "ser" if seg_rel <= SER_TREE else "merged"
    if start == "S2.0":
        return "ser"
    if start in OPENSER_TREE:
        return "openser"
    # starts in the merged tree
    if seg_rel <= {"K3.0", "K3.1", "K3.3"} and earlier_rel:
        if earlier_rel & SER_TREE:
            return "ser"
        if earlier_rel & OPENSER_TREE:
            return "openser"
    return K3_LINEAGE.get(module, "merged")


INT_WORDS = {
    "max", "n", "seconds", "microseconds", "percent", "level", "size", "0|1",
    "t1_ms", "t2_ms", "inv_ms", "noninv_ms", "fr_inv_ms", "fr_ms", "count",
    "mode", "setid", "group", "alg", "limit", "set", "rcode", "timeout",
    "branch", "tindex", "tlabel", "expire", "q", "match_option",
    "match_action", "flags (int)", "ival", "trim", "h_entry", "h_id",
}
STR_WORDS = {"reason", "txt", "uri", "host", "port", "table", "realm"}


def kind_of(tok):
    t = tok.replace("\\|", "|").strip().strip("[]").strip().lower()
    if "(int)" in t:
        return "int"
    t = re.sub(r"\s*\(.*$", "", t) if not t.startswith("(") else t
    if not t:
        return "?"
    if "route" in t and ("name" in t or t == "route" or "number" in t):
        return "route"
    if t in ("re", "regex") or "regex" in t:
        return "re"
    if "pv" in t.split("_") or t.endswith("_pv") or t == "pv" or t.startswith("pv"):
        return "pv"
    if t.startswith("code"):
        return "int|str"
    if t == "flag":
        return "flag"
    if t in INT_WORDS or t.startswith("max"):
        return "int"
    return "str"


def guess_kinds(args, arity_text):
    counts = [int(x) for seg in SEG_RE.findall(arity_text) for x in seg[2].split(",") if x != "?"]
    maxa = max(counts) if counts else 0
    if maxa == 0:
        return "-"
    a = args.strip()
    if a in ("", "—", "-"):
        return ",".join(["?"] * maxa)
    # strip era remarks after an em dash
    a = re.split(r"\s+—\s+", a)[0]
    a = re.sub(r"\([^)]*\)$", "", a).strip()
    a = a.replace("[", ",").replace("]", "")
    toks = [x.strip() for x in a.split(",") if x.strip()]
    kinds = [kind_of(x) for x in toks]
    if len(kinds) != maxa:
        return "FIXME:" + ",".join(kinds)
    return ",".join(kinds)


def parse_modules(text):
    lines = text.split("\n")
    module = None
    table = None
    functions = []   # (module, name, arity_text, routes, args, returns, lineno)
    params = []      # (module, name_cell, type, default, eras, notes, lineno)
    modules = []     # (module, header text)
    removed = []     # cells of the removed-functions table
    lineage_rows = []
    for i, line in enumerate(lines, 1):
        m = re.match(r"^###\s+(\S+)\s*$", line)
        m2 = re.match(r"^####\s+`([a-z_0-9]+)`", line)
        if m or m2:
            module = (m or m2).group(1)
            modules.append((module, i))
            table = None
            continue
        if line.startswith("## "):
            module = None
            table = None
            continue
        if not line.startswith("|"):
            if line.strip():
                table = None
            continue
        c = cells(line)
        if is_sep(c):
            continue
        if c[0] == "function":
            table = "function"
            continue
        if c[0] == "param":
            table = "param"
            continue
        if c[0] == "Old call":
            table = "removed"
            continue
        if c[0] == "Function area":
            table = "lineage"
            continue
        if c[0] == "Topic":
            table = "topic"
            continue
        if table == "function":
            functions.append((module, unbt(c[0]), c[2], c[3], c[1], c[4], i))
        elif table == "param":
            params.append((module, c[0], c[1], c[2], c[3], c[4], i))
        elif table == "removed":
            removed.append((c, i))
        elif table == "lineage":
            lineage_rows.append((c, i))
    return functions, params, modules, removed, lineage_rows


def function_rows(functions):
    rows = []
    for module, name, arity, routes, args, returns, ln in functions:
        segs = [s.strip() for s in arity.split(";")]
        by_lineage = {}
        order = []
        earlier = set()
        prev = None
        for s in segs:
            m = SEG_RE.fullmatch(s)
            if not m:
                raise SystemExit("modules.md:%d: bad arity segment %r" % (ln, s))
            a, b = m.group(1), m.group(2) or m.group(1)
            rel = releases_between(a, b)
            lin = segment_lineage(module, rel, earlier, prev)
            prev = (lin, rel)
            earlier |= rel
            if lin not in by_lineage:
                by_lineage[lin] = []
                order.append(lin)
            by_lineage[lin].append(s)
        for lin in order:
            ar = "; ".join(by_lineage[lin])
            rows.append([module, lin, name, ar, routes,
                         guess_kinds(args, ar), args, returns, "table"])
    return rows


# The removed-functions table of modules.md §1: rows for functions that the
# module tables do not list (module, arity span).
REMOVED_EXTRA = {
    "rewriteFromRoute": ("rr", "S0.8:0"),
    "addRecordRoute": ("rr", "S0.8:0"),
    "sl_filter_ACK": ("sl", "S0.8:0"),
    "t_on_negative": ("tm", "S0.8:1"),
    "mf_add_maxfwd_header": ("maxfwd", "S0.8:?"),
    "t_fork_to_uri": ("tm", "S0.8:?"),
    "t_fork_on_no_response": ("tm", "S0.8:?"),
}


def removed_function_rows(removed):
    rows = []
    for c, ln in removed:
        for call in re.findall(r"`([A-Za-z_]+)\(([^)]*)\)`", c[0]):
            name = call[0]
            if name in REMOVED_EXTRA:
                mod, ar = REMOVED_EXTRA[name]
                kinds = "-" if ar.endswith(":0") else ("str" if ar.endswith(":1") else "?")
                if name == "t_on_negative":
                    kinds = "route"
                rows.append([mod, "ser", name, ar, "*", kinds,
                             "`%s(%s)`" % (name, call[1]), "removed (%s); replacement: %s" % (unbt(c[1]), unbt(c[2])),
                             "removed"])
    return rows


def param_rows(params):
    rows = []
    for module, name_cell, typ, default, eras, notes, ln in params:
        raw = unbt(name_cell)
        names = []
        base = re.sub(r"\s*\(.*?\)", "", raw)
        base = base.split("→")[0]
        for n in re.split(r"\s*/\s*", base):
            n = n.strip()
            if n:
                names.append(n)
        # "(+ dstid_avp, attrs_avp K4.x)" and "→ ds_probing_threshold (K5.x)"
        extra = re.findall(r"\+\s*([a-z_]+),\s*([a-z_]+)", raw)
        for a, b in extra:
            names += [a, b]
        m = re.search(r"→\s*([a-z_]+)", raw)
        if m:
            names.append(m.group(1))
        types = [t.strip() for t in re.split(r"\s*/\s*", re.sub(r"\s*\(.*?\)", "", typ))]
        span, exact = normalize_span(eras, since_marks=True)
        for k, n in enumerate(names):
            if len(types) == len(names):
                t = types[k]
            elif len(types) == 1:
                t = types[0]
            else:
                t = "|".join(sorted(set(types), reverse=False))
            t = {"str": "str", "int": "int"}.get(t, t)
            rows.append([module, n, t, default, span, eras, typ, raw, notes])
    return rows


# ---------------------------------------------------------------------------
# config-language.md
# ---------------------------------------------------------------------------

def section(text, start_heading, stop_prefix="### "):
    lines = text.split("\n")
    out = []
    on = False
    for i, l in enumerate(lines, 1):
        if l.startswith(start_heading):
            on = True
            continue
        if on and (l.startswith(stop_prefix) or l.startswith("## ")):
            break
        if on:
            out.append((l, i))
    return out


def table_rows(sec):
    rows = []
    header = None
    for l, i in sec:
        if not l.startswith("|"):
            continue
        c = cells(l)
        if is_sep(c):
            continue
        if header is None:
            header = c
            continue
        rows.append((c, i))
    return rows


def value_kind(v):
    v0 = v
    neg = "may be negative" in v
    v = re.sub(r"\s*\(.*?\)", "", v).strip()
    table = {
        "int": "int",
        '"string"': "str",
        '"string" or id': "str-or-id",
        "id": "id",
        "id or \"string\"": "str-or-id",
        "int or id": "int-or-id",
        "int or \"string\"": "int-or-str",
        "IPv4": "ipv4",
        "IPv6": "ipv6",
        "blacklist decl": "blacklist",
        "host/ip/\"string\"": "host",
        "socket list": "socket-list",
    }
    if v in table:
        k = table[v]
    elif v.startswith("socket list"):
        k = "socket-list"
    elif re.fullmatch(r"[A-Za-z0-9]+(\\\|[A-Za-z0-9]+)+", v):
        k = "enum:" + v.replace("\\|", "|")
    else:
        k = "FIXME:" + v0
    if neg:
        k = "int-neg" if k == "int" else k + "-neg"
    return k


def core_param_rows(text):
    rows = []
    for c, ln in table_rows(section(text, "### 2.1 ")):
        ref = unbt(c[0])
        names = []
        for n in re.findall(r"`([^`]+)`", c[0]):
            names += [x.strip() for x in n.split(" / ")]
        if ref.startswith("mpath"):
            names = ["mpath"]
        clean = []
        for n in names:
            n = re.sub(r"\s*=.*$", "", n).strip()
            m = re.fullmatch(r"(.*)\{([a-z,]+)\}(.*)", n)
            if m:
                for x in m.group(2).split(","):
                    clean.append(m.group(1) + x + m.group(3))
                continue
            clean.append(n)
        span, exact = normalize_span(c[2])
        kind = value_kind(c[1])
        renamed = "→" in c[0] or "K5.6+:" in c[0]
        if renamed:
            rows.append(["FIXME-rename", ",".join(clean), kind, span, c[2], c[1], ref, "", "", ""])
        elif "see names" in c[2]:
            for n, e in re.findall(r"`([a-z_]+)` \(([^)]*)\)", c[0]):
                sp, _ = normalize_span(e)
                rows.append([n, "", kind, sp, c[2], c[1], ref, "", "", "era span from the name's parentheses"])
        else:
            rows.append([clean[0], ",".join(clean[1:]), kind, span, c[2], c[1], ref, "", "", ""])
    return rows


def core_action_rows(text):
    rows = []
    for sec in ("### 5.1 ", "### 5.2 ", "### 5.3 ", "### 5.4 ", "### 5.5 "):
        for c, ln in table_rows(section(text, sec)):
            names = re.findall(r"`([A-Za-z_]+)", c[0])
            seen = []
            for n in names:
                if n not in seen:
                    seen.append(n)
            eras_ref = c[-1]
            span, exact = normalize_span(re.sub(r"S0\.8\.[0-9]+", "S0.8", eras_ref))
            if not exact:
                span = "FIXME:" + span
            rows.append([seen[0] if seen else "FIXME", ",".join(seen[1:]), "FIXME", "FIXME",
                         span, eras_ref, "", unbt(c[0]), sec[4:7], unbt(c[2]) if len(c) > 3 else ""])
    return rows


PV_TOKEN = re.compile(r"`\$\(?([A-Za-z_?][A-Za-z0-9_.]*\*?)")


def pv_key(form):
    m = re.match(r"\$\(?([A-Za-z_?][A-Za-z0-9_.]*\*?)", form)
    return m.group(1) if m else None


def pv_entries(cell):
    """[(key, form, [aliases])] of a PV cell: "(`$x`)" after a PV and
    "`$a`/`$b`" are aliases; other backticked PVs are separate entries."""
    out = []
    toks = list(re.finditer(r"`(\$[^`]*)`", cell))
    for i, m in enumerate(toks):
        form = m.group(1)
        key = pv_key(form)
        if key is None:
            continue
        before = cell[toks[i - 1].end():m.start()] if i else cell[:m.start()]
        if out and (before.strip() == "(" or before == "/"):
            if key != out[-1][0] and key not in out[-1][2]:
                out[-1][2].append(key)
            continue
        if any(e[0] == key for e in out):
            continue  # another form of the same PV ($(hdr(name)[N]))
        out.append((key, form, []))
    return out


PV_PROVIDER_SPANS = [
    # (tree part, provider) for the §6.2 table ("pv module in K3.0+, core in
    # O1.2–K1.5"; O1.0–O1.1 had PVs only in xlog formats)
    ({"O1.0", "O1.1"}, "xlog"),
    ({"S2.0"}, "core"),
    ({"O1.2", "O1.3", "K1.4", "K1.5"}, "core"),
    (MERGED_TREE, "pv"),
]


def compress(rel):
    """Releases to a span string (maximal lineage-contiguous runs)."""
    rel = set(rel)
    if not rel:
        return ""
    out = []
    for line in (["S0.8", "S0.9", "S2.0"], ["O1.0", "O1.1", "O1.2", "O1.3", "K1.4", "K1.5"],
                 ["K3.0", "K3.1", "K3.3", "K4.0", "K4.4", "K5.0", "K5.4", "K5.6", "K6.0", "K6.x"]):
        run = []
        for r in line + [None]:
            if r is not None and r in rel:
                run.append(r)
                continue
            if run:
                if run[-1] == "K6.x" and len(run) > 1:
                    out.append(run[0] + "–")
                elif len(run) == 1:
                    out.append(run[0])
                else:
                    out.append(run[0] + "–" + run[-1])
                run = []
    return "; ".join(out)


def pv_rows(text):
    rows = []
    for c, ln in table_rows(section(text, "### 6.2 ")):
        ref = unbt(c[0])
        eras = c[3]
        default = re.sub(r"\s*\(.*?\)", "", eras).strip()
        exceptions = dict()
        for m in re.finditer(r"\(`([^)]*)` (K[0-9.x+]+)\)", eras):
            for f in m.group(1).replace("`", "").split():
                exceptions[pv_key(f)] = m.group(2)
        rw_cell = c[2]
        for key, form, aliases in pv_entries(c[0]):
            span_text = exceptions.get(key, default)
            span, exact = normalize_span(span_text, since_marks=True)
            if not exact or "/" in default or "§" in default or ";" in default:
                span = "FIXME:" + span
            if rw_cell in ("R", "RW", "RW(partly)"):
                write = {"R": "-", "RW": "*", "RW(partly)": "partly"}[rw_cell]
            elif rw_cell == "":
                write = "FIXME"
            else:
                listed = re.findall(r"[A-Za-z]+", rw_cell.split(":")[-1].split("(")[0])
                write = "FIXME-listed" if key in listed or ("$" + key) in rw_cell else "-"
            if span.startswith("FIXME"):
                rows.append([key, form, ",".join(aliases), "FIXME", write, span, eras, ref, unbt(c[1])])
                continue
            rel = span_releases(span)
            for part, prov in PV_PROVIDER_SPANS:
                sub = rel & part
                if sub:
                    rows.append([key, form, ",".join(aliases), prov, write, compress(sub), eras, ref, unbt(c[1])])
    for c, ln in table_rows(section(text, "### 6.4 ")):
        ref = unbt(c[0])
        span, exact = normalize_span(c[2], since_marks=True)
        for key, form, aliases in pv_entries(c[0]):
            rows.append([key, form, ",".join(aliases), unbt(c[1]), "FIXME",
                         span if exact and span != "*" else "FIXME:" + span, c[2], ref, ""])
    return rows


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    here = os.path.dirname(os.path.abspath(__file__))
    default_ref = os.environ.get("SERCOMPAT_SHARED", os.path.join(here, "..", "..", "shared"))
    ap.add_argument("--reference", default=os.path.join(default_ref, "reference"))
    a = ap.parse_args()
    mods = open(os.path.join(a.reference, "modules.md"), encoding="utf-8").read()
    lang = open(os.path.join(a.reference, "config-language.md"), encoding="utf-8").read()
    os.makedirs(a.outdir, exist_ok=True)

    functions, params, modules, removed, lineage_rows = parse_modules(mods)
    frows = function_rows(functions) + removed_function_rows(removed)
    write_tsv(os.path.join(a.outdir, "functions.tsv"), "draft: functions",
              ["module", "lineage", "function", "arity", "routes", "arg_kinds", "args_ref", "returns", "source"],
              frows)
    prows = param_rows(params)  # eras: lone "K5.x" read as "since K5.x"
    write_tsv(os.path.join(a.outdir, "params.tsv"), "draft: module parameters",
              ["module", "param", "type", "default", "eras", "eras_ref", "type_ref", "ref", "notes"], prows)

    # module lifetimes: union of function spans per (module, lineage)
    life = {}
    for r in frows:
        key = (r[0], r[1])
        rel = set()
        for s in SEG_RE.findall(r[3]):
            rel |= releases_between(s[0], s[1] or s[0])
        life.setdefault(key, set()).update(rel)
    mrows = []
    for name, ln in modules:
        lins = sorted({k[1] for k in life if k[0] == name}) or ["FIXME"]
        for lin in lins:
            rel = life.get((name, lin), set())
            mrows.append([name, lin, "FIXME:" + ",".join(sorted(rel, key=RELEASES.index)), ""])
    write_tsv(os.path.join(a.outdir, "modules.tsv"), "draft: modules",
              ["module", "lineage", "eras", "note"], mrows)

    write_tsv(os.path.join(a.outdir, "core_params.tsv"), "draft: core parameters",
              ["name", "aliases", "kind", "eras", "eras_ref", "value_ref", "ref", "renamed_to", "renamed_in", "note"],
              core_param_rows(lang))
    write_tsv(os.path.join(a.outdir, "core_actions.tsv"), "draft: core actions",
              ["action", "aliases", "arity", "arg_kinds", "eras", "eras_ref", "moved_to", "ref", "section", "meaning"],
              core_action_rows(lang))
    write_tsv(os.path.join(a.outdir, "pvs.tsv"), "draft: pseudo-variables",
              ["pv", "form", "aliases", "module", "write", "eras", "eras_ref", "ref", "meaning"],
              pv_rows(lang))
    rrows = []
    for c, ln in removed:
        rrows.append(["FIXME", unbt(c[0]), "", c[1], unbt(c[2]), "", "", "modules.md §1 removed", ""])
    write_tsv(os.path.join(a.outdir, "renames.tsv"), "draft: renames",
              ["kind", "old", "old_module", "old_eras", "new", "new_module", "since", "source", "note"], rrows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

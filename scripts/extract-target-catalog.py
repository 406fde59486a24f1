#!/usr/bin/env python3
"""Extract the target catalog: what Kamailio 5.6 accepts in a routing config.

Reads a tag of a Kamailio git repository (a bare mirror is enough: the files
are read with `git ls-tree` / `git cat-file`) and writes one TSV of facts:

    kind    module  name    detail  routes

with these kinds:

    module       one row per directory src/modules/<m>/ (module = <m>)
    function     a config function of a module; detail = accepted argument
                 counts ("0,1,2", or "var" when any count is accepted),
                 routes = the route-type flag words of its export entries
                 (union over the entries of that name), e.g.
                 "REQUEST_ROUTE|FAILURE_ROUTE" or "ANY_ROUTE"
    param        a module parameter (modparam); detail = value type:
                 "int", "str" or "int|str", with "+func" appended when the
                 module handles the value in a function (PARAM_USE_FUNC)
    core_param   a core parameter (top-level `name = value`), from cfg.lex
                 token patterns used at the start of cfg.y's assign_stm
    core_action  a core statement usable in a route block (cmd, ret_cmd,
                 if/switch/while), from cfg.y
    core_stmt    another top-level keyword (loadmodule, modparam, route
                 blocks, flag declarations, subst...)
    core_cond    a keyword of core conditions (method, uri, src_ip, ...)
    core_prep    a preprocessor directive (#!define, #!ifdef, ...)
    core_limit   max_call_args: the most arguments a function call can have
                 (MAX_ACTIONS - 2), also for variadic functions
    pv           a pseudo-variable class name (without `$`) registered by the
                 module's `pv_export_t` array (the exports' pv_items field);
                 module "core" for the arrays the core registers itself
                 (register_pvars_mod("core", ...): $null, $rc, $env, ...).
                 Families are listed name by name as the arrays list them
                 ($T_reply_code, $tls_version, ...); names with an inner
                 name or index ($hdr(X), $avp(i), $xavp(a=>b)) are listed
                 by class name only

Module exports that a script cannot call (argument count NO_SCRIPT, or no
route flag so no route type matches: the bind_*/load_* APIs) are left out.
Where a function's entries differ in route flags per argument count, the
union is written (the script reports these).

Only facts (names, counts, types) are written; nothing of the source text.

The module's effective exports are the `struct module_exports exports`
(the symbol the loader looks up); its `cmds`, `params` and `pv_items`
fields name the arrays that are parsed. Preprocessor conditionals inside those arrays are
evaluated with the defines of the build (core flags of the Debian 5.6.3
binary plus the module Makefile's DEFS); anything that cannot be parsed is
reported on stderr and listed in the output header.

Usage:
    python3 scripts/extract-target-catalog.py \
        --repo /work/.mirror/kamailio+kamailio/repo --tag 5.6.3 \
        --out compiler/catalog/target-kamailio-5.6.tsv

Stdlib only (Python 3.8+).
"""

import argparse
import re
import subprocess
import sys
from collections import OrderedDict

# Defines the Debian 5.6.3 binary was built with (`kamailio -v` flags) that
# matter for export arrays. Anything else inside #if in an export array is
# taken from the module Makefile (DEFS+=-DX) or treated as undefined.
CORE_DEFINES = {
    "USE_TCP", "USE_TLS", "USE_SCTP", "TLS_HOOKS", "USE_RAW_SOCKS",
    "USE_MCAST", "USE_DNS_CACHE", "USE_DNS_FAILOVER", "USE_NAPTR",
    "USE_DST_BLOCKLIST", "USE_DST_BLACKLIST", "PKG_MALLOC", "SHM_MMAP", "USE_FUTEX",
}

PROBLEMS = []
# exports not callable from a script (param count NO_SCRIPT, or route flags
# 0 so no route type matches): API for other modules, not recorded
API_ONLY = []
# functions whose export entries (per argument count) differ in route flags
MIXED_FLAGS = []
# pv_export_t arrays defined in a module but not named in its exports
UNEXPORTED_PVS = []


def problem(msg):
    PROBLEMS.append(msg)
    print("warning: " + msg, file=sys.stderr)


# ---------------------------------------------------------------------------
# Reading the tag


class Tree:
    def __init__(self, repo, tag, release=None, modules_from=None,
                 lineage="ser", modules_repo=None, modules_dir="modules_s",
                 modules_replace=False):
        self.repo = repo
        self.tag = tag
        # the release a branch name stands for (rel_0_8_14 -> 0.8.14)
        self.release = release
        # "ser" (SER and Kamailio from 3.0: the export layout follows the
        # version, see exports_layout) or "openser" (OpenSER 1.0-1.3 and
        # Kamailio 1.4/1.5, whose versions are below 2.0 like SER 0.x': the
        # layout is read from the snapshot's own sr_module.h)
        self.lineage = lineage
        # 5.0 moved the tree under src/ (core in src/core/); before, the
        # core sat at the top and the modules in modules/
        self.src = "src/" if self.version() >= (5, 0) else ""
        self.core = "src/core/" if self.src else ""
        # 3.x built three module trees side by side: modules/ (merged),
        # modules_k/ (Kamailio lineage) and modules_s/ (SER lineage); a name
        # in two of them is two different modules
        self.module_dirs = ["modules"]
        if lineage == "ser" and (3, 0) <= self.version() < (4, 0):
            self.module_dirs += ["modules_k", "modules_s"]
        out = subprocess.run(
            ["git", "-C", repo, "ls-tree", "-r", "--name-only", tag]
            + (["src"] if self.src else []),
            check=True, capture_output=True, text=True).stdout
        self.paths = out.split("\n")
        self.paths = [p for p in self.paths if p]
        # path -> the commit to read it from (default: tag), and the
        # repository (default: repo)
        self.rev = {}
        self.repo_of = {}
        # The SER releases' branches carry the core and tm only: the other
        # modules lived in a CVS tree of their own, whose trunk the
        # repository holds under modules_s/ (the history reaching
        # `pure_ser_cvs_modules`). modules_from names the commit of that
        # history to take them from; a module the branch has itself wins.
        # Kamailio 1.4/1.5: the core is OpenSER's trunk at the split (in the
        # OpenSIPS repository) and every module comes from the Kamailio
        # modules' own history (modules_k/ of the kamailio repository):
        # modules_repo, modules_dir modules_k, modules_replace.
        self.imported = set()
        self.imported_dir = modules_dir
        if modules_from:
            if modules_replace:
                self.paths = [p for p in self.paths
                              if not p.startswith("modules/")]
            out = subprocess.run(
                ["git", "-C", modules_repo or repo, "ls-tree", "-r",
                 "--name-only", modules_from, modules_dir],
                check=True, capture_output=True, text=True).stdout
            own = {p.split("/")[1] for p in self.paths
                   if p.startswith("modules/") and p.count("/") >= 2}
            for p in out.split("\n"):
                parts = p.split("/")
                if len(parts) >= 3 and parts[1] not in own:
                    self.paths.append(p)
                    self.rev[p] = modules_from
                    if modules_repo:
                        self.repo_of[p] = modules_repo
                    self.imported.add(parts[1])
        self._cache = {}
        # SER before 0.8.11 exported parallel arrays (cmd_names, param_no,
        # ...) instead of cmd_export_t/param_export_t entries
        self.parallel_exports = not self.src and re.search(
            r"char\s*\*\*\s*cmd_names", self.read("sr_module.h")) is not None
        self.header_layout = (openser_layout(self.read("sr_module.h"))
                              if lineage == "openser" else None)

    def read(self, path):
        if path not in self._cache:
            r = subprocess.run(
                ["git", "-C", self.repo_of.get(path, self.repo), "show",
                 "%s:%s" % (self.rev.get(path, self.tag), path)],
                check=True, capture_output=True)
            self._cache[path] = r.stdout.decode("utf-8", "replace")
        return self._cache[path]

    def version(self):
        m = re.match(r"v?(\d+)\.(\d+)", self.release or self.tag)
        return (int(m.group(1)), int(m.group(2))) if m else (99, 0)

    def modules(self):
        """Module keys: the directory name for modules/, `modules_k/<m>`
        and `modules_s/<m>` for the other trees of 3.x."""
        mods = set()
        for p in self.paths:
            parts = p.split("/")
            if self.src:
                if len(parts) >= 4 and parts[0] == "src" and parts[1] == "modules":
                    mods.add(parts[2])
            elif len(parts) >= 3 and parts[0] in self.module_dirs:
                mods.add(parts[1] if parts[0] == "modules"
                         else parts[0] + "/" + parts[1])
        return sorted(mods | self.imported)

    def module_dir(self, key):
        if key in self.imported:
            return self.imported_dir + "/" + key
        return "%s%s" % (self.src, key if "/" in key else "modules/" + key)

    def module_sources(self, mod):
        pre = self.module_dir(mod) + "/"
        return [p for p in self.paths
                if p.startswith(pre) and re.search(r"\.[ch]$", p)]


# ---------------------------------------------------------------------------
# C text helpers


def strip_comments(s):
    """Remove C comments, keep strings and newlines."""
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and s[j] != c:
                if s[j] == "\\":
                    j += 1
                elif s[j] == "\n":
                    break
                j += 1
            out.append(s[i:j + 1])
            i = j + 1
        elif s.startswith("/*", i):
            j = s.find("*/", i + 2)
            if j < 0:
                j = n
            out.append("\n" * s.count("\n", i, j))
            out.append(" ")
            i = j + 2
        elif s.startswith("//", i):
            j = s.find("\n", i)
            if j < 0:
                j = n
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def match_brace(s, start):
    """s[start] == '{'; return the index of the matching '}'."""
    depth = 0
    i, n = start, len(s)
    while i < n:
        c = s[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and s[j] != c:
                if s[j] == "\\":
                    j += 1
                j += 1
            i = j
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def split_top(s, sep=","):
    """Split on sep outside (), {}, [] and strings."""
    parts, depth, cur = [], 0, []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and s[j] != c:
                if s[j] == "\\":
                    j += 1
                j += 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    last = "".join(cur).strip()
    if last:
        parts.append(last)
    return parts


def eval_cond(expr, defines):
    """Evaluate a simple #if expression over defined()/names. None = unknown."""
    e = expr.strip()
    e = re.sub(r"defined\s*\(\s*(\w+)\s*\)",
               lambda m: "1" if m.group(1) in defines else "0", e)
    e = re.sub(r"defined\s+(\w+)",
               lambda m: "1" if m.group(1) in defines else "0", e)
    e = e.replace("&&", " and ").replace("||", " or ")
    e = re.sub(r"!(?!=)", " not ", e)
    if re.search(r"[A-Za-z_]\w*", re.sub(r"\b(and|or|not)\b", "", e)):
        return None
    try:
        return bool(eval(e, {"__builtins__": {}}, {}))
    except Exception:
        return None


def preprocess(body, defines, where):
    """Apply #if/#ifdef/#ifndef/#else/#elif/#endif to lines of body."""
    out = []
    stack = []  # (active_parent, this_taken, any_taken)
    active = True
    for line in body.split("\n"):
        st = line.strip()
        m = re.match(r"#\s*(\w+)\s*(.*)", st)
        if not m:
            if active:
                out.append(line)
            continue
        d, arg = m.group(1), m.group(2)
        if d in ("ifdef", "ifndef", "if"):
            if d == "ifdef":
                v = arg.split()[0] in defines
            elif d == "ifndef":
                v = arg.split()[0] not in defines
            else:
                v = eval_cond(arg, defines)
                if v is None:
                    problem("%s: cannot evaluate '#if %s', assumed true"
                            % (where, arg))
                    v = True
            stack.append((active, v))
            active = active and v
        elif d == "elif":
            parent, taken = stack.pop()
            v = eval_cond(arg, defines)
            if v is None:
                problem("%s: cannot evaluate '#elif %s', assumed false"
                        % (where, arg))
                v = False
            v = v and not taken
            stack.append((parent, taken or v))
            active = parent and v
        elif d == "else":
            parent, taken = stack.pop()
            stack.append((parent, True))
            active = parent and not taken
        elif d == "endif":
            active, _ = stack.pop()
        elif d in ("define", "undef", "include", "error", "warning",
                   "pragma", "line"):
            pass
        else:
            problem("%s: unknown directive #%s" % (where, d))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Modules


def module_defines(tree, mod):
    defs = set(CORE_DEFINES)
    mk = tree.module_dir(mod) + "/Makefile"
    if mk in tree.paths:
        for line in tree.read(mk).split("\n"):
            line = line.split("#", 1)[0]
            for d in re.findall(r"-D(\w+)", line):
                if re.match(r"\s*DEFS\s*\+?=", line):
                    defs.add(d)
    return defs


def module_text(tree, mod):
    """All C sources of the module, comments stripped, with included
    sibling-module .c files (e.g. tlsa includes ../tls/tls_mod.c)."""
    texts = OrderedDict()

    def add(path):
        if path in texts or path not in tree.paths:
            return
        t = strip_comments(tree.read(path))
        texts[path] = t
        base = path.rsplit("/", 1)[0]
        for inc in re.findall(r'#\s*include\s+"([^"]+\.c)"', t):
            p = base
            for part in inc.split("/"):
                if part == "..":
                    p = p.rsplit("/", 1)[0]
                elif part != ".":
                    p = p + "/" + part
            add(p)

    for p in tree.module_sources(mod):
        add(p)
    return texts


def find_macros(texts):
    macros = {}
    for t in texts.values():
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.+)$",
                             t, re.M):
            macros.setdefault(m.group(1), m.group(2).strip())
    return macros


def resolve(tok, macros, depth=0):
    tok = tok.strip()
    while tok.startswith("(") and tok.endswith(")") and \
            match_paren(tok) == len(tok) - 1:
        tok = tok[1:-1].strip()
    if depth < 8 and re.fullmatch(r"[A-Za-z_]\w*", tok) and tok in macros:
        return resolve(macros[tok], macros, depth + 1)
    return tok


def match_paren(s):
    depth = 0
    for i, c in enumerate(s):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def c_string(tok, macros):
    """Value of a string literal, a concatenation of literals and macros
    naming literals (MODULE_NAME "_enable"), or None."""
    out = []
    for m in re.finditer(r'\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*))\s*|(.)',
                         tok):
        if m.group(3) is not None:
            return None
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            v = resolve(m.group(2), macros)
            if v == m.group(2):
                return None
            v = c_string(v, macros)
            if v is None:
                return None
            out.append(v)
    return "".join(out) if out else None


def find_exports(texts, mod, defines):
    """The loader looks up the symbol `exports`, then `_<module>_exports`.
    Conditionals inside the initializer (`#ifdef STATISTICS` around the
    stats field until 5.1) are evaluated before the fields are split."""
    for sym in ("exports", "_%s_exports" % mod.rsplit("/", 1)[-1]):
        for path, t in texts.items():
            m = re.search(r"struct\s+module_exports\s+%s\s*=\s*\{" % sym, t)
            if m:
                end = match_brace(t, m.end() - 1)
                # `#ifdef X struct ... a = { #else struct ... exports = {
                # #endif`: the initializer opens with that `#endif`
                body = re.sub(r"^\s*#\s*endif[^\n]*", "", t[m.end():end])
                body = preprocess(body, defines, path)
                return path, split_top(body)
    return None, None


def find_array(texts, ctype, name):
    for path, t in texts.items():
        m = re.search(r"\b%s\s+%s\s*\[\s*\w*\s*\]\s*=\s*\{"
                      % (ctype, re.escape(name)), t)
        if m:
            end = match_brace(t, m.end() - 1)
            return path, t[m.end():end]
    return None, None


ROUTE_WORDS = {
    "REQUEST_ROUTE", "FAILURE_ROUTE", "TM_ONREPLY_ROUTE", "BRANCH_ROUTE",
    "ONSEND_ROUTE", "ERROR_ROUTE", "LOCAL_ROUTE", "CORE_ONREPLY_ROUTE",
    "BRANCH_FAILURE_ROUTE", "ONREPLY_ROUTE", "ONEVENT_ROUTE", "EVENT_ROUTE",
    "ANY_ROUTE",
}


def flag_words(expr, macros, where):
    words = []
    for w in split_top(resolve(expr, macros), "|"):
        w = resolve(w, macros)
        if "|" in w:
            words.extend(flag_words(w, macros, where))
        elif w in ROUTE_WORDS:
            words.append(w)
        elif w == "0":
            continue
        elif w == "-1":
            # every bit set: any route (SER 2.0's xcap)
            words.append("ANY_ROUTE")
        else:
            problem("%s: unknown route flag word %r" % (where, w))
            words.append(w)
    return words


def entries(body, defines, where):
    body = preprocess(body, defines, where)
    out = []
    i = 0
    while True:
        j = body.find("{", i)
        if j < 0:
            break
        k = match_brace(body, j)
        out.append(split_top(body[j + 1:k]))
        i = k + 1
    return out


def is_null(tok):
    return tok in ("0", "NULL", "(char*)0", "(char *)0", "(char*)NULL",
                   "(char *)NULL", "")


def struct_fields(header, name):
    """(type, field name) of each member of `struct NAME { ... }` in a C
    header, in order; [] when the header has no such struct."""
    t = strip_comments(header)
    m = re.search(r"\bstruct\s+%s\s*\{" % re.escape(name), t)
    if not m:
        return []
    body = preprocess(t[m.end():match_brace(t, m.end() - 1)], CORE_DEFINES,
                      "sr_module.h:" + name)
    fields = []
    for decl in body.split(";"):
        decl = " ".join(decl.split())
        f = re.fullmatch(r"(.*?[\s*])\s*(\w+)\s*(?:\[[^\]]*\])?", decl)
        if f:
            fields.append((f.group(1).replace(" ", ""), f.group(2)))
    return fields


def openser_layout(header):
    """OpenSER's exports as its own sr_module.h declares them. The struct
    grew between its releases: 1.0 had SER 0.9's (name, cmds, params,
    ...), 1.1 added stats after params, 1.2 dlflags after the name and
    mi_cmds and items (pseudo-variables, as item_export_t) after stats,
    1.3 procs (and items became pv_export_t); cmd_export_t got free_fixup
    before flags on 2007-10-04 (1.3), moving the flags from the 5th field
    to the 6th. Only a pv_export_t array is read as pseudo-variables."""
    exports = struct_fields(header, "module_exports")
    cmd = struct_fields(header, "cmd_export_")
    names = [n for _, n in exports]
    types = dict((n, t) for t, n in exports)
    cmd_names = [n for _, n in cmd]
    if "cmds" not in names or "params" not in names or \
            "flags" not in cmd_names:
        raise SystemExit("sr_module.h: no cmds/params in module_exports or "
                         "no flags in cmd_export_: not OpenSER's layout")
    pvs = None
    for n in names:
        if types[n].startswith("pv_export_t"):
            pvs = names.index(n)
    return {"cmds": names.index("cmds"), "params": names.index("params"),
            "pvs": pvs, "flags": cmd_names.index("flags")}


def exports_layout(tree, defines):
    """Where `struct module_exports` keeps its arrays, and where a
    cmd_export_t entry keeps its route flags, for this module and release.

    Until 5.1 two interfaces lived side by side: SER's (Makefile defines
    SER_MOD_INTERFACE: name, cmds, rpc, params, ...; entries
    {name, function, param_no, fixup, flags}) and Kamailio's (name,
    dlflags, cmds, params, stats, mi_cmds, pv items, ...; entries
    {name, function, param_no, fixup, free_fixup, flags}). 5.2 made one
    (name, dlflags, cmds, params, rpc, pv items, ...).

    Before 3.0 there was SER's alone: 0.8 and 0.9 without the rpc array
    (name, cmds, params, ...), 2.0 with it.

    OpenSER and Kamailio 1.x (lineage "openser"): as the snapshot's
    sr_module.h declares it (openser_layout), whatever the version."""
    if tree.header_layout is not None:
        return tree.header_layout
    if tree.version() < (2, 0):
        return {"cmds": 1, "params": 2, "pvs": None, "flags": 4}
    if "SER_MOD_INTERFACE" in defines or tree.version() < (3, 0):
        return {"cmds": 1, "params": 3, "pvs": None, "flags": 4}
    if tree.version() < (5, 2):
        return {"cmds": 2, "params": 3, "pvs": 6, "flags": 5}
    return {"cmds": 2, "params": 3, "pvs": 5, "flags": 5}


def array_items(texts, tok, defines, where):
    """Elements of an array field of the pre-0.8.11 exports: an inline
    compound literal (`(char*[]){"a", "b"}`) or the name of a static array
    (`cmd_names`); [] for 0/NULL."""
    t = re.sub(r"^\(\s*\w+\s*\**\s*(?:\[\s*\])?\s*\)\s*", "",
               tok.strip())
    if is_null(t):
        return []
    if t.startswith("{"):
        body = t[1:match_brace(t, 0)]
    else:
        body = None
        for text in texts.values():
            m = re.search(r"\b%s\s*\[\s*\w*\s*\]\s*=\s*\{" % re.escape(t),
                          text)
            if m:
                body = text[m.end():match_brace(text, m.end() - 1)]
                break
        if body is None:
            problem("%s: array %s not found" % (where, t))
            return []
    return [x for x in split_top(preprocess(body, defines, where)) if x]


def paired_items(texts, macros, defines, where, names, values, count):
    """(name token, resolved value) of two parallel arrays of the pre-0.8.11
    exports, as many as the count field says when it is a number; a value
    the second array lacks is ''."""
    name_toks = array_items(texts, names, defines, where)
    value_toks = array_items(texts, values, defines, where)
    n = resolve(count, macros)
    if re.fullmatch(r"\d+", n):
        name_toks = name_toks[:int(n)]
    return [(tok, resolve(value_toks[i], macros) if i < len(value_toks) else "")
            for i, tok in enumerate(name_toks)]


def parse_parallel_exports(texts, macros, defines, fields, mod, path):
    """SER before 0.8.11: the exports are parallel arrays (names, functions,
    argument counts, fixups; then parameter names, types, pointers), with no
    route flags (every function is allowed in every route)."""
    funcs, params = OrderedDict(), OrderedDict()
    where = "%s:exports" % path
    for tok, n in paired_items(texts, macros, defines, where,
                               fields[1], fields[3], fields[5]):
        name = c_string(tok, macros)
        if name is not None and re.fullmatch(r"-\d+", n):
            # a negative count: an API for other modules (tm's load_tm)
            API_ONLY.append("%s.%s" % (mod, name))
            continue
        if name is None or not re.fullmatch(r"\d+", n):
            problem("%s: cannot read command %r (%r)" % (where, tok, n))
            continue
        if name.startswith("~"):
            # `~db_*`: the database API, named so no script can call it
            API_ONLY.append("%s.%s" % (mod, name))
            continue
        f = funcs.setdefault(name, {"n": [], "flags": [], "sets": []})
        if int(n) not in f["n"]:
            f["n"].append(int(n))
        if "ANY_ROUTE" not in f["flags"]:
            f["flags"].append("ANY_ROUTE")
            f["sets"] = [{"ANY_ROUTE"}]
    for tok, ty in paired_items(texts, macros, defines, where,
                                fields[6], fields[7], fields[9]):
        name = c_string(tok, macros)
        if name is None or ty not in ("STR_PARAM", "INT_PARAM"):
            problem("%s: cannot read parameter %r (%r)" % (where, tok, ty))
            continue
        p = params.setdefault(name, {"int": False, "str": False,
                                     "func": False})
        p["int" if ty == "INT_PARAM" else "str"] = True
    return funcs, params


def feature_defines(texts):
    """Names a module defines without a value in its own sources (tm's
    `#define CANCEL_REASON_SUPPORT` in defs.h): feature switches that
    conditionals around export entries test. One defined only for some
    builds (tls's engine switch, for OpenSSL before 3) counts as defined:
    the tables are the union over the builds of a release."""
    names = set()
    for t in texts.values():
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]*$", t,
                             re.M):
            names.add(m.group(1))
    return names


def parse_module(tree, mod):
    texts = module_text(tree, mod)
    macros = find_macros(texts)
    defines = module_defines(tree, mod) | feature_defines(texts)
    funcs, params, pvs = OrderedDict(), OrderedDict(), []
    path, fields = find_exports(texts, mod, defines)
    if fields is None:
        problem("%s: no 'struct module_exports exports' found (no "
                "functions/params/pvs recorded)" % mod)
        return funcs, params, pvs
    if tree.parallel_exports:
        if len(fields) < 10:
            problem("%s: module_exports has %d fields" % (mod, len(fields)))
            return funcs, params, pvs
        funcs, params = parse_parallel_exports(texts, macros, defines,
                                               fields, mod, path)
        return funcs, params, pvs
    if len(fields) < 6:
        problem("%s: module_exports has %d fields" % (mod, len(fields)))
        return funcs, params, pvs
    layout = exports_layout(tree, defines)
    cmds_name = re.sub(r"^\(.*?\)", "", fields[layout["cmds"]]).strip()
    params_name = re.sub(r"^\(.*?\)", "", fields[layout["params"]]).strip()

    if not is_null(cmds_name):
        apath, body = find_array(texts, "cmd_export_t", cmds_name)
        if body is None:
            problem("%s: cmd_export_t %s[] not found" % (mod, cmds_name))
        else:
            where = "%s:%s" % (apath, cmds_name)
            for e in entries(body, defines, where):
                if not e or is_null(e[0]):
                    continue
                name = c_string(e[0], macros)
                if name is None or len(e) < 5:
                    problem("%s: cannot parse entry %r" % (where, e))
                    continue
                n = resolve(e[2], macros)
                if n == "VAR_PARAM_NO":
                    n = "var"
                elif n == "NO_SCRIPT":
                    API_ONLY.append("%s.%s" % (mod, name))
                    continue
                elif re.fullmatch(r"-?\d+", n):
                    n = int(n)
                else:
                    problem("%s: %s: cannot read param count %r"
                            % (where, name, e[2]))
                    continue
                # a missing flags field is 0: no route type matches
                fl = layout["flags"]
                words = flag_words(e[fl] if len(e) > fl else "0", macros,
                                   where + ":" + name)
                if not words:
                    API_ONLY.append("%s.%s" % (mod, name))
                    continue
                f = funcs.setdefault(name, {"n": [], "flags": [], "sets": []})
                if set(words) not in f["sets"]:
                    f["sets"].append(set(words))
                if n not in f["n"]:
                    f["n"].append(n)
                for w in words:
                    if w not in f["flags"]:
                        f["flags"].append(w)

    if not is_null(params_name):
        apath, body = find_array(texts, "param_export_t", params_name)
        if body is None:
            problem("%s: param_export_t %s[] not found" % (mod, params_name))
        else:
            where = "%s:%s" % (apath, params_name)
            for e in entries(body, defines, where):
                if not e or is_null(e[0]):
                    continue
                name = c_string(e[0], macros)
                if name is None or len(e) < 3:
                    problem("%s: cannot parse entry %r" % (where, e))
                    continue
                p = params.setdefault(name, {"int": False, "str": False,
                                             "func": False})
                for w in split_top(resolve(e[1], macros), "|"):
                    w = resolve(w, macros)
                    if w in ("PARAM_INT", "INT_PARAM"):
                        p["int"] = True
                    elif w in ("PARAM_STR", "PARAM_STRING", "STR_PARAM"):
                        p["str"] = True
                    elif w in ("PARAM_USE_FUNC", "USE_FUNC_PARAM"):
                        p["func"] = True
                    elif w == "PARAM_USE_SHM":
                        pass  # where the value is kept, not its type
                    else:
                        problem("%s: %s: unknown param type word %r"
                                % (where, name, w))

    pvs_name = "0"
    if layout["pvs"] is not None and len(fields) > layout["pvs"]:
        pvs_name = re.sub(r"^\(.*?\)", "", fields[layout["pvs"]]).strip()
    if not is_null(pvs_name):
        pvs = parse_pv_array(texts, macros, defines, pvs_name, mod)
    # pv_export_t arrays the module defines but does not export: not
    # registered by the loader (reported, not recorded)
    for t in texts.values():
        for m in re.finditer(r"\bpv_export_t\s+(\w+)\s*\[\s*\w*\s*\]\s*=",
                             t):
            if m.group(1) != pvs_name:
                UNEXPORTED_PVS.append("%s:%s" % (mod, m.group(1)))
    return funcs, params, pvs


def pv_name(tok, macros):
    """Name of a pv_export_t entry's first field: `{"ru", (sizeof("ru")-1)}`,
    `STR_STATIC_INIT("?")` or `str_init("x")`. '' for the terminator."""
    tok = tok.strip()
    m = re.fullmatch(r"(?:STR_STATIC_INIT|str_init)\s*\((.*)\)", tok, re.S)
    if m:
        return c_string(m.group(1), macros)
    if tok.startswith("{") and tok.endswith("}"):
        inner = split_top(tok[1:-1])
        if not inner or is_null(inner[0]):
            return ""
        return c_string(inner[0], macros)
    return None


def parse_pv_array(texts, macros, defines, name, owner):
    """Names of a pv_export_t array, in order. Entries the core would reject
    (no get function or type PVT_NONE: pv_table_add fails) are reported and
    left out."""
    apath, body = find_array(texts, "pv_export_t", name)
    if body is None:
        problem("%s: pv_export_t %s[] not found" % (owner, name))
        return []
    where = "%s:%s" % (apath, name)
    names = []
    for e in entries(body, defines, where):
        if not e:
            continue
        n = pv_name(e[0], macros)
        if n == "":
            continue
        if n is None or len(e) < 3:
            problem("%s: cannot parse pv entry %r" % (where, e))
            continue
        if is_null(resolve(e[2], macros)) or resolve(e[1], macros) in (
                "PVT_NONE", "0"):
            problem("%s: pv %s has no get function or no type (rejected "
                    "by the core)" % (where, n))
            continue
        if not re.fullmatch(r"[A-Za-z0-9_.?]+", n):
            problem("%s: pv name %r has characters the core rejects"
                    % (where, n))
            continue
        if n not in names:
            names.append(n)
    return names


def param_type(p):
    t = "|".join(k for k in ("int", "str") if p[k]) or "?"
    return t + ("+func" if p["func"] else "")


def arities(ns):
    if "var" in ns:
        return "var"
    return ",".join(str(n) for n in sorted(ns))


# ---------------------------------------------------------------------------
# Core keywords


def lex_keywords(lex):
    """Map of token name -> list of literal keywords from cfg.lex."""
    defs_part, rules_part = lex.split("\n%%", 2)[0:2]
    patterns = {}
    for line in strip_comments(defs_part).split("\n"):
        m = re.match(r"^([A-Z][A-Z0-9_]*)\s+(\S.*)$", line)
        if not m:
            continue
        words = []
        for alt in m.group(2).strip().split("|"):
            alt = alt.strip()
            if alt.startswith('"') and alt.endswith('"'):
                alt = alt[1:-1]
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:]*", alt):
                words.append(alt)
        patterns[m.group(1)] = words
    tokens = {}
    for m in re.finditer(r"<INITIAL>\{(\w+)\}\s*\{([^}]*?)return\s+(\w+)\s*;",
                         rules_part):
        d, tok = m.group(1), m.group(3)
        for w in patterns.get(d, []):
            lst = tokens.setdefault(tok, [])
            if w not in lst:
                lst.append(w)
    # preprocessor directives: rules starting with {PREP_START}{X}
    prep = set()
    for m in re.finditer(r"(?m)^<[A-Z_,]*INITIAL[A-Z_,]*>\{PREP_START\}\{(\w+)\}",
                         rules_part):
        for w in patterns.get(m.group(1), []):
            prep.add(w)
    return tokens, prep, patterns


def yacc_rules(y):
    """rule name -> list of alternatives (lists of symbols, actions removed)."""
    body = y.split("\n%%", 2)[1]
    body = strip_comments(body)
    # remove actions { ... }
    out, i, n = [], 0, len(body)
    while i < n:
        c = body[i]
        if c == "{":
            k = match_brace(body, i)
            out.append(" ")
            i = k + 1
        elif c == "'":
            j = body.find("'", i + 1)
            out.append(body[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    body = "".join(out)
    rules = {}
    # a rule ends at a `;` line, or where the next rule starts (yacc lets
    # the `;` out: OpenSER 1.2's blst_elem_list)
    for m in re.finditer(r"(?m)^([a-z_][a-z0-9_]*)\s*:(.*?)"
                         r"(?:^\s*;|(?=^[a-z_][a-z0-9_]*\s*:))", body, re.S):
        alts = [a.split() for a in m.group(2).split("|")]
        rules.setdefault(m.group(1), []).extend(alts)
    return rules


def core_rows(tree):
    lex = tree.read(tree.core + "cfg.lex")
    y = tree.read(tree.core + "cfg.y")
    tokens, prep, patterns = lex_keywords(lex)
    rules = yacc_rules(y)

    def is_tok(sym):
        return re.fullmatch(r"[A-Z][A-Z0-9_]*", sym) and sym not in (
            "ID", "STRING", "NUMBER", "LPAREN", "LBRACE", "DOT", "EQUAL")

    def first_tokens(rule, need_equal=False):
        """Tokens starting an alternative of rule; a nonterminal in first
        place whose alternatives are all single tokens is expanded
        (avpflag_oper). With need_equal, only `TOK = ...` and
        `TOK . TOK = ...` (kemi.xxx); the latter yields (TOK, TOK)."""
        toks = []
        for alt in rules.get(rule, []):
            if not alt:
                continue
            if need_equal:
                if is_tok(alt[0]) and len(alt) > 1 and alt[1] == "EQUAL":
                    t = alt[0]
                elif (len(alt) > 3 and is_tok(alt[0]) and alt[1] == "DOT"
                      and is_tok(alt[2]) and alt[3] == "EQUAL"):
                    t = (alt[0], alt[2])
                else:
                    continue
                if t not in toks:
                    toks.append(t)
                continue
            firsts = [alt[0]]
            sub = rules.get(alt[0])
            if sub and all(len(a) == 1 and is_tok(a[0]) for a in sub):
                firsts = [a[0] for a in sub]
            for t in firsts:
                if is_tok(t) and t not in toks:
                    toks.append(t)
        return toks

    kinds = OrderedDict()
    kinds["core_param"] = first_tokens("assign_stm", need_equal=True)
    kinds["core_action"] = []
    for r in ("cmd", "ret_cmd", "if_cmd", "switch_cmd", "while_cmd",
              "single_case"):
        kinds["core_action"] += first_tokens(r)
    kinds["core_stmt"] = []
    for r in ("module_stm", "preprocess_stm", "flags_decl", "avpflags_decl",
              "route_main", "failure_route_main", "route_reply_main",
              "branch_route_main", "send_route_main", "event_route_main"):
        kinds["core_stmt"] += first_tokens(r)
    kinds["core_cond"] = []
    for r in ("exp_elem", "eint_op", "eint_op_onsend", "eip_op",
              "eip_op_onsend", "uri_type"):
        kinds["core_cond"] += first_tokens(r)

    rows = set()
    # a call takes at most MAX_ACTIONS-2 arguments (val[0], val[1] are the
    # export and the count): "Too many arguments" beyond
    m = re.search(r"#\s*define\s+MAX_ACTIONS\s+\(?\s*(\d+)\s*\+\s*(\d+)\s*\)?",
                  tree.read(tree.core + "route_struct.h"))
    if m:
        rows.add(("core_limit", "core", "max_call_args",
                  str(int(m.group(1)) + int(m.group(2)) - 2), "-"))
    else:
        problem("core: MAX_ACTIONS not found in route_struct.h")
    for w in prep:
        rows.add(("core_prep", "core", "#!" + w, "-", "-"))
    for kind, toks in kinds.items():
        for tok in toks:
            if isinstance(tok, tuple):
                for a in tokens.get(tok[0], []):
                    for b in tokens.get(tok[1], []):
                        rows.add((kind, "core", a + "." + b, "-", "-"))
                continue
            words = tokens.get(tok)
            if not words:
                # e.g. TLSLOG: the lexer returns TLS_PORT_NO for "tlslog";
                # SUBST*: preprocessor directives, recorded as core_prep
                if tok not in patterns:
                    problem("core: token %s (%s) has no literal keyword"
                            % (tok, kind))
                continue
            for w in words:
                rows.add((kind, "core", w, "-", "-"))
    return rows


def core_pv_rows(tree):
    """PVs the core registers itself: the arrays passed as
    register_pvars_mod("core", X) in src/core (and src/main.c)."""
    texts = OrderedDict()
    for p in tree.paths:
        if tree.src:
            core = p.startswith("src/core/") or p == "src/main.c"
        else:
            core = not re.match(r"(modules|modules_[ks]|lib|utils|test)/", p)
        if core and p.endswith(".c"):
            t = tree.read(p)
            if "register_pvars_mod" in t:
                texts[p] = strip_comments(t)
    rows = set()
    found = False
    for path, t in texts.items():
        for m in re.finditer(
                r'register_pvars_mod\s*\(\s*"core"\s*,\s*(\w+)\s*\)', t):
            found = True
            one = OrderedDict([(path, t)])
            for n in parse_pv_array(one, find_macros(one), set(CORE_DEFINES),
                                    m.group(1), "core"):
                rows.add(("pv", "core", n, "-", "-"))
    if not found:
        problem("core: no register_pvars_mod(\"core\", ...) call found")
    return rows


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default="/work/.mirror/kamailio+kamailio/repo")
    ap.add_argument("--tag", default="5.6.3")
    ap.add_argument("--out", default="compiler/catalog/target-kamailio-5.6.tsv")
    ap.add_argument("--release", help="the release a branch stands for "
                    "(--tag rel_0_8_14 --release 0.8.14), written in the "
                    "header for scripts/merge-release-catalogs.py")
    ap.add_argument("--modules-from", metavar="COMMIT",
                    help="read the modules the tag lacks from modules_s/ "
                    "(--modules-dir) of this commit (the SER releases "
                    "before 3.0)")
    ap.add_argument("--modules-repo", metavar="REPO",
                    help="the repository of --modules-from (default --repo)")
    ap.add_argument("--modules-dir", default="modules_s", metavar="DIR",
                    help="the directory of --modules-from holding the "
                    "modules (modules_k: the Kamailio 1.x modules' history)")
    ap.add_argument("--modules-replace", action="store_true",
                    help="take every module from --modules-from, none from "
                    "the tag (Kamailio 1.4/1.5: OpenSER core, Kamailio "
                    "modules)")
    ap.add_argument("--origin", default="github.com/kamailio/kamailio",
                    help="the public repository --repo mirrors, for the "
                    "header")
    ap.add_argument("--lineage", choices=("ser", "openser"), default="ser",
                    help="openser: OpenSER 1.x and Kamailio 1.x, whose "
                    "export layout is read from the tag's sr_module.h "
                    "(default ser: SER and Kamailio from 3.0, by version)")
    args = ap.parse_args()

    tree = Tree(args.repo, args.tag, args.release, args.modules_from,
                args.lineage, args.modules_repo, args.modules_dir,
                args.modules_replace)
    rows = set()
    for mod in tree.modules():
        rows.add(("module", mod, "-", "-", "-"))
        funcs, params, pvs = parse_module(tree, mod)
        for name in pvs:
            rows.add(("pv", mod, name, "-", "-"))
        for name, f in funcs.items():
            if len(f["sets"]) > 1:
                MIXED_FLAGS.append("%s.%s" % (mod, name))
            rows.add(("function", mod, name, arities(f["n"]),
                      "|".join(f["flags"]) or "-"))
        for name, p in params.items():
            rows.add(("param", mod, name, param_type(p), "-"))
    rows |= core_rows(tree)
    rows |= core_pv_rows(tree)

    counts = OrderedDict()
    for r in sorted(rows):
        counts[r[0]] = counts.get(r[0], 0) + 1

    with open(args.out, "w") as fh:
        fh.write("# Target catalog: what Kamailio %s accepts in a routing "
                 "config (facts only:\n" % args.tag)
        fh.write("# names, argument counts, value types).\n")
        fh.write("# Generated by scripts/extract-target-catalog.py from tag "
                 "%s of %s;\n" % (args.tag, args.origin))
        fh.write("# do not edit by hand, re-run the script.\n")
        if args.release:
            fh.write("# release: %s\n" % args.release)
        if args.modules_from:
            fh.write("# %s from %s/ of commit %s%s\n" % (
                "every module" if args.modules_replace
                else "modules other than the tag's own",
                args.modules_dir, args.modules_from,
                " of " + args.modules_repo if args.modules_repo else ""))
        fh.write("# kinds: module (one per src/modules/<m>/), function "
                 "(detail = argument counts\n")
        fh.write("#   or 'var'; routes = route-type flag words, union over "
                 "the export entries),\n")
        fh.write("#   param (detail = int | str | int|str, '+func' when "
                 "PARAM_USE_FUNC),\n")
        fh.write("#   core_param (name = value), core_action (statement in "
                 "a route block),\n")
        fh.write("#   core_stmt (other top-level keyword), core_cond "
                 "(keyword of core conditions),\n")
        fh.write("#   core_prep (preprocessor directive; '!!' works as "
                 "well as '#!'),\n")
        fh.write("#   core_limit (max_call_args: most arguments a function "
                 "call can take, also for 'var'),\n")
        fh.write("#   pv (a pseudo-variable class name, without '$', that the "
                 "module's pv_export_t\n")
        fh.write("#   array registers; module 'core' for those the core "
                 "registers itself).\n")
        fh.write("# Exports not callable from a script (API for other "
                 "modules) are left out.\n")
        fh.write("# rows: %s\n" % ", ".join(
            "%s %d" % kv for kv in counts.items()))
        for msg in PROBLEMS:
            fh.write("# not parsed: %s\n" % " ".join(msg.split()))
        fh.write("kind\tmodule\tname\tdetail\troutes\n")
        for r in sorted(rows):
            fh.write("\t".join(r) + "\n")
    for k, v in counts.items():
        print("%-12s %d" % (k, v))
    print("route flags differ between arities (union written): %d: %s"
          % (len(MIXED_FLAGS), " ".join(MIXED_FLAGS)), file=sys.stderr)
    if UNEXPORTED_PVS:
        print("pv_export_t arrays not in the exports (not recorded): %s"
              % " ".join(UNEXPORTED_PVS), file=sys.stderr)
    print("left out (not callable from a script): %d: %s"
          % (len(API_ONLY), " ".join(sorted(API_ONLY))), file=sys.stderr)
    if PROBLEMS:
        print("%d problem(s)" % len(PROBLEMS), file=sys.stderr)


if __name__ == "__main__":
    main()

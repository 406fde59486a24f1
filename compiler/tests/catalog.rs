//! The module catalog: consistency with the reference spec
//! (`../shared/reference/modules.md`, `config-language.md`) and behaviour of
//! the lookups.
//!
//! The reference is found through `SERCOMPAT_SHARED` or `../shared` beside
//! the repository; without it the consistency tests are skipped loudly, and
//! fail under `CI=true`.

use sercompat_compiler::catalog::{
    self, catalog, ArgKind, Availability, CoreParamLookup, EraSpan, FunctionSource, Lineage,
    Release, RenameKind, RouteType, Sampling,
};
use sercompat_grammar::dialect::ALL_ERAS;
use sercompat_grammar::Era;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

// ---------------------------------------------------------------------------
// Reading the reference
// ---------------------------------------------------------------------------

fn reference_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("SERCOMPAT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let dir = shared.join("reference");
    if dir.join("modules.md").is_file() && dir.join("config-language.md").is_file() {
        return Some(dir);
    }
    let msg = format!(
        "{} is absent: the catalog consistency tests need the reference beside the checkout \
         (or SERCOMPAT_SHARED=/path/to/shared)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The cells of a markdown table row, `\|` unescaped.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut prev = ' ';
    for c in inner.chars() {
        if c == '|' && prev != '\\' {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push(c);
        }
        prev = c;
    }
    out.into_iter()
        .map(|s| s.trim().replace("\\|", "|"))
        .collect()
}

fn is_separator(c: &[String]) -> bool {
    c.iter()
        .all(|x| !x.is_empty() && x.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
}

fn unbt(s: &str) -> String {
    s.replace('`', "")
}

/// A table row of the reference with its line number.
struct RefRow {
    line: usize,
    cells: Vec<String>,
}

/// modules.md: per-module function and parameter tables, the removed table,
/// and the module headings.
#[derive(Default)]
struct ModulesMd {
    headings: Vec<String>,
    functions: Vec<(String, RefRow)>,
    params: Vec<(String, RefRow)>,
    removed: Vec<RefRow>,
}

fn parse_modules_md(text: &str) -> ModulesMd {
    let mut md = ModulesMd::default();
    let mut module: Option<String> = None;
    let mut table = "";
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = line.strip_prefix("### ") {
            module = Some(h.trim().to_string());
            md.headings.push(h.trim().to_string());
            table = "";
            continue;
        }
        if let Some(h) = line.strip_prefix("#### `") {
            let name = h.split('`').next().unwrap().to_string();
            md.headings.push(name.clone());
            module = Some(name);
            table = "";
            continue;
        }
        if line.starts_with("## ") {
            module = None;
            table = "";
            continue;
        }
        if !line.starts_with('|') {
            if !line.trim().is_empty() {
                table = "";
            }
            continue;
        }
        let c = cells(line);
        if is_separator(&c) {
            continue;
        }
        match c[0].as_str() {
            "function" => table = "function",
            "param" => table = "param",
            "Old call" => table = "removed",
            "Function area" | "Topic" => table = "other",
            _ => {
                let row = RefRow {
                    line: i + 1,
                    cells: c,
                };
                match table {
                    "function" => md.functions.push((module.clone().unwrap(), row)),
                    "param" => md.params.push((module.clone().unwrap(), row)),
                    "removed" => md.removed.push(row),
                    _ => {}
                }
            }
        }
    }
    md
}

/// The table rows of a config-language.md section (`### 2.1 `), header skipped.
fn section_rows(text: &str, heading: &str) -> Vec<RefRow> {
    let mut on = false;
    let mut header = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with(heading) {
            on = true;
            continue;
        }
        if on && (line.starts_with("### ") || line.starts_with("## ")) {
            break;
        }
        if !on || !line.starts_with('|') {
            continue;
        }
        let c = cells(line);
        if is_separator(&c) {
            continue;
        }
        if !header {
            header = true;
            continue;
        }
        out.push(RefRow {
            line: i + 1,
            cells: c,
        });
    }
    assert!(!out.is_empty(), "no table rows under `{heading}`");
    out
}

/// A span cell in the plain forms `A`, `A+`, `A–B`, comma-separated, with an
/// optional trailing remark in parentheses; `None` for other forms.
fn regular_span(cell: &str, sampling: Sampling) -> Option<EraSpan> {
    let cell = match cell.find(" (") {
        Some(i) if cell.ends_with(')') => &cell[..i],
        _ => cell,
    };
    let code = |s: &str| Release::from_code(s).is_some();
    let mut segs = Vec::new();
    for part in cell.split(", ") {
        let part = part.trim();
        if let Some(a) = part.strip_suffix('+') {
            if !code(a) {
                return None;
            }
            segs.push(format!("{a}–"));
        } else if let Some((a, b)) = part.split_once('–') {
            if !code(a) || !code(b) {
                return None;
            }
            segs.push(part.to_string());
        } else if code(part) {
            segs.push(part.to_string());
        } else {
            return None;
        }
    }
    Some(EraSpan::parse(&segs.join("; "), sampling).expect("regular span parses"))
}

// ---------------------------------------------------------------------------
// (a) consistency with the reference
// ---------------------------------------------------------------------------

/// Modules the catalog has beyond the reference, each with why: configs
/// the runtime must run unchanged load them.
const BEYOND_REFERENCE: &[(&str, &str)] = &[(
    "print",
    "the SER 0.8.8 default ser.cfg (a seed config) loads it; print(text) writes to stdout",
)];

/// Module parameters the catalog has although the reference does not
/// list them, each with why.
const PARAMS_BEYOND_REFERENCE: &[(&str, &str, &str)] = &[
    (
        "tm",
        "failure_reply_mode",
        "the Kamailio 3.1 default kamailio.cfg (a seed config) sets it",
    ),
    (
        "acc",
        "detect_direction",
        "the Kamailio 3.1 default kamailio.cfg (a seed config) sets it",
    ),
];

fn beyond_reference(module: &str) -> bool {
    BEYOND_REFERENCE
        .iter()
        .any(|(m, why)| *m == module && !why.is_empty())
}

#[test]
fn modules_match_the_reference() {
    let Some(dir) = reference_dir() else { return };
    let md = parse_modules_md(&read(&dir, "modules.md"));
    let c = catalog();
    let ours: BTreeSet<&str> = c
        .modules()
        .iter()
        .map(|m| m.name)
        .filter(|m| !beyond_reference(m))
        .collect();
    let theirs: BTreeSet<&str> = md.headings.iter().map(String::as_str).collect();
    assert_eq!(
        ours, theirs,
        "modules.tsv vs the module headings of modules.md §2"
    );
}

#[test]
fn functions_match_the_reference() {
    let Some(dir) = reference_dir() else { return };
    let md = parse_modules_md(&read(&dir, "modules.md"));
    let c = catalog();
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (module, row) in &md.functions {
        let [name, args, arity, routes, returns] = &row.cells[..] else {
            panic!(
                "modules.md:{}: function row with {} cells",
                row.line,
                row.cells.len()
            );
        };
        let name = unbt(name);
        let rows: Vec<_> = c
            .functions()
            .iter()
            .filter(|f| f.module == module && f.name == name && f.source == FunctionSource::Table)
            .collect();
        let at = format!("modules.md:{} {module}.{name}", row.line);
        if rows.is_empty() {
            errors.push(format!("{at}: missing from functions.tsv"));
            continue;
        }
        seen.insert((module.as_str(), name.clone()));
        let mut ours: Vec<&str> = rows.iter().flat_map(|f| f.arity_ref.split("; ")).collect();
        let mut theirs: Vec<&str> = arity.split("; ").collect();
        ours.sort();
        theirs.sort();
        if ours != theirs {
            errors.push(format!(
                "{at}: arity segments {ours:?} vs reference {theirs:?}"
            ));
        }
        for f in &rows {
            if f.routes.to_string() != *routes
                && routes.chars().collect::<BTreeSet<_>>()
                    != f.routes.to_string().chars().collect::<BTreeSet<_>>()
            {
                errors.push(format!("{at}: routes {} vs {routes}", f.routes));
            }
            if f.args_ref != args {
                errors.push(format!("{at}: args_ref `{}` vs `{args}`", f.args_ref));
            }
            if f.returns != returns {
                errors.push(format!("{at}: returns `{}` vs `{returns}`", f.returns));
            }
        }
    }
    for f in c.functions() {
        if f.source == FunctionSource::Table
            && !beyond_reference(f.module)
            && !seen.contains(&(f.module, f.name.to_string()))
        {
            errors.push(format!(
                "functions.tsv {}.{}: not in the reference's module tables",
                f.module, f.name
            ));
        }
    }
    // Rows from the removed-functions table must be named there.
    let removed_text: String = md
        .removed
        .iter()
        .map(|r| r.cells[0].clone())
        .collect::<Vec<_>>()
        .join(" ");
    for f in c.functions() {
        if f.source == FunctionSource::Removed && !removed_text.contains(&format!("`{}(", f.name)) {
            errors.push(format!(
                "functions.tsv {}: marked `removed` but not in the removed-functions table",
                f.name
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn removed_functions_have_renames() {
    let Some(dir) = reference_dir() else { return };
    let md = parse_modules_md(&read(&dir, "modules.md"));
    let c = catalog();
    let mut errors = Vec::new();
    for row in &md.removed {
        for part in row.cells[0].split('`').skip(1).step_by(2) {
            // `name(args)` or `setflag`-style list `a/b/c`
            let head = part.split(['(', '[']).next().unwrap();
            for name in head.split('/') {
                let name = name.trim();
                if name.is_empty() || name == "setflag" {
                    continue; // "`setflag`-style" names the family, not a function
                }
                if c.rename_of(name).is_empty() {
                    errors.push(format!(
                        "modules.md:{}: `{name}` has no row in renames.tsv",
                        row.line
                    ));
                }
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Parameter names mentioned by a reference name cell.
fn param_names(cell: &str) -> Vec<String> {
    let text = unbt(cell);
    text.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .filter(|w| !w.is_empty())
        .filter(|w| !(matches!(*w, "sic" | "x") || (w.starts_with('K') && w.len() == 2)))
        .map(str::to_string)
        .collect()
}

/// Catalog parameters whose spans were adjusted by hand from the row's
/// remarks (so the plain reading of the eras cell does not apply).
const PARAM_SPAN_EXCEPTIONS: &[(&str, &str, &str)] = &[
    ("tm", "retr_timer2", "also SER 0.9 per the row's remark"),
    ("tm", "retr_timer1p1", "SER 0.9 name from the row's remark"),
    (
        "tm",
        "retr_timer1p2",
        "SER 0.9 name from the row's remark (retr_timer1p1..p3)",
    ),
    (
        "tm",
        "retr_timer1p3",
        "SER 0.9 name from the row's remark (retr_timer1p1..p3)",
    ),
    (
        "dispatcher",
        "ds_probing_threshhold",
        "≤K4.x per the name cell",
    ),
    (
        "dispatcher",
        "ds_probing_threshold",
        "K5.x per the name cell",
    ),
];

#[test]
fn params_match_the_reference() {
    let Some(dir) = reference_dir() else { return };
    let md = parse_modules_md(&read(&dir, "modules.md"));
    let c = catalog();
    let mut errors = Vec::new();
    let mut refs = BTreeSet::new();
    for (module, row) in &md.params {
        let [name, ty, default, eras, _notes] = &row.cells[..] else {
            panic!(
                "modules.md:{}: param row with {} cells",
                row.line,
                row.cells.len()
            );
        };
        let reference = unbt(name);
        let at = format!("modules.md:{} {module} `{reference}`", row.line);
        refs.insert((module.clone(), reference.clone()));
        let rows: Vec<_> = c
            .params()
            .iter()
            .filter(|p| p.module == module && p.reference == reference)
            .collect();
        if rows.is_empty() {
            errors.push(format!("{at}: missing from params.tsv"));
            continue;
        }
        for n in param_names(name) {
            if !rows.iter().any(|p| p.name == n) {
                errors.push(format!("{at}: `{n}` has no row"));
            }
        }
        let lifetime = c.module_named(module).unwrap().eras;
        let plain = match eras.as_str() {
            "all" | "" => Some(lifetime),
            e => regular_span(e, Sampling::Modules).map(|s| s.intersect(lifetime)),
        };
        for p in &rows {
            if p.ty_ref != ty || p.eras_ref != eras || p.default != default {
                errors.push(format!(
                    "{at}: {} type/eras/default `{}`/`{}`/`{}` vs `{ty}`/`{eras}`/`{default}`",
                    p.name, p.ty_ref, p.eras_ref, p.default
                ));
            }
            let expected = match p.ty_ref {
                t if t.starts_with("int") && !t.contains('/') => "int",
                "str" => "str",
                _ => "",
            };
            if !expected.is_empty() && p.ty.to_string() != expected {
                errors.push(format!("{at}: {} type {} vs {ty}", p.name, p.ty));
            }
            let exception = PARAM_SPAN_EXCEPTIONS
                .iter()
                .any(|(m, n, _)| *m == p.module && *n == p.name);
            let mentioned = unbt(name).contains(p.name) || eras.contains(p.name);
            if !mentioned && !exception {
                errors.push(format!("{at}: catalog name `{}` is not in the row", p.name));
            }
            if let (Some(plain), false) = (plain, exception) {
                if p.eras != plain {
                    errors.push(format!(
                        "{at}: {} eras {} vs reference {plain}",
                        p.name, p.eras
                    ));
                }
            }
        }
    }
    for p in c.params() {
        let beyond = PARAMS_BEYOND_REFERENCE
            .iter()
            .any(|(m, n, why)| *m == p.module && *n == p.name && !why.is_empty());
        if !beyond && !refs.contains(&(p.module.to_string(), p.reference.to_string())) {
            errors.push(format!(
                "params.tsv {}.{}: reference row `{}` not found",
                p.module, p.name, p.reference
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Core parameter names of a §2.1 name cell.
fn core_param_names(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in cell.split('`').skip(1).step_by(2) {
        for n in part.split(" / ") {
            let n = n.split(" = ").next().unwrap().trim();
            if let (Some(i), Some(j)) = (n.find('{'), n.find('}')) {
                for alt in n[i + 1..j].split(',') {
                    out.push(format!("{}{alt}{}", &n[..i], &n[j + 1..]));
                }
            } else if !n.contains('*') && n != "loadpath" && n != "sctp" {
                // `dst_blocklist_*`: a family (rows are spelled out);
                // `loadpath`: the §2.2 statement mpath is an alias of;
                // `sctp`: the module named in a remark.
                out.push(n.to_string());
            }
        }
    }
    out
}

#[test]
fn core_params_match_the_reference() {
    let Some(dir) = reference_dir() else { return };
    let text = read(&dir, "config-language.md");
    let c = catalog();
    let mut errors = Vec::new();
    let mut refs = BTreeSet::new();
    for row in section_rows(&text, "### 2.1 ") {
        let [name, value, eras] = &row.cells[..] else {
            panic!("config-language.md:{}: {} cells", row.line, row.cells.len());
        };
        let reference = unbt(name);
        refs.insert(reference.clone());
        let at = format!("config-language.md:{} `{reference}`", row.line);
        let rows: Vec<_> = c
            .core_params()
            .iter()
            .filter(|p| p.reference == reference)
            .collect();
        if rows.is_empty() {
            errors.push(format!("{at}: missing from core_params.tsv"));
            continue;
        }
        for n in core_param_names(name) {
            if !rows.iter().any(|p| p.names().any(|x| x == n)) {
                errors.push(format!("{at}: `{n}` has no row"));
            }
        }
        for p in &rows {
            if p.value_ref != value || p.eras_ref != eras {
                errors.push(format!(
                    "{at}: {} value/eras `{}`/`{}` vs `{value}`/`{eras}`",
                    p.name, p.value_ref, p.eras_ref
                ));
            }
        }
        if let Some(plain) = regular_span(eras, Sampling::Language) {
            let union = rows.iter().fold(EraSpan::EMPTY, |s, p| s.union(p.eras));
            if union != plain {
                errors.push(format!("{at}: eras {union} vs reference {plain}"));
            }
        }
    }
    for p in c.core_params() {
        if !refs.contains(p.reference) {
            errors.push(format!(
                "core_params.tsv {}: reference row `{}` not found",
                p.name, p.reference
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Statement keywords and module functions listed in §5 that are not core
/// actions of the catalog, with the reason.
const NOT_CORE_ACTIONS: &[(&str, &str)] = &[
    ("drop", "statement (§3.4), kept in the AST"),
    ("exit", "statement (§3.4), kept in the AST"),
    ("return", "statement (§3.4), kept in the AST"),
    ("break", "statement (§3.4), kept in the AST"),
    ("setxflag", "corex module function (functions.tsv)"),
    ("resetxflag", "corex module function (functions.tsv)"),
    ("isxflagset", "corex module function (functions.tsv)"),
];

#[test]
fn core_actions_match_the_reference() {
    let Some(dir) = reference_dir() else { return };
    let text = read(&dir, "config-language.md");
    let c = catalog();
    let mut errors = Vec::new();
    let mut first_cells = String::new();
    for sec in ["### 5.1 ", "### 5.2 ", "### 5.3 ", "### 5.4 ", "### 5.5 "] {
        for row in section_rows(&text, sec) {
            let action = &row.cells[0];
            let eras = row.cells.last().unwrap();
            first_cells.push_str(&unbt(action));
            first_cells.push('\n');
            for part in action.split('`').skip(1).step_by(2) {
                for piece in part.split('/') {
                    let name: String = piece
                        .chars()
                        .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                        .collect();
                    if name.is_empty() || NOT_CORE_ACTIONS.iter().any(|(n, _)| *n == name) {
                        continue;
                    }
                    match c.core_action_named(&name) {
                        None => errors.push(format!(
                            "config-language.md:{}: `{name}` missing from core_actions.tsv",
                            row.line
                        )),
                        Some(a) if !a.eras_ref.contains(eras.as_str()) => errors.push(format!(
                            "config-language.md:{}: `{name}` eras_ref `{}` lacks `{eras}`",
                            row.line, a.eras_ref
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    for a in c.core_actions() {
        for n in a.names() {
            if !first_cells.contains(n) {
                errors.push(format!("core_actions.tsv `{n}`: not in §5"));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The PV keys of a reference cell (`$ru`, `$(hdr(name)[N])` → `hdr`).
fn pv_keys(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|p| p.starts_with('$'))
        .map(|p| catalog::pv_key(p).to_string())
        .filter(|k| !k.is_empty())
        .collect()
}

#[test]
fn pvs_match_the_reference() {
    let Some(dir) = reference_dir() else { return };
    let text = read(&dir, "config-language.md");
    let c = catalog();
    let mut errors = Vec::new();
    let mut refs = BTreeMap::new();
    for (sec, eras_col) in [("### 6.2 ", 3), ("### 6.4 ", 2)] {
        for row in section_rows(&text, sec) {
            let reference = unbt(&row.cells[0]);
            let eras = &row.cells[eras_col];
            let at = format!("config-language.md:{}", row.line);
            refs.insert(reference.clone(), (sec, row.cells.clone()));
            for key in pv_keys(&row.cells[0]) {
                let rows = c.pvs_named(&key);
                if rows.is_empty() {
                    errors.push(format!("{at}: `${key}` missing from pvs.tsv"));
                }
                for p in rows.iter().filter(|p| p.reference == reference) {
                    if p.eras_ref != eras {
                        errors.push(format!(
                            "{at}: `${key}` eras_ref `{}` vs `{eras}`",
                            p.eras_ref
                        ));
                    }
                }
                if !rows.iter().any(|p| p.reference == reference) {
                    errors.push(format!("{at}: `${key}` has no row with this ref"));
                }
            }
        }
    }
    for p in c.pvs() {
        let Some((sec, cells)) = refs.get(p.reference) else {
            errors.push(format!("pvs.tsv `${}`: reference row not found", p.key));
            continue;
        };
        let provider_ok = if *sec == "### 6.2 " {
            matches!(p.module, "core" | "pv" | "xlog" | "avpops")
        } else {
            cells[1].contains(p.module)
        };
        if !provider_ok {
            errors.push(format!(
                "pvs.tsv `${}`: provider `{}` not stated by the row",
                p.key, p.module
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ---------------------------------------------------------------------------
// (b) behaviour: spans, era mapping, lookups
// ---------------------------------------------------------------------------

fn counts(name: &str, era: Era) -> Vec<u8> {
    let fs = catalog::function(name, era);
    assert!(!fs.is_empty(), "`{name}` absent in {era}");
    fs.iter()
        .map(|f| f.arities(era).unwrap())
        .reduce(|a, b| a.union(b))
        .unwrap()
        .counts()
}

#[test]
fn t_relay_arities_by_era() {
    assert_eq!(counts("t_relay", Era::Kamailio5), vec![0, 2]);
    assert_eq!(counts("t_relay", Era::OpenSer12), vec![0, 1, 2]);
    assert_eq!(counts("t_relay", Era::OpenSer10), vec![0, 1]);
    assert_eq!(counts("t_relay", Era::Ser08), vec![0]);
    // the SER and the OpenSER tm are different modules of the same name
    let k5 = catalog::function("t_relay", Era::Kamailio5);
    assert_eq!(k5.len(), 1);
    assert_eq!((k5[0].module, k5[0].lineage), ("tm", Lineage::Ser));
    let o12 = catalog::function("t_relay", Era::OpenSer12);
    assert_eq!((o12[0].module, o12[0].lineage), ("tm", Lineage::OpenSer));
}

#[test]
fn sl_send_reply_takes_two_args_in_every_era() {
    for era in ALL_ERAS {
        if era == Era::Rules2001 {
            assert!(catalog::function("sl_send_reply", era).is_empty());
            continue;
        }
        assert_eq!(counts("sl_send_reply", era), vec![2], "{era}");
    }
    let f = &catalog::function("sl_send_reply", Era::Kamailio5)[0];
    assert!(f.routes.allows(RouteType::Request));
    assert!(!f.routes.allows(RouteType::Failure));
}

#[test]
fn rewrite_from_route_exists_only_in_ser_08() {
    for era in ALL_ERAS {
        let found = !catalog::function("rewriteFromRoute", era).is_empty();
        assert_eq!(found, era == Era::Ser08, "{era}");
    }
    let r = catalog::rename_of("rewriteFromRoute");
    assert_eq!(r[0].new, "loose_route");
    assert_eq!(r[0].kind, RenameKind::Function);
    assert_eq!(catalog::rename_of("t_on_negative")[0].new, "t_on_failure");
    assert_eq!(catalog::rename_of("addRecordRoute")[0].new, "record_route");
}

#[test]
fn mi_fifo_is_gone_from_k5() {
    assert!(catalog::module("mi_fifo", Era::OpenSer12).is_some());
    assert!(catalog::module("mi_fifo", Era::Kamailio4).is_some());
    for era in [Era::Kamailio5, Era::Kamailio6] {
        assert!(catalog::module("mi_fifo", era).is_none());
        assert!(catalog::module_functions("mi_fifo", era).is_empty());
        assert!(catalog::module_param("mi_fifo", "fifo_name", era).is_none());
    }
    assert!(catalog::module_param("mi_fifo", "fifo_name", Era::Kamailio4).is_some());
    assert!(catalog::module_param("jsonrpcs", "fifo_name", Era::Kamailio5).is_some());
    let r = catalog::rename_of("mi_fifo");
    assert!(r.iter().any(|r| r.kind == RenameKind::Module
        && r.new == "jsonrpcs"
        && r.since == Some(Release::K5_0)));
}

#[test]
fn fifo_core_param_removed() {
    assert!(matches!(
        catalog::core_param("fifo", Era::Ser08),
        CoreParamLookup::Present(_)
    ));
    let k5 = catalog::core_param("fifo", Era::Kamailio5);
    let CoreParamLookup::Absent { availability, .. } = &k5 else {
        panic!("fifo in K5: {k5:?}");
    };
    assert_eq!(
        availability,
        &Availability::Removed {
            last_seen: vec![Release::S0_9, Release::O1_1],
            gone_in: vec![Release::S2_0, Release::O1_2],
        }
    );
    let msg = k5.to_string();
    assert!(msg.contains("removed") && msg.contains("O1.1"), "{msg}");
    assert!(matches!(
        catalog::core_param("no_such_param", Era::Kamailio5),
        CoreParamLookup::Unknown
    ));
}

#[test]
fn renamed_core_params_say_so() {
    let l = catalog::core_param("use_dst_blacklist", Era::Kamailio6);
    assert!(
        l.to_string()
            .contains("renamed to `use_dst_blocklist` in K5.6"),
        "{l}"
    );
    assert!(matches!(
        catalog::core_param("use_dst_blocklist", Era::Kamailio6),
        CoreParamLookup::Present(_)
    ));
    assert!(matches!(
        catalog::core_param("dst_blacklist_ttl", Era::Kamailio4),
        CoreParamLookup::Present(_)
    ));
    let new = catalog::core_param("dst_blocklist_init", Era::Kamailio4);
    let CoreParamLookup::Absent { availability, .. } = new else {
        panic!()
    };
    assert_eq!(
        availability,
        Availability::NotYet {
            first: Release::K5_6
        }
    );
    assert_eq!(
        catalog::rename_of("dst_blacklist_mem")[0].new,
        "dst_blocklist_mem"
    );
}

#[test]
fn ru_provider_changes_in_k3() {
    let o = catalog::pv("$ru", Era::OpenSer12);
    assert_eq!(o.iter().map(|p| p.module).collect::<Vec<_>>(), vec!["core"]);
    for era in [
        Era::Kamailio3,
        Era::Kamailio4,
        Era::Kamailio5,
        Era::Kamailio6,
    ] {
        let v = catalog::pv("$ru", era);
        assert_eq!(
            v.iter().map(|p| p.module).collect::<Vec<_>>(),
            vec!["pv"],
            "{era}"
        );
        assert!(v[0].writable_in(era));
    }
    assert!(catalog::pv("$ru", Era::Ser2).is_empty());
    assert!(catalog::pv("ruri", Era::Kamailio5)
        .iter()
        .any(|p| p.key == "ru"));
    assert_eq!(
        catalog::pv("$(hdr(Via)[0])", Era::Kamailio5)[0].module,
        "pv"
    );
    assert_eq!(
        catalog::pv("$tls_peer_subject", Era::Kamailio5)[0].module,
        "tls"
    );
    let fu = &catalog::pv("$fu", Era::OpenSer12)[0];
    assert!(!fu.writable_in(Era::OpenSer12));
    assert!(catalog::pv("$fu", Era::Kamailio5)[0].writable_in(Era::Kamailio5));
    let t = catalog::pv("$T_req(pv)", Era::OpenSer12);
    assert_eq!(t[0].module, "tm");
    assert_eq!(catalog::pv("$T_req(pv)", Era::Kamailio4)[0].module, "tmx");
}

#[test]
fn core_actions_move_to_modules() {
    let c = catalog::core_action("append_branch", Era::Kamailio3).unwrap();
    assert_eq!(c.moved_to, Some(("corex", Release::K4_0)));
    assert!(catalog::core_action("append_branch", Era::Kamailio4).is_none());
    let f = catalog::function("append_branch", Era::Kamailio4);
    assert_eq!(f[0].module, "corex");
    assert!(catalog::core_action("seth", Era::Ser08).is_some());
    assert_eq!(
        catalog::core_action("forward", Era::Kamailio5)
            .unwrap()
            .arities(Era::Kamailio5)
            .unwrap()
            .counts(),
        vec![0, 1, 2]
    );
    assert_eq!(
        catalog::core_action("forward", Era::Ser2)
            .unwrap()
            .arities(Era::Ser2)
            .unwrap()
            .counts(),
        vec![1, 2]
    );
    assert!(catalog::core_action("setbflag", Era::Kamailio3).is_none());
    assert!(!catalog::function("setbflag", Era::Kamailio3).is_empty());
}

#[test]
fn module_params_by_era() {
    let p = catalog::module_param("tm", "fr_timer", Era::Ser08).unwrap();
    assert_eq!(p.ty.to_string(), "int");
    assert!(catalog::module_param("dispatcher", "ds_probing_threshhold", Era::Kamailio4).is_some());
    assert!(catalog::module_param("dispatcher", "ds_probing_threshhold", Era::Kamailio5).is_none());
    assert!(catalog::module_param("dispatcher", "ds_probing_threshold", Era::Kamailio5).is_some());
    // a module param never outlives its module
    assert!(catalog::module_param("dispatcher", "list_file", Era::Ser08).is_none());
    assert!(catalog::module_param("registrar", "nat_flag", Era::Kamailio3).is_none());
    assert!(catalog::module_param("usrloc", "nat_bflag", Era::Kamailio3).is_some());
}

#[test]
fn argument_kinds() {
    let f = &catalog::function("t_on_failure", Era::Kamailio5)[0];
    assert_eq!(f.args.for_count(1).unwrap()[0].0, vec![ArgKind::Route]);
    let s = &catalog::function("search", Era::Ser08)[0];
    assert!(s.args.for_count(1).unwrap()[0].accepts(ArgKind::Re));
    let x = catalog::function("xlog", Era::Kamailio5);
    let k = &x[0].args;
    assert_eq!(k.for_count(1).unwrap()[0].0, vec![ArgKind::Str]);
    assert_eq!(k.for_count(3).unwrap().len(), 3);
}

#[test]
fn implemented_marks_follow_the_list() {
    let c = catalog();
    // sl, maxfwd and tm's relaying are in; dispatcher is not yet.
    let f = |m: &str, n: &str| {
        c.functions()
            .iter()
            .filter(|f| f.module == m && f.name == n)
            .all(|f| f.implemented)
    };
    assert!(f("sl", "sl_send_reply") && f("maxfwd", "mf_process_maxfwd_header"));
    assert!(f("tm", "t_relay") && !f("tm", "t_replicate"));
    assert!(c
        .functions()
        .iter()
        .filter(|f| f.module == "dispatcher")
        .all(|f| !f.implemented));
    assert!(c
        .core_action_named("forward")
        .is_some_and(|a| a.implemented));
    // Only the parameters listed are marked.
    let marked: Vec<(&str, &str)> = c
        .params()
        .iter()
        .filter(|p| p.implemented)
        .map(|p| (p.module, p.name))
        .collect();
    assert!(marked.contains(&("maxfwd", "max_limit")), "{marked:?}");
    assert!(marked.contains(&("tm", "fr_timer")), "{marked:?}");
    assert!(!marked.contains(&("tm", "noisy_ctimer")), "{marked:?}");
    assert!(c.module_named("sl").is_some_and(|m| m.implemented));
    assert!(c.module_named("dispatcher").is_some_and(|m| !m.implemented));
}

#[test]
fn every_function_lives_in_its_module_and_lineage() {
    let c = catalog();
    for f in c.functions() {
        let m = c.module_named(f.module).unwrap();
        assert!(
            m.lineages
                .iter()
                .any(|(l, s)| *l == f.lineage && s.intersect(f.eras()) == f.eras()),
            "{}.{}",
            f.module,
            f.name
        );
    }
    let tm = c.module_named("tm").unwrap();
    let lineages: Vec<Lineage> = tm.lineages.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lineages,
        vec![Lineage::Ser, Lineage::OpenSer, Lineage::Merged]
    );
}

#[test]
fn era_mapping() {
    use catalog::era_releases;
    assert_eq!(
        era_releases(Era::OpenSer10),
        &[Release::O1_0, Release::O1_1]
    );
    assert!(era_releases(Era::OpenSer12).contains(&Release::K1_5));
    assert!(era_releases(Era::Kamailio5).contains(&Release::K5_6));
    assert!(era_releases(Era::Rules2001).is_empty());
}

// ---------------------------------------------------------------------------
// The era catalog against the release tables
// ---------------------------------------------------------------------------

/// The sampled era catalog and the release tables (`releases-kamailio.tsv`)
/// agree on the common modules' functions in the eras both cover: what the
/// catalog gives `tm`, `sl`, `rr`, … in an era is exported by some release
/// of the era, except the names listed here with why.
#[test]
fn era_catalog_functions_are_in_the_release_tables() {
    use sercompat_compiler::catalog::release_exports::ReleaseExports;
    // (era, function): names of trunk snapshots or stable-branch backports
    // that the tables' releases do not show
    const ONLY_IN_THE_CATALOG: &[(Era, &str)] = &[
        // 2002 trunk, before 0.8.8 (the first release in the tables)
        (Era::Ser08, "t_fork_to_uri"),
        (Era::Ser08, "t_fork_on_no_response"),
        (Era::Ser08, "mf_add_maxfwd_header"),
        // added to the modules' trunk in 2004, after 0.8.12/0.8.14 left
        // it (October 2003); backported to the 0.8 branch, whose modules
        // the repository does not hold
        (Era::Ser08, "subst_user"),
        (Era::Ser08, "append_time"),
        (Era::Ser08, "registered"),
        // trunk after the 2.0 branch (2007-11, 2008-04)
        (Era::Ser2, "remove_hf_re"),
        (Era::Ser2, "save_mem_nr"),
        // the reference samples OpenSER 1.1 and 1.3, and the catalog
        // carries 1.1's names into 1.2; OpenSER's trunk had dropped them
        // before 1.2 branched: tm's t_forward_nonack on 2007-01-25 (DNS
        // failover), t_lookup_request and t_retransmit_reply on 2007-02-16,
        // registrar's save_noreply/save_memory on 2006-11-22 (flags of
        // save() instead)
        (Era::OpenSer12, "t_lookup_request"),
        (Era::OpenSer12, "t_retransmit_reply"),
        (Era::OpenSer12, "t_forward_nonack"),
        (Era::OpenSer12, "save_noreply"),
        (Era::OpenSer12, "save_memory"),
    ];
    const MODULES: &[&str] = &[
        "tm",
        "sl",
        "rr",
        "maxfwd",
        "textops",
        "registrar",
        "usrloc",
        "auth",
        "auth_db",
    ];
    let tables = ReleaseExports::kamailio();
    let mut missing = Vec::new();
    for era in [
        Era::Ser08,
        Era::Ser09,
        Era::Ser2,
        Era::OpenSer10,
        Era::OpenSer12,
        Era::Kamailio3,
        Era::Kamailio4,
        Era::Kamailio5,
    ] {
        let exports = tables.era(era).expect("tables for the era");
        for m in MODULES {
            for f in catalog::module_functions(m, era) {
                if exports.providers(f.name).is_empty()
                    && !ONLY_IN_THE_CATALOG.contains(&(era, f.name))
                {
                    missing.push(format!("{era}: {m}.{}", f.name));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "in the era catalog, in no release of the era: {missing:#?}"
    );
}

/// Facts checked by hand against the sources of each release branch.
#[test]
fn release_tables_by_hand() {
    use sercompat_compiler::catalog::release_exports::{ModuleExports, ReleaseExports};
    let t = ReleaseExports::kamailio();
    let s08 = t.era(Era::Ser08).unwrap();
    // 0.8.8–0.8.10 exported parallel arrays; 0.8.9 dropped `sl_filter_ACK`
    assert!(s08.accepts("sl", "sl_filter_ACK", 0).0);
    assert!(s08.accepts("rr", "rewriteFromRoute", 0).0);
    assert!(s08.accepts("tm", "t_on_negative", 1).0);
    assert!(s08.accepts("tm", "t_relay_to", 2).0);
    assert!(!s08.accepts("sl", "sl_send_reply", 1).0);
    let s2 = t.era(Era::Ser2).unwrap();
    assert!(s2.accepts("tm", "t_on_branch", 1).0);
    assert!(s2.accepts("registrar", "save", 1).0);
    let k3 = t.era(Era::Kamailio3).unwrap();
    // the Kamailio-lineage registrar's save takes flags; the SER one a
    // table and flags too, in 3.x
    assert!(k3.accepts("modules_k/registrar", "save", 2).0);
    assert!(k3.accepts("modules_s/registrar", "save_noreply", 1).0);
    assert!(k3.accepts("modules_k/textops", "search_append_body", 2).0);
    assert!(k3.accepts("tm", "t_relay", 2).0);
    assert_eq!(k3.module("modules_k/maxfwd"), ModuleExports::Known);
    assert!(k3.is_core_param("mpath"));
    assert!(!k3.is_core_param("fifo"));
    assert!(!t.era(Era::Kamailio4).unwrap().is_core_param("fifo"));
    // OpenSER 1.0/1.1 (trunk at the branch points, OpenSIPS history):
    // tm's t_relay took no argument in 1.0 and one from 1.1; registrar's
    // save one (a domain); usrloc's db_mode an integer; the core still
    // read `fifo`, which 1.2 replaced with the mi_fifo module
    let o10 = t.era(Era::OpenSer10).unwrap();
    assert!(o10.accepts("tm", "t_relay", 0).0);
    assert!(o10.accepts("tm", "t_relay", 1).0);
    assert!(!o10.accepts("tm", "t_relay", 2).0);
    assert!(o10.accepts("tm", "t_relay_to_udp", 2).0);
    assert!(o10.accepts("textops", "search_append", 2).0);
    assert!(o10.accepts("registrar", "save", 1).0);
    assert!(!o10.accepts("registrar", "save", 2).0);
    assert_eq!(
        o10.param_types("usrloc", "db_mode"),
        vec![sercompat_compiler::catalog::target::ParamType::Int]
    );
    assert!(o10.is_core_param("check_via"));
    assert!(o10.is_core_param("fifo"));
    assert!(o10.is_core_param("mpath"));
    // OpenSER 1.2/1.3, Kamailio 1.4/1.5: save with flags, t_relay with
    // flags; textops' remove_hf_re and set_reply_body are 1.5's (2008-12,
    // 2009-02 on the modules' trunk)
    let o12 = t.era(Era::OpenSer12).unwrap();
    assert!(o12.accepts("registrar", "save", 2).0);
    assert!(o12.accepts("tm", "t_relay", 2).0);
    assert!(o12.accepts("textops", "remove_hf_re", 1).0);
    assert!(o12.accepts("textops", "set_reply_body", 2).0);
    assert_eq!(
        o12.function_releases("set_reply_body").describe(),
        "Kamailio 1.5 and 3.0–6.1"
    );
    assert!(o12.is_core_param("check_via"));
    assert!(!o12.is_core_param("fifo"));
}

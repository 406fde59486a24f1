//! `check --translate`: the seed configs translate to files real Kamailio
//! 5.6 accepts (every `WITH_*` variant), and translating a translation
//! changes nothing.

use sercompat_compiler::translate::{self, Target, Translation};
use sercompat_compiler::variants;
use sercompat_grammar::Options;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("sercompat-translate-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn translate_file(path: &Path) -> (variants::Variants, Translation) {
    let opts = Options {
        cwd: path.parent().map(Path::to_path_buf),
        ..Options::default()
    };
    let v = variants::check(path, &opts, false).expect("readable");
    let t = translate::translate(&v, &Target::newest());
    (v, t)
}

/// The translation's errors, as text.
fn errors(v: &variants::Variants, t: &Translation) -> Vec<String> {
    t.diags
        .iter()
        .filter(|(_, d)| d.is_error())
        .map(|(vi, d)| {
            let p = &v.variants[*vi].parsed;
            let (l, c) = d
                .primary_span()
                .map_or((0, 0), |s| p.db.line_col(s.file, s.start as usize));
            format!("{l}:{c}: [{}] {} {:?}", d.code, d.message, d.notes)
        })
        .collect()
}

/// Writes the translated root file to `dir` and returns its path.
fn write_root(t: &Translation, dir: &Path, name: &str) -> PathBuf {
    let root = t.files.iter().find(|f| f.root).expect("a root file");
    let out = dir.join(name);
    std::fs::write(&out, &root.output).expect("write");
    out
}

fn seed(name: &str) -> Option<PathBuf> {
    sercompat_tests::shared_dir().map(|s| s.join("corpus/seed").join(name))
}

/// Each seed translates, and Kamailio 5.6 accepts the result under every
/// define set sercompat translated it for. A define set under which the
/// original itself is broken (the K3.1 default's `WITH_ACCDB` without
/// `WITH_MYSQL` leaves `DBURL` undefined) must show a translation error
/// instead; the set without `-A` and the set with every name on must be
/// clean.
fn seed_is_accepted(name: &str) {
    let Some(path) = seed(name) else { return };
    let Some((bin, modules)) = sercompat_tests::kamailio() else {
        return;
    };
    let (v, t) = translate_file(&path);
    let last = v.variants.len() - 1;
    assert!(
        !t.variant_errors[0] && !t.variant_errors[last] && !v.variants[0].parsed.has_errors(),
        "{name}: translation errors:\n{}",
        errors(&v, &t).join("\n")
    );
    let out = write_root(&t, &scratch(name), name);
    let mut rejected = Vec::new();
    let clean = v
        .variants
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.parsed.has_errors() && !t.variant_errors[*i])
        .map(|(_, v)| v);
    for variant in clean {
        if let Err(e) = sercompat_tests::kamailio_check(&bin, &modules, &out, &variant.defines) {
            rejected.push(format!("with -A {:?}: {e}", variant.defines));
        }
    }
    assert!(
        rejected.is_empty(),
        "{name}: kamailio -c rejects the translation ({} of {} variants):\n{}",
        rejected.len(),
        v.variants.len(),
        rejected.join("\n")
    );
}

#[test]
fn first_ever_rule_table_translates() {
    seed_is_accepted("sip_router-2001-first-ever-config.cfg");
}

#[test]
fn ser_0_8_8_seed_translates() {
    seed_is_accepted("ser-0.8.8-ser.cfg");
}

#[test]
fn ser_3_1_seed_translates() {
    seed_is_accepted("ser-3.1-default-ser.cfg");
}

#[test]
fn kamailio_3_1_seed_translates_in_every_variant() {
    seed_is_accepted("kamailio-3.1-default-kamailio.cfg");
}

/// The Kamailio 3.1 default's database features need `WITH_MYSQL` (it
/// defines `DBURL`): each `WITH_*` name together with `WITH_MYSQL`, and all
/// of them together, is accepted by Kamailio 5.6.
#[test]
fn kamailio_3_1_seed_each_feature_with_mysql() {
    let name = "kamailio-3.1-default-kamailio.cfg";
    let Some(path) = seed(name) else { return };
    let Some((bin, modules)) = sercompat_tests::kamailio() else {
        return;
    };
    let (v, t) = translate_file(&path);
    let out = write_root(&t, &scratch("with-mysql"), name);
    let mut names: Vec<String> = v.variants.last().unwrap().defines.clone();
    names.retain(|n| n.starts_with("WITH_"));
    assert!(
        names.len() >= 8,
        "the seed tests its WITH_* names: {names:?}"
    );
    let mut sets: Vec<Vec<String>> = names
        .iter()
        .filter(|n| *n != "WITH_MYSQL")
        .map(|n| vec!["WITH_MYSQL".to_string(), n.clone()])
        .collect();
    sets.push(names.clone());
    let rejected: Vec<String> = sets
        .iter()
        .filter_map(|d| {
            sercompat_tests::kamailio_check(&bin, &modules, &out, d)
                .err()
                .map(|e| format!("with -A {d:?}: {e}"))
        })
        .collect();
    assert!(rejected.is_empty(), "{}", rejected.join("\n"));
}

/// Translating the translation of every seed and compat-config changes
/// nothing.
#[test]
fn translation_is_idempotent() {
    let mut inputs: Vec<PathBuf> = Vec::new();
    for dir in std::fs::read_dir(sercompat_tests::repo_root().join("compat-configs")).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "cfg") {
                    inputs.push(f);
                }
            }
        }
    }
    if let Some(shared) = sercompat_tests::shared_dir() {
        for s in [
            "sip_router-2001-first-ever-config.cfg",
            "ser-0.8.8-ser.cfg",
            "ser-3.1-default-ser.cfg",
            "kamailio-3.1-default-kamailio.cfg",
        ] {
            inputs.push(shared.join("corpus/seed").join(s));
        }
    }
    inputs.sort();
    // A file another input includes is a fragment, translated with it.
    let texts: Vec<String> = inputs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    inputs.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        !texts.iter().any(|t| t.contains(&format!("\"{name}\"")))
    });
    let mut changed = Vec::new();
    for (i, path) in inputs.iter().enumerate() {
        let (_, first) = translate_file(path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let dir = scratch(&format!("idem-{i}"));
        let root_dir = path.parent().unwrap();
        for f in first.files.iter().filter(|f| !f.root) {
            if let Ok(rel) = Path::new(&f.name).strip_prefix(root_dir) {
                std::fs::create_dir_all(dir.join(rel).parent().unwrap()).unwrap();
                std::fs::write(dir.join(rel), &f.output).unwrap();
            }
        }
        let once = write_root(&first, &dir, &name);
        let (_, second) = translate_file(&once);
        let edits: Vec<String> = second
            .edits
            .all()
            .iter()
            .map(|e| {
                format!(
                    "{} {}..{} {:?} → {:?}",
                    e.rule,
                    e.start,
                    e.end,
                    &second
                        .files
                        .iter()
                        .find(|f| f.name == e.file)
                        .map_or("", |f| &f.original[e.start..e.end]),
                    e.replacement
                )
            })
            .collect();
        if !edits.is_empty() {
            changed.push(format!("{}:\n  {}", path.display(), edits.join("\n  ")));
        }
    }
    assert!(
        changed.is_empty(),
        "translating a translation changed it:\n{}",
        changed.join("\n")
    );
}

/// Every translation rule has its section in docs/migration.md, with an
/// example or the error it reports.
#[test]
fn every_rule_is_documented() {
    let doc = std::fs::read_to_string(sercompat_tests::repo_root().join("docs/migration.md"))
        .expect("docs/migration.md");
    let missing: Vec<String> = translate::ALL_RULES
        .iter()
        .filter(|r| !doc.contains(&format!("### {} {}", r.code, r.name)))
        .map(|r| format!("{} {}", r.code, r.name))
        .collect();
    assert!(missing.is_empty(), "rules without a section: {missing:?}");
    let mut codes: Vec<&str> = translate::ALL_RULES.iter().map(|r| r.code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        codes.len(),
        translate::ALL_RULES.len(),
        "rule codes are unique"
    );
}

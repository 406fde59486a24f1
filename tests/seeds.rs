//! The four configs of the founding document parse; the SER 3.1 and
//! Kamailio 3.1 defaults under every combination of the `WITH_*` names
//! they test.

use sercompat_grammar::{parse_file, Era, Options, Severity};

fn errors(p: &sercompat_grammar::Parsed) -> Vec<String> {
    p.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let (l, c) = d
                .primary_span()
                .map_or((0, 0), |s| p.db.line_col(s.file, s.start as usize));
            format!("{l}:{c}: [{}] {}", d.code, d.message)
        })
        .collect()
}

fn seed(name: &str) -> Option<std::path::PathBuf> {
    sercompat_tests::shared_dir().map(|s| s.join("corpus/seed").join(name))
}

#[test]
fn first_config_is_a_rule_table() {
    let Some(path) = seed("sip_router-2001-first-ever-config.cfg") else {
        return;
    };
    let p = parse_file(&path, &Options::default()).unwrap();
    assert_eq!(p.era.era, Era::Rules2001);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let sercompat_grammar::ast::ItemKind::Rules(rules) = &p.config.items[0].kind else {
        panic!("not a rule table")
    };
    assert_eq!(rules.len(), 4);
    assert_eq!(rules[1].method.text, "^INVITE");
    assert_eq!(rules[1].dest.text, "ape");
}

#[test]
fn ser_088_parses() {
    let Some(path) = seed("ser-0.8.8-ser.cfg") else {
        return;
    };
    let p = parse_file(&path, &Options::default()).unwrap();
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    assert!(
        matches!(p.era.era, Era::Ser08 | Era::Ser09),
        "era {}",
        p.era.era
    );
}

/// Parses `name` once to learn the names it tests, then under every
/// combination of the `WITH_*` ones.
fn all_variants(name: &str, expect: Era, min_names: usize) {
    let Some(path) = seed(name) else { return };
    let base = parse_file(&path, &Options::default()).unwrap();
    assert_eq!(base.era.era, expect);
    let names: Vec<String> = base
        .tokens
        .tested_names
        .iter()
        .filter(|n| n.starts_with("WITH_"))
        .cloned()
        .collect();
    assert!(
        names.len() >= min_names,
        "expected at least {min_names} WITH_ names, got {names:?}"
    );
    assert!(names.len() <= 12, "too many combinations: {names:?}");
    for mask in 0u32..(1 << names.len()) {
        let defines: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, n)| n.clone())
            .collect();
        let p = parse_file(
            &path,
            &Options {
                defines: defines.clone(),
                ..Options::default()
            },
        )
        .unwrap();
        let errs = errors(&p);
        assert!(errs.is_empty(), "{name} with -A {defines:?}: {errs:?}");
    }
}

#[test]
fn ser_31_default_under_every_variant() {
    // The SER 3.1 default tests no `WITH_*` name: its one variant is itself.
    all_variants("ser-3.1-default-ser.cfg", Era::Kamailio3, 0);
}

#[test]
fn kamailio_31_default_under_every_variant() {
    all_variants("kamailio-3.1-default-kamailio.cfg", Era::Kamailio3, 9);
}

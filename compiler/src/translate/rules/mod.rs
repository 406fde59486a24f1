//! The translation rules, one family per file. Each rule looks at one
//! parse (one `#!ifdef` variant) and proposes edits, or reports where no
//! safe rewrite exists.

mod core_params;
mod functions;
mod meaning;
mod modules;
mod table2001;

use super::edit::Edit;
use super::Target;
use crate::catalog::target::TargetCatalog;
use sercompat_grammar::ast::{Item, ItemKind};
use sercompat_grammar::{Diagnostic, Parsed, Span};

/// A rule's identity: its code is stable and has a section in
/// `docs/migration.md`.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
}

/// Every rule, in code order (the docs test walks this list).
pub const ALL_RULES: &[&Rule] = &[
    &modules::MODULE_PATH,
    &modules::MODULE_RENAME,
    &modules::MODULE_REMOVED,
    &modules::MODULE_MISSING,
    &modules::LOAD_PATH,
    &modules::MODPARAM_RENAME,
    &modules::MODPARAM_VALUE,
    &modules::MODPARAM_UNKNOWN,
    &modules::MODULE_DUPLICATE,
    &core_params::CORE_PARAM_RENAME,
    &core_params::CORE_PARAM_REMOVED,
    &core_params::CORE_PARAM_UNKNOWN,
    &functions::FUNCTION_RENAME,
    &functions::FUNCTION_REWRITE,
    &functions::FUNCTION_REMOVED,
    &functions::FUNCTION_MISSING,
    &functions::PROVIDER_LOAD,
    &functions::FUNCTION_ARITY,
    &functions::PV_UNKNOWN,
    &meaning::STOP_MEANING,
    &meaning::TIMER_UNITS,
    &meaning::LOG_LEVELS,
    &meaning::AVP_TRUTH,
    &meaning::MODE_HEADER,
    &meaning::ROUTE_BLOCK,
    &meaning::MAX_LEN,
    &meaning::STATEMENT_END,
    &meaning::DIRECTIVE_BALANCE,
    &meaning::NULL_KEYWORD,
    &meaning::GUARDED_STATEMENT,
    &meaning::LEGACY_LOGIC,
    &table2001::RULE_TABLE,
];

/// What the rules of one parse produce, and what they share.
pub(crate) struct Cx<'p> {
    pub parsed: &'p Parsed,
    pub target: &'p Target,
    pub kam: &'static TargetCatalog,
    pub edits: Vec<Edit>,
    pub diags: Vec<Diagnostic>,
    /// Modules the translated config loads (after renames), in order.
    pub loaded: Vec<String>,
    /// Modules an insertion already loads.
    pub inserted: Vec<String>,
    /// registrar's `nat_flag` (a message flag) became usrloc's `nat_bflag`
    /// (a branch flag): the script's uses of this flag follow.
    pub nat_bflag: Option<i64>,
    /// The config calls SER's `xlog` with `%` formats (module `xprint` now).
    pub ser_xlog: bool,
    /// This is the variant without `-A` names (what Kamailio reads by default).
    pub base: bool,
    /// The original itself is broken in this variant (a `#!define` it
    /// needs is not set): nothing a translation can fix.
    pub broken: bool,
}

impl<'p> Cx<'p> {
    fn file_name(&self, span: Span) -> String {
        self.parsed.db.file(span.file).name.clone()
    }

    pub fn text(&self, span: Span) -> &'p str {
        self.parsed.db.slice(span)
    }

    /// Replaces the text of `span` (unless it already reads `new`).
    pub fn replace(
        &mut self,
        span: Span,
        new: impl Into<String>,
        rule: &Rule,
        why: impl Into<String>,
    ) {
        let new = new.into();
        if self.text(span) == new {
            return;
        }
        self.edits.push(Edit {
            file: self.file_name(span),
            start: span.start as usize,
            end: span.end as usize,
            replacement: new,
            rule: rule.code,
            message: why.into(),
        });
    }

    /// Inserts `text` at byte `at` of the file of `span`.
    pub fn insert(
        &mut self,
        span: Span,
        at: usize,
        text: impl Into<String>,
        rule: &Rule,
        why: impl Into<String>,
    ) {
        self.edits.push(Edit {
            file: self.file_name(span),
            start: at,
            end: at,
            replacement: text.into(),
            rule: rule.code,
            message: why.into(),
        });
    }

    /// Turns the whole lines of `span` into comments that say why.
    pub fn comment_out(&mut self, span: Span, rule: &Rule, why: &str) {
        let text = self.parsed.db.text(span.file);
        let start = text[..span.start as usize].rfind('\n').map_or(0, |i| i + 1);
        let end = text[span.end as usize..]
            .find('\n')
            .map_or(text.len(), |i| span.end as usize + i);
        // Only when the construct has its lines to itself: otherwise the
        // comment would swallow a neighbour.
        let before = &text[start..span.start as usize];
        let after = text[span.end as usize..end].trim_start_matches([' ', '\t', ';']);
        if !before.trim().is_empty()
            || !(after.is_empty() || after.starts_with('#') || after.starts_with("//"))
        {
            self.replace(span, "", rule, why.to_string());
            return;
        }
        let lines: Vec<String> = text[start..end].lines().map(|l| format!("# {l}")).collect();
        let new = format!("{}  # sercompat: {why}", lines.join("\n"));
        let whole = Span::new(span.file, start, end);
        self.replace(whole, new, rule, why.to_string());
    }

    /// A rule that cannot rewrite: the text stays and the error says what
    /// a person must do.
    pub fn cannot(
        &mut self,
        rule: &Rule,
        span: Span,
        message: impl Into<String>,
        label: &str,
        fix: impl Into<String>,
    ) {
        self.diags.push(
            Diagnostic::error(rule.code, message)
                .primary(span, label)
                .note(fix)
                .note(format!(
                    "translation rule `{}` ({}); see docs/migration.md",
                    rule.name, rule.code
                )),
        );
    }

    /// A rewrite that is safe but changes something a person should know.
    pub fn warn(&mut self, rule: &Rule, span: Span, message: impl Into<String>, label: &str) {
        self.diags.push(
            Diagnostic::warning(rule.code, message)
                .primary(span, label)
                .note(format!(
                    "translation rule `{}` ({}); see docs/migration.md",
                    rule.name, rule.code
                )),
        );
    }

    pub fn is_loaded(&self, module: &str) -> bool {
        self.loaded
            .iter()
            .chain(&self.inserted)
            .any(|m| m == module)
    }

    /// Loads `module` right after the last `loadmodule` of the config (or
    /// before the first route block when there is none).
    pub fn ensure_loaded(&mut self, module: &str, rule: &Rule, why: &str) {
        if self.is_loaded(module) {
            return;
        }
        self.inserted.push(module.to_string());
        let items = &self.parsed.config.items;
        let anchor = items
            .iter()
            .rfind(|i| matches!(i.kind, ItemKind::LoadModule { .. }))
            .or_else(|| items.iter().find(|i| !matches!(i.kind, ItemKind::Route(_))));
        let (span, at, text) = match anchor {
            Some(Item {
                span,
                kind: ItemKind::LoadModule { .. },
            }) => {
                let file = self.parsed.db.text(span.file);
                let at = file[span.end as usize..]
                    .find('\n')
                    .map_or(file.len(), |i| span.end as usize + i);
                (
                    *span,
                    at,
                    format!("\nloadmodule \"{module}.so\"  # sercompat: {why}"),
                )
            }
            _ => {
                let first = items
                    .first()
                    .map_or(Span::new(self.parsed.root, 0, 0), |i| i.span);
                let file = self.parsed.db.text(first.file);
                let at = file[..first.start as usize]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                (
                    first,
                    at,
                    format!("loadmodule \"{module}.so\"  # sercompat: {why}\n"),
                )
            }
        };
        self.insert(span, at, text, rule, why.to_string());
    }
}

/// Runs every rule family over one parse.
/// What the rules found in one variant.
pub(crate) struct Found {
    pub edits: Vec<Edit>,
    pub diags: Vec<Diagnostic>,
    /// The original is broken in this variant (see [`Cx::broken`]).
    pub broken: bool,
}

pub(crate) fn run(parsed: &Parsed, target: &Target, base: bool) -> Found {
    let mut cx = Cx {
        parsed,
        target,
        kam: TargetCatalog::kamailio_5_6(),
        edits: Vec::new(),
        diags: Vec::new(),
        loaded: Vec::new(),
        inserted: Vec::new(),
        nat_bflag: None,
        ser_xlog: functions::uses_percent_formats(parsed),
        base,
        broken: false,
    };
    if parsed.era.era == sercompat_grammar::Era::Rules2001 {
        table2001::run(&mut cx);
        return Found {
            edits: cx.edits,
            diags: cx.diags,
            broken: false,
        };
    }
    modules::run(&mut cx);
    // Kamailio refuses a config that defines a route twice; no rewrite
    // knows which definition was meant.
    cx.diags.extend(
        crate::check(parsed)
            .into_iter()
            .filter(|d| d.code == crate::lints::DUPLICATE_ROUTE_CODE && d.is_error()),
    );
    core_params::run(&mut cx);
    meaning::run(&mut cx);
    functions::run(&mut cx);
    Found {
        edits: cx.edits,
        diags: cx.diags,
        broken: cx.broken,
    }
}

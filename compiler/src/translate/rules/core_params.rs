//! Core parameters (`name = value` at the top level): renamed, removed,
//! unknown, and values the target reads differently.

use super::{Cx, Rule};
use crate::catalog::{self, CoreParamLookup};
use sercompat_grammar::ast::*;

pub const CORE_PARAM_RENAME: Rule = Rule {
    code: "T0201",
    name: "core-param-rename",
    summary: "a core parameter current Kamailio knows under another name (`dst_blacklist_*` → `dst_blocklist_*`, ...)",
};
pub const CORE_PARAM_REMOVED: Rule = Rule {
    code: "T0202",
    name: "core-param-removed",
    summary: "a core parameter current Kamailio removed (`fifo`, `loop_checks`, ...): the line becomes a comment, with a warning where its job moved to a module",
};
pub const CORE_PARAM_UNKNOWN: Rule = Rule {
    code: "T0203",
    name: "core-param-unknown",
    summary: "a core parameter no era of SER or Kamailio knows: an error",
};

/// Removed core parameters whose job moved somewhere a person must set up.
#[rustfmt::skip]
const MOVED_JOBS: &[(&str, &str)] = &[
    ("fifo",               "the management FIFO is served by module `jsonrpcs` (parameter `fifo_name`) since Kamailio 5.0"),
    ("fifo_mode",          "the management FIFO is served by module `jsonrpcs` (parameter `fifo_mode`) since Kamailio 5.0"),
    ("fifo_user",          "the management FIFO is served by module `jsonrpcs` (parameter `fifo_user`) since Kamailio 5.0"),
    ("fifo_group",         "the management FIFO is served by module `jsonrpcs` (parameter `fifo_group`) since Kamailio 5.0"),
    ("fifo_dir",           "the management FIFO is served by module `jsonrpcs` (parameter `fifo_reply_dir`) since Kamailio 5.0"),
    ("unix_sock",          "the management socket is served by modules `ctl` or `jsonrpcs` since Kamailio 3.0"),
    ("unix_sock_children", "the management socket is served by modules `ctl` or `jsonrpcs` since Kamailio 3.0"),
    ("fifo_db_url",        "the FIFO database commands are gone; manage the database directly"),
];

/// Core parameters of old releases that the reference's sampled releases
/// do not show (so the catalog does not list them), all gone by Kamailio 5.6.
const REMOVED_UNSAMPLED: &[&str] = &["loop_checks"];

pub(super) fn run(cx: &mut Cx) {
    let era = cx.parsed.era.era;
    for item in &cx.parsed.config.items {
        let ItemKind::CoreParam { name, value } = &item.kind else {
            continue;
        };
        let key = name.text.as_str();
        if key == "mpath" || cx.kam.core_param(key) {
            continue;
        }
        // Renamed: follow the rename table to a name the target has.
        let renamed = catalog::rename_of(key)
            .into_iter()
            .filter(|r| {
                r.kind == catalog::RenameKind::CoreParam && r.new_module.is_none_or(|m| m == "core")
            })
            .map(|r| r.new)
            .find(|n| cx.kam.core_param(n));
        if let Some(new) = renamed {
            cx.replace(
                name.span,
                new,
                &CORE_PARAM_RENAME,
                format!("`{key}` is `{new}` in Kamailio 5.6"),
            );
            continue;
        }
        let known = !matches!(catalog::core_param(key, era), CoreParamLookup::Unknown)
            || REMOVED_UNSAMPLED.contains(&key);
        if !known {
            cx.cannot(
                &CORE_PARAM_UNKNOWN,
                name.span,
                format!("`{key}` is not a core parameter of any SER or Kamailio release"),
                "unknown core parameter",
                "correct the name, or delete the line",
            );
            continue;
        }
        let _ = value;
        match MOVED_JOBS.iter().find(|(p, _)| *p == key) {
            Some((_, job)) => {
                cx.comment_out(item.span, &CORE_PARAM_REMOVED, &format!("`{key}` removed"));
                cx.warn(
                    &CORE_PARAM_REMOVED,
                    name.span,
                    format!("core parameter `{key}` does not exist in Kamailio 5.6: {job}"),
                    "commented out",
                );
            }
            None => cx.comment_out(
                item.span,
                &CORE_PARAM_REMOVED,
                &format!("`{key}` does not exist in Kamailio 5.6"),
            ),
        }
    }
}

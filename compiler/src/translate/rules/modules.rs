//! Module loading and module parameters: where modules are, what they are
//! called now, which are gone, and the parameters they take.

use super::{Cx, Rule};
use crate::catalog::target::ParamType;
use crate::lints::era::{int_value, timer_in_seconds};
use crate::lints::functions::module_name;
use sercompat_grammar::ast::*;
use sercompat_grammar::{Era, Span};

pub const MODULE_PATH: Rule = Rule {
    code: "T0101",
    name: "module-path",
    summary: "`loadmodule` with a directory or an absolute path becomes the bare module name, found in the target's module directory",
};
pub const MODULE_RENAME: Rule = Rule {
    code: "T0102",
    name: "module-rename",
    summary: "a module that current Kamailio knows under another name (`mysql` → `db_mysql`, `mi_fifo` → `jsonrpcs`, ...)",
};
pub const MODULE_REMOVED: Rule = Rule {
    code: "T0103",
    name: "module-removed",
    summary: "a module whose job current Kamailio does natively: its `loadmodule` and `modparam` lines become comments",
};
pub const MODULE_MISSING: Rule = Rule {
    code: "T0104",
    name: "module-missing",
    summary: "a module that no Kamailio 5.6 package provides: an error that names it",
};
pub const LOAD_PATH: Rule = Rule {
    code: "T0105",
    name: "load-path",
    summary: "`loadpath` / `mpath` point at the target's module directory (`--module-path`)",
};
pub const MODPARAM_RENAME: Rule = Rule {
    code: "T0106",
    name: "modparam-rename",
    summary: "a module parameter that moved or was renamed (`mi_fifo` `reply_dir` → `jsonrpcs` `fifo_reply_dir`, tm `T1_timer` → `retr_timer1`, ...)",
};
pub const MODPARAM_VALUE: Rule = Rule {
    code: "T0107",
    name: "modparam-value",
    summary: "a module parameter value of the type the target wants (`\"30\"` → `30` for an integer, `yes` → `1`)",
};
pub const MODPARAM_UNKNOWN: Rule = Rule {
    code: "T0108",
    name: "modparam-unknown",
    summary: "a module parameter the target module does not have: removed where it has no effect any more, else an error",
};
pub const MODULE_DUPLICATE: Rule = Rule {
    code: "T0109",
    name: "module-duplicate",
    summary:
        "two old modules that became the same module: the second `loadmodule` becomes a comment",
};

/// Which family of modules a `loadmodule` belongs to: the SER and the
/// OpenSER/Kamailio module of the same name are different modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    /// SER 0.8 / 0.9 (`modules/`).
    SerOld,
    /// SER 2.0 and the `modules_s` of sip-router 3.x (uid-based).
    Ser2,
    /// OpenSER, Kamailio 1.x, `modules_k`, and the merged tree.
    Kamailio,
}

fn line_of(path: &str, era: Era, ser_path: bool) -> Line {
    if path.contains("modules_s/") {
        return Line::Ser2;
    }
    if path.contains("modules_k/") {
        return Line::Kamailio;
    }
    if ser_path && !path.contains('/') {
        // `loadpath "…/modules:…/modules_s"` (SER 3.x): a bare name that
        // only SER had comes from modules_s.
        return Line::Ser2;
    }
    match era {
        Era::Ser2 => Line::Ser2,
        Era::Ser08 | Era::Ser09 | Era::Rules2001 => Line::SerOld,
        _ => Line::Kamailio,
    }
}

/// What became of a module.
enum Fate {
    Keep,
    Rename(&'static str, &'static str),
    /// Its job is native now: comment it out (why).
    Remove(&'static str),
    /// No Kamailio 5.6 package provides it (why).
    Missing(String),
}

/// Renames and removals, by lineage. `None` as lineage: any.
#[rustfmt::skip]
const MOVES: &[(&str, Option<Line>, Option<&str>, &str)] = &[
    // old,          lineage,            new,                  why
    ("mysql",        None,               Some("db_mysql"),     "database drivers are named `db_*` since Kamailio 1.5 / SER 2.1"),
    ("postgres",     None,               Some("db_postgres"),  "database drivers are named `db_*` since Kamailio 1.5 / SER 2.1"),
    ("dbtext",       None,               Some("db_text"),      "database drivers are named `db_*` since Kamailio 1.5 / SER 2.1"),
    ("flatstore",    None,               Some("db_flatstore"), "database drivers are named `db_*` since Kamailio 1.5 / SER 2.1"),
    ("unixodbc",     None,               Some("db_unixodbc"),  "database drivers are named `db_*` since Kamailio 1.5 / SER 2.1"),
    ("sqlite",       None,               Some("db_sqlite"),    "database drivers are named `db_*` since Kamailio 1.5 / SER 2.1"),
    ("uri",          None,               Some("siputils"),     "the `uri` module's functions are in `siputils` since Kamailio 1.5"),
    ("options",      None,               Some("siputils"),     "`options_reply` is in `siputils` since Kamailio 1.5"),
    ("gflags",       Some(Line::Kamailio), Some("cfgutils"),   "global flags are in `cfgutils` since Kamailio 1.5"),
    ("gflags",       Some(Line::SerOld), Some("cfgutils"),     "global flags are in `cfgutils` since Kamailio 1.5"),
    ("gflags",       Some(Line::Ser2),   Some("uid_gflags"),   "SER 2.0's `gflags` is `uid_gflags` since Kamailio 4.0"),
    ("mi_fifo",      None,               Some("jsonrpcs"),     "the MI interface was removed in Kamailio 5.0; `jsonrpcs` serves the FIFO"),
    ("mi_datagram",  None,               Some("jsonrpcs"),     "the MI interface was removed in Kamailio 5.0; `jsonrpcs` serves datagram sockets"),
    ("jsonrpc-s",    None,               Some("jsonrpcs"),     "`jsonrpc-s` is `jsonrpcs` since Kamailio 5.0"),
    ("mi_xmlrpc",    None,               Some("xmlrpc"),       "the MI interface was removed in Kamailio 5.0; `xmlrpc` serves RPC over XML-RPC"),
    ("xlog",         Some(Line::SerOld), Some("xprint"),       "SER's `xlog` (with `%` formats) is `xprint` since Kamailio 4.0"),
    ("xlog",         Some(Line::Ser2),   Some("xprint"),       "SER's `xlog` (with `%` formats) is `xprint` since Kamailio 4.0"),
    ("auth_db",      Some(Line::Ser2),   Some("uid_auth_db"),  "SER 2.0's `auth_db` is `uid_auth_db` since Kamailio 4.0"),
    ("uri_db",       Some(Line::Ser2),   Some("uid_uri_db"),   "SER 2.0's `uri_db` is `uid_uri_db` since Kamailio 4.0"),
    ("domain",       Some(Line::Ser2),   Some("uid_domain"),   "SER 2.0's `domain` is `uid_domain` since Kamailio 4.0"),
    ("avp_db",       None,               Some("uid_avp_db"),   "SER's `avp_db` is `uid_avp_db` since Kamailio 4.0"),
    ("mi_rpc",       None,               None,                 "MI was removed in Kamailio 5.0; RPC is native"),
    ("fifo",         Some(Line::Ser2),   Some("jsonrpcs"),     "SER 2.0's `fifo` interface is served by `jsonrpcs` in Kamailio 5.0+"),
    ("acc_db",       Some(Line::Ser2),   Some("acc"),          "SER's `acc_db` is Kamailio's `acc` with its database backend (`db_flag`)"),
    ("app_python",   None,               Some("app_python3"),  "Kamailio 5.6 embeds Python 3 (`app_python3`, same functions); the script must be Python 3"),
    ("print",        None,               None,                 "SER's test module; its `print()` calls are written with `xlog`"),
    ("cpl-c",        None,               Some("cplc"),         "`cpl-c` is `cplc` since Kamailio 5.0"),
    ("jsonrpc-c",    None,               Some("jsonrpcc"),     "`jsonrpc-c` is `jsonrpcc` since Kamailio 5.0"),
    ("icscf",        None,               Some("ims_icscf"),    "the IMS modules carry the `ims_` prefix since Kamailio 4.0"),
    ("userblacklist", None,              Some("userblocklist"), "`userblacklist` is `userblocklist` since Kamailio 5.5"),
];

fn fate(cx: &Cx, name: &str, line: Line) -> Fate {
    // SER's `xlog` took `%` formats; a config that writes none reads the
    // same under Kamailio's `xlog`.
    if name == "xlog" && !cx.ser_xlog {
        return Fate::Keep;
    }
    if let Some(&(_, _, new, why)) = MOVES
        .iter()
        .find(|(old, l, _, _)| *old == name && l.is_none_or(|l| l == line))
    {
        return match new {
            Some(n) => Fate::Rename(n, why),
            None => Fate::Remove(why),
        };
    }
    if cx.kam.packaged(name) {
        Fate::Keep
    } else if cx.kam.has_module(name) {
        Fate::Missing(format!(
            "module `{name}` exists in Kamailio 5.6 but no Debian package provides it: build it from the Kamailio sources, or remove it and what uses it"
        ))
    } else {
        Fate::Missing(format!(
            "module `{name}` does not exist in Kamailio 5.6 (no package provides it): replace what the config does with it by hand, or remove it"
        ))
    }
}

/// Whether `loadpath`/`mpath` search SER's `modules_s` and not `modules_k`.
fn ser_path(cx: &Cx) -> bool {
    cx.parsed.config.items.iter().any(|i| {
        let v = match &i.kind {
            ItemKind::LoadPath { path } => path.value.as_str(),
            ItemKind::CoreParam { name, value } if name.text == "mpath" => match &value.kind {
                ParamValueKind::Str(s) => s.as_str(),
                _ => return false,
            },
            _ => return false,
        };
        v.contains("modules_s") && !v.contains("modules_k")
    })
}

/// Whether the config uses module `name` beyond loading it: a `modparam`
/// for it, or a call of a function the catalog gives it in the file's era.
fn used(cx: &Cx, name: &str) -> bool {
    // Every era's functions of that name's modules: a translated file is
    // read in another era than its original.
    let functions: Vec<&str> = crate::catalog::catalog()
        .functions()
        .iter()
        .filter(|f| f.module == name)
        .map(|f| f.name)
        .collect();
    let mut uses = false;
    for item in &cx.parsed.config.items {
        match &item.kind {
            ItemKind::ModParam { module, .. } => {
                uses |= module.value == name
                    || regex::Regex::new(&module.value).is_ok_and(|re| re.is_match(name))
                        && !module
                            .value
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'_');
            }
            ItemKind::Route(r) => crate::walk::calls(&r.body.stmts, &mut |c| {
                let n = c.name.text.as_str();
                // A call the target cannot place (not core, no module, no
                // known rename) might be this module's when the catalog does
                // not list its functions.
                let unplaced = !cx.kam.core_action(n)
                    && cx.kam.providers(n).is_empty()
                    && crate::catalog::rename_of(n).is_empty()
                    && crate::catalog::catalog().functions_named(n).is_empty();
                uses |= functions.contains(&n) || (unplaced && functions.is_empty());
            }),
            _ => {}
        }
    }
    uses
}

/// The new module name of every loaded module (`None`: removed or
/// missing), by old name.
pub(super) fn module_map(cx: &Cx) -> Vec<(String, Option<String>)> {
    let era = cx.parsed.era.era;
    let ser_path = ser_path(cx);
    let mut map = Vec::new();
    for item in &cx.parsed.config.items {
        if let ItemKind::LoadModule { path, .. } = &item.kind {
            let old = module_name(&path.value).to_string();
            let new = match fate(cx, &old, line_of(&path.value, era, ser_path)) {
                Fate::Keep => Some(old.clone()),
                Fate::Rename(n, _) => Some(n.to_string()),
                Fate::Remove(_) | Fate::Missing(_) => None,
            };
            map.push((old, new));
        }
    }
    map
}

pub(super) fn run(cx: &mut Cx) {
    let era = cx.parsed.era.era;
    let items = &cx.parsed.config.items;
    let map = module_map(cx);
    let ser_path = ser_path(cx);
    let mut loaded: Vec<String> = Vec::new();
    let mut had_dir = false;
    for item in items {
        match &item.kind {
            ItemKind::LoadModule { path, evaluated } => {
                if *evaluated {
                    continue; // `loadmodulex`: a value computed at load time
                }
                let old = module_name(&path.value).to_string();
                let line = line_of(&path.value, era, ser_path);
                let dir = path.value.contains('/');
                had_dir |= path.value.starts_with('/');
                let quoted = |m: &str| format!("\"{m}.so\"");
                match fate(cx, &old, line) {
                    Fate::Keep => {
                        if loaded.contains(&old) {
                            cx.comment_out(
                                item.span,
                                &MODULE_DUPLICATE,
                                &format!("`{old}` is loaded above"),
                            );
                            continue;
                        }
                        if dir {
                            cx.replace(
                                path.span,
                                quoted(&old),
                                &MODULE_PATH,
                                format!("module `{old}` from the target's module directory"),
                            );
                        }
                        loaded.push(old);
                    }
                    Fate::Rename(new, why) => {
                        if loaded.iter().any(|m| m == new) {
                            cx.comment_out(
                                item.span,
                                &MODULE_DUPLICATE,
                                &format!("`{old}` is `{new}` now, loaded above"),
                            );
                            continue;
                        }
                        cx.replace(
                            path.span,
                            quoted(new),
                            &MODULE_RENAME,
                            format!("`{old}` → `{new}`: {why}"),
                        );
                        loaded.push(new.to_string());
                    }
                    Fate::Remove(why) => {
                        cx.comment_out(
                            item.span,
                            &MODULE_REMOVED,
                            &format!("`{old}` removed: {why}"),
                        );
                    }
                    Fate::Missing(_) if !used(cx, &old) => {
                        let why = format!("`{old}` is not in Kamailio 5.6 and the config uses none of its functions or parameters");
                        cx.comment_out(item.span, &MODULE_REMOVED, &why);
                        cx.warn(
                            &MODULE_REMOVED,
                            path.span,
                            format!("{why}: its `loadmodule` is commented out"),
                            "unused module",
                        );
                    }
                    Fate::Missing(why) => {
                        cx.cannot(
                            &MODULE_MISSING,
                            path.span,
                            why,
                            "not available in Kamailio 5.6",
                            "find a current module that does the same job, or delete this line and every call of the module's functions",
                        );
                    }
                }
            }
            ItemKind::LoadPath { path } => {
                let new = format!("\"{}\"", cx.target.module_path);
                cx.replace(
                    path.span,
                    new,
                    &LOAD_PATH,
                    "modules from the target's module directory",
                );
            }
            ItemKind::CoreParam { name, value } if name.text == "mpath" => {
                let new = format!("\"{}\"", cx.target.module_path);
                cx.replace(
                    value.span,
                    new,
                    &LOAD_PATH,
                    "modules from the target's module directory",
                );
            }
            _ => {}
        }
    }
    // Absolute module paths with no search path: name the target's.
    let has_path = items.iter().any(|i| match &i.kind {
        ItemKind::LoadPath { .. } => true,
        ItemKind::CoreParam { name, .. } => name.text == "mpath",
        _ => false,
    });
    if had_dir && !has_path && cx.target.module_path != super::super::DEBIAN_MODULE_PATH {
        if let Some(first) = items
            .iter()
            .find(|i| matches!(i.kind, ItemKind::LoadModule { .. }))
        {
            let text = cx.parsed.db.text(first.span.file);
            let at = text[..first.span.start as usize]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let line = format!(
                "loadpath \"{}\"  # sercompat: the target's module directory\n",
                cx.target.module_path
            );
            cx.insert(
                first.span,
                at,
                line,
                &LOAD_PATH,
                "modules from the target's module directory",
            );
        }
    }
    cx.loaded = loaded;
    modparams(cx, &map);
}

/// Moved or renamed module parameters: (old module, old param) →
/// (new module, new param or `None` to drop it, why).
#[rustfmt::skip]
const PARAM_MOVES: &[(&str, &str, &str, Option<&str>, &str)] = &[
    ("mi_fifo", "fifo_name",      "jsonrpcs", Some("fifo_name"),      "`jsonrpcs` serves the FIFO"),
    ("mi_fifo", "fifo_mode",      "jsonrpcs", Some("fifo_mode"),      "`jsonrpcs` serves the FIFO"),
    ("mi_fifo", "fifo_group",     "jsonrpcs", Some("fifo_group"),     "`jsonrpcs` serves the FIFO"),
    ("mi_fifo", "fifo_user",      "jsonrpcs", Some("fifo_user"),      "`jsonrpcs` serves the FIFO"),
    ("mi_fifo", "reply_dir",      "jsonrpcs", Some("fifo_reply_dir"), "`jsonrpcs` serves the FIFO"),
    ("mi_fifo", "fifo_reply_dir", "jsonrpcs", Some("fifo_reply_dir"), "`jsonrpcs` serves the FIFO"),
    ("mi_fifo", "reply_indent",   "jsonrpcs", None,                   "JSON replies have no MI indentation"),
    ("mi_datagram", "socket_name", "jsonrpcs", Some("dgram_socket"),  "`jsonrpcs` serves datagram sockets"),
    ("mi_datagram", "children_count", "jsonrpcs", None,              "`jsonrpcs` datagram workers are set by `dgram_workers`"),
    ("mi_datagram", "unix_socket_mode", "jsonrpcs", Some("dgram_mode"), "`jsonrpcs` serves datagram sockets"),
    ("mi_datagram", "unix_socket_group", "jsonrpcs", Some("dgram_group"), "`jsonrpcs` serves datagram sockets"),
    ("mi_datagram", "unix_socket_user", "jsonrpcs", Some("dgram_user"), "`jsonrpcs` serves datagram sockets"),
    ("jsonrpc-s", "fifo_name",    "jsonrpcs", Some("fifo_name"),      "`jsonrpc-s` is `jsonrpcs`"),
    ("tm", "T1_timer",            "tm", Some("retr_timer1"),          "renamed in Kamailio 3.0"),
    ("tm", "T2_timer",            "tm", Some("retr_timer2"),          "renamed in Kamailio 3.0"),
    ("tm", "retr_timer1p1",       "tm", Some("retr_timer1"),          "SER 0.9's first retransmission interval is `retr_timer1` (ms) since SER 2.0"),
    ("tm", "retr_timer1p2",       "tm", None,                         "later intervals double `retr_timer1` since SER 2.0"),
    ("tm", "retr_timer1p3",       "tm", None,                         "later intervals double `retr_timer1` since SER 2.0"),
    ("registrar", "use_domain",   "usrloc", Some("use_domain"),       "moved to `usrloc`"),
    ("nathelper", "rtpproxy_sock", "rtpproxy", Some("rtpproxy_sock"), "RTP proxy control is the `rtpproxy` module since Kamailio 3.2"),
    ("nathelper", "rtpproxy_disable", "rtpproxy", Some("rtpproxy_disable"), "RTP proxy control is the `rtpproxy` module since Kamailio 3.2"),
    ("nathelper", "rtpproxy_retr", "rtpproxy", Some("rtpproxy_retr"), "RTP proxy control is the `rtpproxy` module since Kamailio 3.2"),
    ("nathelper", "rtpproxy_tout", "rtpproxy", Some("rtpproxy_tout"), "RTP proxy control is the `rtpproxy` module since Kamailio 3.2"),
    ("acc_db", "log_flag",        "acc", Some("db_flag"),             "SER's `acc_db` flag is `acc`'s `db_flag`"),
    ("acc_db", "log_missed_flag", "acc", Some("db_missed_flag"),      "SER's `acc_db` missed-call flag is `acc`'s `db_missed_flag`"),
    ("acc_db", "acc_table",       "acc", Some("db_table_acc"),        "renamed in `acc`"),
    ("acc_db", "mc_table",        "acc", Some("db_table_missed_calls"), "renamed in `acc`"),
    ("acc", "acc_flag",           "acc", Some("log_flag"),            "SER 0.8's `acc_flag` is `log_flag`"),
    ("usrloc", "use_database",    "usrloc", Some("db_mode"),          "`use_database` (0/1) is `db_mode` (0 none, 1 write-through) since SER 0.8.11"),
    ("usrloc", "use_db",          "usrloc", Some("db_mode"),          "`use_db` (0/1) is `db_mode` (0 none, 1 write-through)"),
    ("nathelper", "rtpproxy_disable_tout", "rtpproxy", Some("rtpproxy_disable_tout"), "RTP proxy control is the `rtpproxy` module since Kamailio 3.2"),
    ("mediaproxy", "natping_interval", "nathelper", Some("natping_interval"), "NAT pinging is done by `nathelper` in Kamailio"),
    ("acc", "missed_flag",        "acc", Some("log_missed_flag"),     "SER 0.8's `missed_flag` is `log_missed_flag`"),
    ("usrloc", "flush_interval",  "usrloc", Some("timer_interval"),   "SER 0.8's `flush_interval` is `timer_interval`"),
    ("sl", "enable_stats",        "sl", None,                         "Kamailio keeps the sl statistics always"),
    ("lcr", "contact_avp",        "lcr", None,                        "serial forking by q is tm's `t_load_contacts()`/`t_next_contacts()` since Kamailio 3.0, with its own XAVP"),
    ("cfgutils", "shvset",        "pv", Some("shvset"),              "shared variables are in module `pv` since Kamailio 3.0"),
    ("cfgutils", "varset",        "pv", Some("varset"),              "script variables are in module `pv` since Kamailio 3.0"),
    ("avpops", "avp_url",         "avpops", Some("db_url"),          "renamed in OpenSER 1.0"),
    ("domain", "db_mode",         "domain", None,                    "Kamailio's `domain` always keeps the table in memory"),
    ("tm", "delete_timer",        "tm", None,                        "Kamailio 3.0+ frees a transaction when its wait timer ends"),
    ("registrar", "nat_flag",     "usrloc", Some("nat_bflag"),       "the NAT flag is a branch flag of `usrloc` since Kamailio 1.5; the script's uses of the flag become branch-flag functions"),
    ("dispatcher", "ds_probing_threshhold", "dispatcher", Some("ds_probing_threshold"), "spelling fixed in Kamailio 5.0"),
    ("dispatcher", "dst_avp",     "dispatcher", None,                 "Kamailio 5.0+ keeps failover destinations in the `xavp_dst` XAVP (default `_dsdst_`)"),
    ("dispatcher", "grp_avp",     "dispatcher", None,                 "Kamailio 5.0+ keeps failover state in the `xavp_ctx` XAVP (default `_dsctx_`)"),
    ("dispatcher", "cnt_avp",     "dispatcher", None,                 "Kamailio 5.0+ keeps failover state in the `xavp_ctx` XAVP (default `_dsctx_`)"),
    ("dispatcher", "dstid_avp",   "dispatcher", None,                 "Kamailio 5.0+ keeps failover state in the `xavp_dst` XAVP (default `_dsdst_`)"),
    ("dispatcher", "attrs_avp",   "dispatcher", None,                 "Kamailio 5.0+ keeps destination attributes in the `xavp_dst` XAVP (default `_dsdst_`)"),
    ("dispatcher", "sock_avp",    "dispatcher", None,                 "Kamailio 5.0+ keeps the socket in the `xavp_dst` XAVP (default `_dsdst_`)"),
];

/// Parameters of a feature current Kamailio does not have: the line becomes
/// a comment and a warning says what is lost.
#[rustfmt::skip]
const LOSSY_DROPS: &[(&str, &str, &str)] = &[
    ("xmlrpc", "port", "Kamailio's xmlrpc module has no listener of its own: it serves XML-RPC over the SIP TCP sockets (`listen=tcp:…`) through an `xmlrpc` route"),
    ("rr", "cookie_filter", "SER's rr AVP cookies (AVPs carried in Record-Route and restored for in-dialog requests) do not exist in Kamailio; store such values with `add_rr_param()` / `$avp` from the dialog or a database instead"),
    ("rr", "cookie_secret", "SER's rr AVP cookies do not exist in Kamailio"),
];

/// The bit of a flag declared with `flags NAME : N` (SER 2.0, Kamailio 3.0+).
pub(super) fn flag_bit(cx: &Cx, name: &str) -> Option<i64> {
    cx.parsed.config.items.iter().find_map(|i| match &i.kind {
        ItemKind::Flags(decls) => decls
            .iter()
            .find(|d| d.name.text == name)
            .and_then(|d| d.bit),
        _ => None,
    })
}

fn modparams(cx: &mut Cx, map: &[(String, Option<String>)]) {
    let era = cx.parsed.era.era;
    for item in &cx.parsed.config.items {
        let ItemKind::ModParam {
            module,
            param,
            value,
            evaluated,
        } = &item.kind
        else {
            continue;
        };
        if *evaluated {
            continue;
        }
        let old_mod = module.value.as_str();
        if !old_mod
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            if let ExprKind::Name(w) = &value.kind {
                bare_name(cx, w, value.span, old_mod, &param.value);
            }
            regex_modparam(cx, module, param, map);
            continue;
        }
        // The module as loaded: a modparam names a module by (regex) name.
        let Some((_, new_mod)) = map.iter().find(|(old, _)| old == old_mod) else {
            // Not loaded by a `loadmodule` of this variant: when it is a
            // target module (loaded later for a function), check the
            // parameter; else L0110 reports it and Kamailio refuses it too.
            if cx.kam.packaged(old_mod) {
                match cx.kam.param(old_mod, &param.value) {
                    Some(ty) => param_value(cx, era, old_mod, &param.value, ty, value),
                    None if cx.kam.params(old_mod).next().is_some() => cx.cannot(
                        &MODPARAM_UNKNOWN,
                        param.span,
                        format!("module `{old_mod}` has no parameter `{}` in Kamailio 5.6", param.value),
                        "unknown parameter",
                        format!("see the {old_mod} module's documentation for what replaced it, or delete this line"),
                    ),
                    None => {}
                }
            } else if !cx.is_loaded(old_mod) {
                cx.cannot(
                    &MODPARAM_UNKNOWN,
                    module.span,
                    format!("`modparam` for module `{old_mod}`, which this config does not load"),
                    "module not loaded",
                    "load the module, or delete this line",
                );
            }
            continue;
        };
        let Some(new_mod) = new_mod.clone() else {
            // The module is removed (comment its parameters out too) or
            // missing (already an error at its loadmodule).
            if MOVES
                .iter()
                .any(|(o, _, n, _)| *o == old_mod && n.is_none())
            {
                cx.comment_out(
                    item.span,
                    &MODULE_REMOVED,
                    &format!("module `{old_mod}` removed"),
                );
            }
            continue;
        };
        if let Some(&(_, _, lost)) = LOSSY_DROPS
            .iter()
            .find(|(m, p, _)| *m == new_mod && *p == param.value)
        {
            cx.comment_out(
                item.span,
                &MODPARAM_UNKNOWN,
                &format!("`{}` has no equivalent", param.value),
            );
            cx.warn(&MODPARAM_UNKNOWN, param.span, format!("`{}` of module `{new_mod}` has no Kamailio 5.6 equivalent and is commented out: {lost}", param.value), "feature lost");
            continue;
        }
        // SER acc_db `failed_transactions=1` accounts failed transactions of
        // the flagged ones: Kamailio marks those with the same flag.
        if (old_mod == "acc_db" || old_mod == "acc") && param.value == "failed_transactions" {
            let flag = cx.parsed.config.items.iter().find_map(|i| match &i.kind {
                ItemKind::ModParam {
                    module,
                    param,
                    value,
                    ..
                } if module.value == old_mod
                    && matches!(param.value.as_str(), "log_flag" | "db_flag" | "acc_flag") =>
                {
                    Some(value)
                }
                _ => None,
            });
            let on = int_value(value).unwrap_or(0) != 0;
            let bit = flag.and_then(|v| match &v.kind {
                ExprKind::Int(n) => Some(*n),
                ExprKind::Str(s) => s.parse().ok().or_else(|| flag_bit(cx, s)),
                _ => None,
            });
            match (on, bit) {
                (false, _) => cx.comment_out(item.span, &MODPARAM_RENAME, "failed transactions were not accounted"),
                (true, Some(b)) => {
                    let line = format!("modparam(\"acc\", \"failed_transaction_flag\", {b})");
                    cx.replace(item.span, line, &MODPARAM_RENAME, "SER acc_db `failed_transactions` is acc's `failed_transaction_flag`, set to the accounting flag");
                }
                (true, None) => cx.cannot(
                    &MODPARAM_RENAME,
                    item.span,
                    "SER acc_db `failed_transactions` needs the accounting flag's number for acc's `failed_transaction_flag`, and `log_flag` does not give one",
                    "no safe rewrite",
                    "write `modparam(\"acc\", \"failed_transaction_flag\", N)` with the accounting flag's number",
                ),
            }
            continue;
        }
        let mut target_mod = new_mod.clone();
        let mut target_param = param.value.clone();
        if let Some(&(_, _, m, p, why)) = PARAM_MOVES
            .iter()
            .find(|(om, op, _, _, _)| *om == old_mod && *op == param.value)
        {
            match p {
                None => {
                    cx.comment_out(
                        item.span,
                        &MODPARAM_RENAME,
                        &format!("`{}` dropped: {why}", param.value),
                    );
                    continue;
                }
                Some(p) => {
                    if param.value == "nat_flag" {
                        if let ExprKind::Int(n) = value.kind {
                            cx.nat_bflag = Some(n);
                        } else if let Some(n) = int_value(value) {
                            cx.nat_bflag = Some(n);
                        }
                    }
                    if m != old_mod && m != new_mod && !cx.is_loaded(m) && m != "rtpproxy" {
                        cx.ensure_loaded(m, &MODPARAM_RENAME, &format!("takes `{p}`"));
                    }
                    target_mod = m.to_string();
                    target_param = p.to_string();
                    if p != param.value {
                        cx.replace(
                            param.span,
                            format!("\"{p}\""),
                            &MODPARAM_RENAME,
                            format!("`{}` → `{p}`: {why}", param.value),
                        );
                    }
                    if m != new_mod && m == "rtpproxy" {
                        cx.ensure_loaded(
                            "rtpproxy",
                            &MODPARAM_RENAME,
                            "RTP proxy control moved from nathelper",
                        );
                    }
                }
            }
        }
        if target_mod != old_mod {
            cx.replace(
                module.span,
                format!("\"{target_mod}\""),
                &MODULE_RENAME,
                format!("module `{old_mod}` is `{target_mod}`"),
            );
        }
        // A parameter the rename table says moved to another module
        // (auth's `rpid_prefix` is siputils' since Kamailio 3.3).
        if cx.kam.param(&target_mod, &target_param).is_none() {
            let moved = crate::catalog::rename_of(&target_param)
                .into_iter()
                .filter(|r| {
                    r.kind == crate::catalog::RenameKind::Param && r.old_module == Some(old_mod)
                })
                .filter_map(|r| r.new_module.map(|m| (m, r.new)))
                .find(|(m, p)| cx.kam.param(m, p).is_some());
            if let Some((m, p)) = moved {
                if m != target_mod {
                    cx.replace(
                        module.span,
                        format!("\"{m}\""),
                        &MODPARAM_RENAME,
                        format!("`{target_param}` is a parameter of `{m}` in Kamailio 5.6"),
                    );
                    cx.ensure_loaded(m, &MODPARAM_RENAME, &format!("takes `{p}`"));
                }
                if p != target_param {
                    cx.replace(
                        param.span,
                        format!("\"{p}\""),
                        &MODPARAM_RENAME,
                        format!("`{target_param}` is `{p}`"),
                    );
                }
                target_mod = m.to_string();
                target_param = p.to_string();
            }
        }
        let Some(ty) = cx.kam.param(&target_mod, &target_param) else {
            if cx.kam.params(&target_mod).next().is_none() {
                continue; // a module whose parameters the catalog does not list
            }
            cx.cannot(
                &MODPARAM_UNKNOWN,
                param.span,
                format!("module `{target_mod}` has no parameter `{target_param}` in Kamailio 5.6"),
                "unknown parameter",
                format!("see the {target_mod} module's documentation for what replaced it, or delete this line"),
            );
            continue;
        };
        param_value(cx, era, &target_mod, &target_param, ty, value);
    }
}

/// `modparam("a|b", "p", v)`: Kamailio sets `p` in every loaded module
/// whose name the regex matches, and refuses the config when one of them
/// has no `p`. The regex is narrowed to the modules that have it.
fn regex_modparam(cx: &mut Cx, module: &StrLit, param: &StrLit, map: &[(String, Option<String>)]) {
    let Ok(re) = regex::RegexBuilder::new(&module.value)
        .case_insensitive(true)
        .build()
    else {
        return; // L0105 reports an invalid regex
    };
    // The modules the regex meant (by their old names), under their new names.
    let mut meant: Vec<&str> = map
        .iter()
        .filter(|(old, _)| re.is_match(old))
        .filter_map(|(_, new)| new.as_deref())
        .collect();
    meant.dedup();
    if meant.is_empty() {
        return;
    }
    let has =
        |m: &str| cx.kam.param(m, &param.value).is_some() || cx.kam.params(m).next().is_none();
    let wanted: Vec<&str> = meant.iter().copied().filter(|m| has(m)).collect();
    // What the regex matches now, among the modules the target config loads.
    let now: Vec<&str> = map
        .iter()
        .filter_map(|(_, new)| new.as_deref())
        .filter(|m| re.is_match(m))
        .collect();
    if now.iter().all(|m| has(m)) && wanted.iter().all(|m| now.contains(m)) {
        return;
    }
    if wanted.is_empty() {
        // The parameter moved to another module (auth's `rpid_avp` is in
        // siputils since Kamailio 3.3).
        let moved = map
            .iter()
            .filter(|(old, _)| re.is_match(old))
            .flat_map(|(old, _)| {
                crate::catalog::rename_of(&param.value)
                    .into_iter()
                    .filter(move |r| r.old_module == Some(old.as_str()))
            })
            .filter_map(|r| r.new_module)
            .find(|m| cx.kam.param(m, &param.value).is_some());
        if let Some(m) = moved {
            cx.replace(
                module.span,
                format!("\"{m}\""),
                &MODPARAM_RENAME,
                format!("`{}` is a parameter of `{m}` in Kamailio 5.6", param.value),
            );
            cx.ensure_loaded(m, &MODPARAM_RENAME, &format!("takes `{}`", param.value));
            return;
        }
        cx.cannot(
            &MODPARAM_UNKNOWN,
            param.span,
            format!(
                "no module that `{}` matches has a parameter `{}` in Kamailio 5.6",
                module.value, param.value
            ),
            "unknown parameter",
            "see the modules' documentation for what replaced it, or delete this line",
        );
        return;
    }
    let new = if wanted.len() == 1 {
        format!("\"{}\"", wanted[0])
    } else {
        format!("\"^({})$\"", wanted.join("|"))
    };
    cx.replace(
        module.span,
        new,
        &MODPARAM_UNKNOWN,
        format!("the module regex names the modules that take `{}` in Kamailio 5.6 (Kamailio refuses a regex that matches a module without it)", param.value),
    );
}

/// A modparam value that is a bare name (not `yes`/`no`): Kamailio's
/// grammar refuses it, and it is usually a `#!define` this variant lacks.
fn bare_name(cx: &mut Cx, w: &str, span: Span, module: &str, param: &str) {
    if matches!(
        w.to_ascii_lowercase().as_str(),
        "yes" | "no" | "on" | "off" | "true" | "false" | "enable" | "disable"
    ) {
        return;
    }
    let message = format!("`{w}` is a bare name: Kamailio takes only a string or a number as the value of `{module}` parameter `{param}`");
    if cx.base {
        cx.cannot(
            &MODPARAM_VALUE,
            span,
            message,
            "not a value",
            "it is probably a #!define that the config does not define: define it, or quote the value",
        );
    } else {
        // Only with some `-A` names: the original is broken there too (the
        // Kamailio 3.1 default's WITH_ACCDB without WITH_MYSQL).
        cx.broken = true;
        cx.warn(
            &MODPARAM_VALUE,
            span,
            format!("{message}; the original is broken the same way with this variant's names (a #!define it needs is missing), so it is not translated for them"),
            "not a value",
        );
    }
}

/// The value of a parameter of type `ty`, in the target's units.
fn param_value(cx: &mut Cx, era: Era, module: &str, param: &str, ty: ParamType, value: &Expr) {
    let seconds = module == "tm" && !era.is_merged_core() && timer_in_seconds(era, param);
    match (&value.kind, ty) {
        (ExprKind::Str(s), ParamType::Int) => {
            let trimmed = s.trim();
            let n = match trimmed {
                "yes" | "on" | "true" | "enable" => Some(1),
                "no" | "off" | "false" | "disable" => Some(0),
                _ => trimmed
                    .parse::<i64>()
                    .ok()
                    .or_else(|| flag_bit(cx, trimmed)),
            };
            match n {
                Some(n) => {
                    let n = if seconds { n.saturating_mul(1000) } else { n };
                    cx.replace(
                        value.span,
                        n.to_string(),
                        &MODPARAM_VALUE,
                        format!("`{param}` takes an integer"),
                    );
                }
                None => cx.cannot(
                    &MODPARAM_VALUE,
                    value.span,
                    format!("`{module}` parameter `{param}` takes an integer in Kamailio 5.6"),
                    "not an integer",
                    "write the number this value stands for",
                ),
            }
        }
        (ExprKind::Name(w), _) => {
            let n = match w.as_str() {
                "yes" | "on" | "true" | "enable" | "YES" | "ON" | "TRUE" => Some(1),
                "no" | "off" | "false" | "disable" | "NO" | "OFF" | "FALSE" => Some(0),
                _ => None,
            };
            match n {
                Some(n) if ty != ParamType::Str => {
                    cx.replace(
                        value.span,
                        n.to_string(),
                        &MODPARAM_VALUE,
                        format!("`{param}` takes an integer"),
                    );
                }
                _ => bare_name(cx, w, value.span, module, param),
            }
        }
        (ExprKind::Int(n), ParamType::Str) => {
            cx.replace(
                value.span,
                format!("\"{n}\""),
                &MODPARAM_VALUE,
                format!("`{param}` takes a string"),
            );
        }
        (ExprKind::Int(n), ParamType::Int | ParamType::IntOrStr) if seconds => {
            cx.replace(
                value.span,
                n.saturating_mul(1000).to_string(),
                &super::meaning::TIMER_UNITS,
                format!("`{param}` = {n} s before Kamailio 3.0; milliseconds since"),
            );
        }
        _ => {
            let _ = int_value(value);
        }
    }
}

/// Spans of the loadmodule items of module `name` (as written).
#[allow(dead_code)]
pub(super) fn load_spans(items: &[Item], name: &str) -> Vec<Span> {
    items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::LoadModule { path, .. } if module_name(&path.value) == name => Some(i.span),
            _ => None,
        })
        .collect()
}

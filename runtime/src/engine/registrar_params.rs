//! `modparam("usrloc", ...)` and `modparam("registrar", ...)` turned into
//! the one [`Registrar`] (and location tables) a server shares.
//!
//! Each parameter applied here is listed as `modparam:usrloc.X` /
//! `modparam:registrar.X` in the catalog's implemented.txt; any other is
//! refused at start by the readiness check. A value this runtime cannot
//! honour (a database mode, a preload list, a value Kamailio rejects too)
//! is refused here, naming the parameter.

use crate::registrar::{PathMode, Registrar, RegistrarConfig};
use crate::usrloc::{DbMode, MatchingMode, Usrloc, UsrlocConfig};
use sercompat_compiler::ir::readiness::NOT_IMPLEMENTED;
use sercompat_compiler::ir::{ModuleParam, ParamConst, Program};
use sercompat_grammar::Diagnostic;
use std::sync::Arc;

/// What the location modules of a config need at run time.
pub struct LocationSettings {
    pub registrar: Arc<Registrar>,
    /// Seconds between expiry sweeps (usrloc `timer_interval`).
    pub timer_interval: u32,
}

/// The registrar and usrloc parameters of `program`, or one diagnostic per
/// parameter value that cannot be honoured.
pub fn registrar_from_params(program: &Program) -> Result<LocationSettings, Vec<Diagnostic>> {
    let mut ul = UsrlocConfig::default();
    let mut reg = RegistrarConfig::default();
    let mut errors = Vec::new();
    let mut db_mode_span = None;
    for p in &program.module_params {
        let result = match p.module.as_str() {
            "usrloc" => usrloc_param(&mut ul, p),
            "registrar" => registrar_param(&mut reg, &mut ul, p),
            _ => continue,
        };
        if p.module == "usrloc" && p.name == "db_mode" {
            db_mode_span = Some(p.span);
        }
        if let Err(why) = result {
            errors.push(refuse(p, why));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let timer_interval = ul.timer_interval;
    let usrloc = Usrloc::new(ul).map_err(|e| {
        let d = Diagnostic::error(NOT_IMPLEMENTED, e.to_string());
        vec![match db_mode_span {
            Some(span) => d.primary(span, "the runtime cannot honour this parameter"),
            None => d,
        }]
    })?;
    let registrar = Registrar::new(reg, Arc::new(usrloc)).map_err(|e| {
        e.0.iter()
            .map(|u| Diagnostic::error(NOT_IMPLEMENTED, u.to_string()))
            .collect::<Vec<_>>()
    })?;
    Ok(LocationSettings {
        registrar: Arc::new(registrar),
        timer_interval,
    })
}

fn refuse(p: &ModuleParam, why: String) -> Diagnostic {
    Diagnostic::error(
        NOT_IMPLEMENTED,
        format!("parameter `{}` of module `{}`: {why}", p.name, p.module),
    )
    .primary(p.value_span, "the runtime cannot honour this value")
    .note("`sercompat run` refuses to start rather than run with a different setting")
}

fn int(p: &ModuleParam) -> Result<i64, String> {
    p.value
        .as_int()
        .ok_or_else(|| format!("`{}` is not a number", text(p)))
}

fn ranged<T: TryFrom<i64>>(p: &ModuleParam, lo: i64, hi: i64) -> Result<T, String> {
    let n = int(p)?;
    if !(lo..=hi).contains(&n) {
        return Err(format!("{n} is outside {lo}..={hi}"));
    }
    T::try_from(n).map_err(|_| format!("{n} is out of range"))
}

fn boolean(p: &ModuleParam) -> Result<bool, String> {
    Ok(int(p)? != 0)
}

fn text(p: &ModuleParam) -> String {
    match &p.value {
        ParamConst::Int(n) => n.to_string(),
        ParamConst::Str(s) => s.clone(),
    }
}

fn usrloc_param(ul: &mut UsrlocConfig, p: &ModuleParam) -> Result<(), String> {
    match p.name.as_str() {
        "db_mode" => {
            let n = int(p)?;
            let mode = DbMode::from_number(n).ok_or_else(|| format!("{n} is not a db_mode"))?;
            if mode != DbMode::MemoryOnly {
                return Err(format!(
                    "db_mode {n} ({}) needs a database, and sercompat has no database driver \
                     for usrloc yet; use db_mode 0 (memory only)",
                    mode.name()
                ));
            }
            ul.db_mode = mode;
        }
        // Read by Kamailio only in the database modes, which are refused.
        "db_url" => {}
        "timer_interval" => ul.timer_interval = ranged(p, 1, i64::from(u32::MAX))?,
        "use_domain" => ul.use_domain = boolean(p)?,
        "nat_bflag" => {
            let n = ranged::<i64>(p, -1, 31)?;
            ul.nat_bflag = u8::try_from(n).ok();
        }
        "hash_size" => ul.hash_size = ranged(p, 1, 16)?,
        "desc_time_order" => ul.desc_time_order = boolean(p)?,
        "matching_mode" => {
            let n = int(p)?;
            ul.matching_mode = MatchingMode::from_number(n)
                .ok_or_else(|| format!("{n} is not a matching_mode (0-3)"))?;
        }
        "preload" => {
            if !text(p).trim().is_empty() {
                return Err(
                    "preloading a table needs a database, and sercompat has no database \
                     driver for usrloc yet"
                        .to_owned(),
                );
            }
        }
        other => return Err(format!("`{other}` is not applied by the runtime")),
    }
    Ok(())
}

fn registrar_param(
    reg: &mut RegistrarConfig,
    ul: &mut UsrlocConfig,
    p: &ModuleParam,
) -> Result<(), String> {
    let u32_max = i64::from(u32::MAX);
    match p.name.as_str() {
        "default_expires" => reg.default_expires = ranged(p, 0, u32_max)?,
        "min_expires" => reg.min_expires = ranged(p, 0, u32_max)?,
        "max_expires" => reg.max_expires = ranged(p, 0, u32_max)?,
        "max_contacts" => reg.max_contacts = ranged(p, 0, u32_max)?,
        "default_q" => reg.default_q = ranged(p, -1, 1000)?,
        "append_branches" => reg.append_branches = boolean(p)?,
        "method_filtering" => reg.method_filtering = boolean(p)?,
        "case_sensitive" => reg.case_sensitive = boolean(p)?,
        "use_path" => reg.use_path = boolean(p)?,
        "path_mode" => {
            let n = int(p)?;
            reg.path_mode =
                PathMode::from_number(n).ok_or_else(|| format!("{n} is not a path_mode (0-2)"))?;
        }
        "received_param" => reg.received_param = text(p),
        "received_avp" => {
            let t = text(p);
            reg.received_avp = (!t.trim().is_empty()).then_some(t);
        }
        // SER 0.8–0.9 kept use_domain in the registrar; later in usrloc.
        "use_domain" => ul.use_domain = boolean(p)?,
        other => return Err(format!("`{other}` is not applied by the runtime")),
    }
    Ok(())
}

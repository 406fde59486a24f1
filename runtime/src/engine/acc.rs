//! The acc module's log accounting: a transaction whose request carried
//! `log_flag` is written to the log when its final reply goes upstream
//! ("transaction answered"), an INVITE carrying `log_missed_flag` that
//! failed is written as "call missed", an ACK for an accounted 2xx as
//! "request acknowledged" (`report_ack`), and `acc_log_request(comment)`
//! writes the request at once ("request accounted"). The lines are
//! Kamailio's, field for field (checked against Kamailio 5.6's own log for
//! the same calls): `timestamp`, `method`, `from_tag`, `to_tag`,
//! `call_id`, `code`, `reason`, then the `log_extra` pairs.
//!
//! Database, RADIUS and Diameter accounting (`db_flag`, `db_url`, ...)
//! are not here; the runtime refuses a config that sets them.

use super::exec::{Ctx, Halt};
use super::level;
use sercompat_compiler::ir::pv::{parse_format, FormatPart, PvRef};
use sercompat_compiler::ir::{ParamConst, Program, Value};
use sercompat_grammar::{Diagnostic, Era};

pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[("acc", "acc_log_request", 1, 1)];

/// The acc settings of a config (modparams), checked at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccConfig {
    pub log_flag: Option<u32>,
    pub missed_flag: Option<u32>,
    /// `failed_transaction_flag`: a failed transaction with this flag is
    /// written as answered too.
    pub failed_flag: Option<u32>,
    /// `log_extra`: `name=$pv` pairs appended to every line.
    pub extra: Vec<(String, PvRef)>,
    pub level: i32,
    pub report_ack: bool,
    /// `report_cancels`: CANCEL transactions are accounted too.
    pub report_cancels: bool,
}

impl AccConfig {
    /// The settings when the config loads acc; `None` otherwise.
    pub fn from_program(program: &Program) -> Option<AccConfig> {
        if !program.module_loads.iter().any(|(m, _)| m == "acc") {
            return None;
        }
        let mut c = AccConfig {
            log_flag: None,
            missed_flag: None,
            failed_flag: None,
            extra: Vec::new(),
            level: level::L_NOTICE,
            report_ack: false,
            report_cancels: false,
        };
        for p in program.module_params.iter().filter(|p| p.module == "acc") {
            let int = p.value.as_int();
            let flag = int.and_then(|n| u32::try_from(n).ok()).filter(|&n| n < 32);
            match p.name.as_str() {
                "log_flag" => c.log_flag = flag,
                "log_missed_flag" => c.missed_flag = flag,
                "failed_transaction_flag" => c.failed_flag = flag,
                "log_level" => c.level = log_level(program.era, int.unwrap_or(0)),
                "report_ack" => c.report_ack = int.unwrap_or(0) != 0,
                "report_cancels" => c.report_cancels = int.unwrap_or(0) != 0,
                "log_extra" => {
                    if let ParamConst::Str(s) = &p.value {
                        c.extra = parse_extra(s).unwrap_or_default();
                    }
                }
                _ => {}
            }
        }
        Some(c)
    }

    fn has(&self, flag: Option<u32>, flags: u32) -> bool {
        flag.is_some_and(|f| flags & (1 << f) != 0)
    }
}

/// Load-time problems of the acc modparams: flags out of range and
/// `log_extra` values that are not `name=$pv;...` (errors), settings read
/// but not honoured (warnings).
pub(crate) fn check_modparams(program: &Program) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in program.module_params.iter().filter(|p| p.module == "acc") {
        let on = p.value.as_int() != Some(0);
        let ignored = match p.name.as_str() {
            "detect_direction" => {
                Some("records keep From and To as in the request, whichever way it goes")
            }
            _ => None,
        };
        if let (true, Some(what)) = (on, ignored) {
            out.push(
                Diagnostic::warning(
                    sercompat_compiler::ir::readiness::SETTING_IGNORED,
                    format!(
                        "acc parameter `{}` is not honoured by the sercompat runtime: {what}",
                        p.name
                    ),
                )
                .primary(p.value_span, "read, but has no effect"),
            );
        }
        let problem = match (p.name.as_str(), &p.value) {
            ("log_flag" | "log_missed_flag" | "failed_transaction_flag", v) => {
                (!v.as_int().is_some_and(|n| (0..32).contains(&n)))
                    .then(|| "a flag is a number from 0 to 31".to_owned())
            }
            ("log_extra", ParamConst::Str(s)) => parse_extra(s).err(),
            _ => None,
        };
        if let Some(why) = problem {
            out.push(
                Diagnostic::error(
                    super::UNSUPPORTED,
                    format!("acc parameter `{}`: {why}", p.name),
                )
                .primary(p.value_span, "this value"),
            );
        }
    }
    out
}

/// `name=$pv;name=$pv` (Kamailio's extra definition).
fn parse_extra(s: &str) -> Result<Vec<(String, PvRef)>, String> {
    s.split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not `name=$pseudo-variable`"))?;
            match parse_format(value.trim()).as_slice() {
                [FormatPart::Pv(pv)] => Ok((name.trim().to_owned(), pv.clone())),
                _ => Err(format!("`{}` is not one pseudo-variable", value.trim())),
            }
        })
        .collect()
}

/// acc `log_level` in Kamailio 3.0+ numbers (older eras counted from 1).
fn log_level(era: Era, n: i64) -> i32 {
    let n = i32::try_from(n).unwrap_or(level::L_NOTICE);
    if era.is_merged_core() || n < 1 {
        n
    } else {
        n - 1
    }
}

/// `acc_log_request("200 Logged")`: the request now, code and reason
/// from the comment.
pub(crate) fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> Result<i64, Halt> {
    let Some(acc) = ctx.cfg.acc.as_ref() else {
        ctx.error(&format!("{name}: the acc module is not loaded"));
        return Ok(-1);
    };
    let comment = ctx.eval(&args[0])?.as_string();
    let (code, reason) = split_comment(&comment);
    let to_tag = ctx.msg.to_tag().map(|t| t.to_string()).unwrap_or_default();
    write(ctx, acc, "request accounted", code, reason, &to_tag)?;
    Ok(1)
}

/// "200 OK" → (200, "OK"); a comment without a code keeps all as reason.
fn split_comment(comment: &str) -> (&str, &str) {
    let c = comment.trim();
    match c.split_once(' ') {
        Some((code, reason)) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
            (code, reason.trim())
        }
        _ if c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()) => (c, ""),
        _ => ("", c),
    }
}

/// A final reply (or, with `early_media`, a 183 with a body) of a
/// transaction went upstream. `ctx` is on the transaction's request with
/// its flags; the missed-call flag is consumed, as Kamailio does.
pub(crate) fn on_final(
    ctx: &mut Ctx,
    acc: &AccConfig,
    reply: &crate::tm::FinalReply,
) -> Result<(), Halt> {
    if !accounted_method(ctx, acc) {
        return Ok(());
    }
    let code = reply.code.to_string();
    if reply.code >= 300 {
        missed(ctx, acc, reply)?;
    }
    if acc.has(acc.log_flag, ctx.flags) && (reply.code < 300 || acc.has(acc.failed_flag, ctx.flags))
    {
        write(
            ctx,
            acc,
            "transaction answered",
            &code,
            &reply.reason,
            &reply.to_tag,
        )?;
    }
    Ok(())
}

/// Every branch failed and a failure route is about to run: a missed
/// call is written now (the route may fork again and set the flag anew).
pub(crate) fn on_failure(
    ctx: &mut Ctx,
    acc: &AccConfig,
    reply: &crate::tm::FinalReply,
) -> Result<(), Halt> {
    if accounted_method(ctx, acc) {
        missed(ctx, acc, reply)?;
    }
    Ok(())
}

fn missed(ctx: &mut Ctx, acc: &AccConfig, reply: &crate::tm::FinalReply) -> Result<(), Halt> {
    let invite = ctx.msg.method() == Some(crate::sip::Method::Invite);
    if invite && acc.has(acc.missed_flag, ctx.flags) {
        let code = reply.code.to_string();
        write(ctx, acc, "call missed", &code, &reply.reason, &reply.to_tag)?;
        if let Some(f) = acc.missed_flag {
            ctx.flags &= !(1 << f);
        }
    }
    Ok(())
}

fn accounted_method(ctx: &Ctx, acc: &AccConfig) -> bool {
    acc.report_cancels || ctx.msg.method() != Some(crate::sip::Method::Cancel)
}

/// An ACK for a 2xx of an accounted INVITE (`report_ack`): `ctx` is on
/// the ACK; `flags` are the INVITE transaction's.
pub(crate) fn on_e2e_ack(
    ctx: &mut Ctx,
    acc: &AccConfig,
    flags: u32,
    code: u16,
    reason: &str,
) -> Result<(), Halt> {
    if !acc.report_ack || !acc.has(acc.log_flag, flags) {
        return Ok(());
    }
    let to_tag = ctx.msg.to_tag().map(|t| t.to_string()).unwrap_or_default();
    write(
        ctx,
        acc,
        "request acknowledged",
        &code.to_string(),
        reason,
        &to_tag,
    )
}

fn write(
    ctx: &mut Ctx,
    acc: &AccConfig,
    what: &str,
    code: &str,
    reason: &str,
    to_tag: &str,
) -> Result<(), Halt> {
    let msg = ctx.msg;
    let text = |v: Option<&crate::sip::SipStr>| v.map(|s| s.to_string()).unwrap_or_default();
    let method = msg.method().map(|m| m.to_string()).unwrap_or_default();
    let from_tag = text(msg.from_tag());
    let call_id = text(msg.call_id().ok().flatten());
    let timestamp = super::unix_seconds(&ctx.cfg.clock);
    let mut line = format!(
        "ACC: {what}: timestamp={timestamp};method={method};from_tag={from_tag};to_tag={to_tag};call_id={call_id};code={code};reason={reason}"
    );
    for (name, pv) in &acc.extra {
        // A null value is written empty (Kamailio's log accounting), not
        // as xlog's `<null>`.
        let value = super::pv::read(ctx, pv)?;
        line.push(';');
        line.push_str(name);
        line.push('=');
        if !value.is_null() {
            line.push_str(&value.printed());
        }
    }
    line.push('\n');
    ctx.log(acc.level, &line);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_extra, split_comment};

    #[test]
    fn comments_split_into_code_and_reason() {
        assert_eq!(split_comment("200 Logged"), ("200", "Logged"));
        assert_eq!(split_comment("404"), ("404", ""));
        assert_eq!(split_comment("just text"), ("", "just text"));
    }

    #[test]
    fn extra_is_name_equals_one_pv() {
        let e = parse_extra("src_user=$fU;src_domain=$fd; dst_user=$rU").unwrap();
        let names: Vec<_> = e.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["src_user", "src_domain", "dst_user"]);
        assert!(parse_extra("src_user").is_err());
        assert!(parse_extra("u=plain text").is_err());
    }
}

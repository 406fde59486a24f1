//! The tmx module's script functions that need no more than the
//! transaction the message belongs to: which kind of route is running,
//! and `t_flush_flags` (the message flags set after `t_relay` reach the
//! transaction, so its failure and reply routes see them).

use super::exec::{Ctx, Halt, RouteMode};
use sercompat_compiler::ir::Value;

pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("tmx", "t_is_failure_route", 0, 0),
    ("tmx", "t_is_branch_route", 0, 0),
    ("tmx", "t_is_reply_route", 0, 0),
    ("tmx", "t_is_request_route", 0, 0),
    ("tmx", "t_flush_flags", 0, 0),
];

pub(crate) fn call(ctx: &mut Ctx, name: &str, _args: &[Value]) -> Result<i64, Halt> {
    let branch = ctx.tm.in_branch_route;
    let yes = match name {
        "t_is_failure_route" => matches!(ctx.mode, RouteMode::Failure { .. }),
        "t_is_reply_route" => matches!(ctx.mode, RouteMode::Reply { .. }),
        "t_is_branch_route" => ctx.mode == RouteMode::Request && branch,
        "t_is_request_route" => ctx.mode == RouteMode::Request && !branch,
        "t_flush_flags" => return Ok(super::tm::flush_flags(ctx)),
        other => {
            ctx.error(&format!("tmx function `{other}` has no handler"));
            return Ok(-1);
        }
    };
    Ok(if yes { 1 } else { -1 })
}

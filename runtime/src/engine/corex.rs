//! corex (Kamailio 4.0+): `append_branch`, the `send` family (the message
//! as received, no Via added), `send_data`/`sendx` (any bytes), the send
//! socket, file helpers and `is_faked_msg`.

use super::actions::{self, host_destination, send_bytes};
use super::exec::{Ctx, Halt};
use super::funcs::{constant, ok};
use super::uri::UriParts;
use super::{Proto, Val};
use sercompat_compiler::ir::{Program, Value};

/// Functions handled here, with their argument counts.
pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("corex", "append_branch", 0, 2),
    ("corex", "send", 0, 1),
    ("corex", "send_udp", 0, 1),
    ("corex", "send_tcp", 0, 1),
    ("corex", "send_data", 2, 2),
    ("corex", "sendx", 3, 3),
    ("corex", "set_send_socket", 1, 1),
    ("corex", "file_read", 2, 2),
    ("corex", "file_write", 2, 2),
    ("corex", "is_faked_msg", 0, 0),
];

pub(crate) fn handles(name: &str) -> bool {
    FUNCTIONS.iter().any(|(_, n, ..)| *n == name)
}

pub(crate) fn check(program: &Program, func: &str, args: &[Value]) -> Result<(), String> {
    match func {
        "append_branch" => actions::check(program, func, args),
        "file_read" => actions::pv_target(&args[1]),
        "send_data" | "sendx" => {
            if let Some(u) = constant(&args[0]) {
                uri_target(&u).ok_or_else(|| format!("`{u}` is not a SIP URI to send to"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(crate) fn call(ctx: &mut Ctx, func: &str, args: &[Value]) -> Result<i64, Halt> {
    Ok(match func {
        "append_branch" => actions::append_branch(ctx, args)?,
        "send" | "send_udp" => send(ctx, args, Proto::Udp)?,
        "send_tcp" => send(ctx, args, Proto::Tcp)?,
        "send_data" | "sendx" => {
            let uri = ctx.eval(&args[0])?.as_string();
            if func == "sendx" {
                let sock = ctx.eval(&args[1])?.as_string();
                if !sock.trim().is_empty() && !actions::force_send_socket(ctx, func, &sock) {
                    return Ok(-1);
                }
            }
            let data = ctx.eval(&args[args.len() - 1])?.as_string();
            let Some(dest) = uri_target(&uri) else {
                ctx.error(&format!("{func}: `{uri}` is not a SIP URI to send to"));
                return Ok(-1);
            };
            ok(send_bytes(ctx, bytes::Bytes::from(data), dest))
        }
        "set_send_socket" => {
            let s = ctx.eval(&args[0])?.as_string();
            ok(actions::force_send_socket(ctx, func, &s))
        }
        "file_read" => {
            let path = ctx.eval(&args[0])?.as_string();
            match std::fs::read(&path) {
                Ok(b) => {
                    let v = Val::Str(String::from_utf8_lossy(&b).into_owned());
                    ok(actions::write_variable(ctx, &args[1], v))
                }
                Err(e) => {
                    ctx.error(&format!("file_read: cannot read `{path}`: {e}"));
                    -1
                }
            }
        }
        "file_write" => {
            let path = ctx.eval(&args[0])?.as_string();
            let content = ctx.eval(&args[1])?.as_string();
            match std::fs::write(&path, content) {
                Ok(()) => 1,
                Err(e) => {
                    ctx.error(&format!("file_write: cannot write `{path}`: {e}"));
                    -1
                }
            }
        }
        // The engine never builds faked messages (they belong to tm's
        // failure handling).
        "is_faked_msg" => -1,
        _ => {
            ctx.error(&format!("`{func}` has no handler; the script stops"));
            return Err(Halt::Drop);
        }
    })
}

/// `send_udp([host[:port]])`: the message as received; without an
/// argument, to `$du` or else the Request-URI.
fn send(ctx: &mut Ctx, args: &[Value], proto: Proto) -> Result<i64, Halt> {
    let target = match args.first() {
        Some(a) => ctx.eval(a)?.as_string(),
        None => ctx.dst_uri.clone().unwrap_or_else(|| ctx.ruri.clone()),
    };
    let Some(dest) = host_destination(&target, proto) else {
        ctx.error(&format!("send: cannot send to `{target}`"));
        return Ok(-1);
    };
    let bytes = ctx.msg.as_bytes().clone();
    Ok(ok(send_bytes(ctx, bytes, dest)))
}

/// A `sip:`/`sips:` URI's next hop (`transport=` or UDP).
fn uri_target(uri: &str) -> Option<super::Destination> {
    UriParts::split(uri.trim())?;
    host_destination(uri, Proto::Udp)
}

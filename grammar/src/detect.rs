//! Detecting a config's era from its text, with the evidence.

use crate::dialect::{DollarMode, Era, EraChoice, EraReason};
use regex::Regex;
use std::sync::OnceLock;

/// One lazily compiled regex per marker: a file with a mode header, or a
/// run with `--dialect`, compiles only the few it needs (compiling all of
/// them dominated a one-file check).
macro_rules! marker {
    ($name:ident, $re:expr) => {
        fn $name() -> &'static Regex {
            static RE: OnceLock<Regex> = OnceLock::new();
            RE.get_or_init(|| Regex::new($re).expect("marker regex"))
        }
    };
}

marker!(
    preprocessor,
    r"(?-u)(?m)^[ \t]*(?:(?:#!|!!)(?:define|def|ifdef|ifndef|trydef|redefine|subst|substdef|substdefs|include_file|import_file|defenv)\b|(?:include_file|import_file)[ \t]+\x22)"
);
marker!(
    k3_syntax,
    r"(?-u)(?m)\bevent_route[ \t]*\[|^[ \t]*request_route\b|^[ \t]*reply_route[ \t]*\{|\$xavp\(|\bmpath[ \t]*=[\t -~]*\bmodules_k|\bloadpath\b|\$sel\(|\$shv\(|\bcfgengine\b"
);
marker!(modules_k_or_s, r"(?-u)modules_[ks]\b");
marker!(
    ser2,
    r"(?-u)(?m)^[ \t]*(?:flags|avpflags)[ \t]+[A-Za-z_]|\$(?:f|t|fr|tr|fu|tu|fd|td|g)\.[A-Za-z_][A-Za-z0-9_]*|(?:^|[\s(=!])@(?:from|to|ruri|msg|via|contact|cseq|call_id|src|dst|sys|next_hop|authorization)\b|\bonsend_route\b"
);
marker!(
    pv,
    r"(?-u)\$(?:var|avp|hdr|shv|ru|rU|rd|rp|fu|fU|fd|tu|tU|td|si|sp|rm|ci|du|ua|ct|Ri|Rp|br|dd|rs|rr|ft|tt|T_reply_code|mb|ml|Ts|TF|pp|retcode|rc)\b"
);
marker!(retcode, r"(?-u)\bswitch[ \t]*\([ \t]*retcode\b");
marker!(
    ser08,
    r"(?-u)\b(?:t_on_negative|rewriteFromRoute|addRecordRoute|sl_filter_ACK|len_gt)\b|(?m)^[ \t]*reply_route[ \t]*\[|(?m)^[ \t]*!?[ \t]*\(?[ \t]*(?:src_ip|dst_ip|method|uri)[ \t]*(?:==|=~|!=)"
);
marker!(
    ser09,
    r"(?-u)\b(?:fifo_dir|unix_sock|force_tcp_alias|force_send_socket|failure_route|from_uri|to_uri|avp_write|avp_load_radius|lookup_domain)\b"
);
marker!(
    ser_path,
    r"(?-u)/ser/modules|\bsip_router/modules|\bloop_checks[ \t]*=|\bser\.cfg\b|\bfifo[ \t]*="
);
marker!(openser_path, r"openser");
marker!(
    openser_words,
    r"(?-u)(?m)^[ \t]*(?:exit[ \t]*;|switch[ \t]*\(|branch_route[ \t]*\[)"
);
marker!(
    k6,
    r"(?-u)(?m)^[ \t]*(?:return_mode|xavp_via_reply_params|maxsndbuffer|msg_recv_max_size|tcp_msg_read_timeout|tcp_msg_data_timeout|tcp_accept_iplimit|tcp_check_timer|async_tkv_gname|async_tkv_evcb|mem_add_size|tcp_close_rst|tls_threads_mode|auto_domains|rpc_exec_delta|udp_receiver_mode)[ \t]*="
);

/// Core parameters that only Kamailio 6 has.
const K6_PARAMS: &[&str] = &[
    "return_mode",
    "xavp_via_reply_params",
    "maxsndbuffer",
    "msg_recv_max_size",
    "tcp_msg_read_timeout",
    "tcp_msg_data_timeout",
    "tcp_accept_iplimit",
    "tcp_check_timer",
    "async_tkv_gname",
    "async_tkv_evcb",
    "mem_add_size",
    "tcp_close_rst",
    "tls_threads_mode",
    "auto_domains",
    "rpc_exec_delta",
    "udp_receiver_mode",
];

/// Whether `$` or `@` appears outside `#` comment lines (CVS `$Id$`
/// keywords in comments do not count).
fn uses_variables(text: &str) -> bool {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .any(|l| l.contains(['$', '@']))
}

/// Whether some line opens a route block (`route {`, `route[1] {`).
fn has_route_block(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("route"))
}

/// Whether a line starts with a Kamailio 6 core parameter (one pass, no regex).
fn has_k6_param(text: &str) -> bool {
    text.lines().any(|line| {
        let t = line.trim_start_matches([' ', '\t']);
        let word = &t[..t
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count()];
        !word.is_empty()
            && K6_PARAMS.contains(&word)
            && t[word.len()..]
                .trim_start_matches([' ', '\t'])
                .starts_with('=')
    })
}

fn has_modules_k_or_s(text: &str) -> bool {
    text.match_indices("modules_").any(|(i, _)| {
        let rest = &text.as_bytes()[i + 8..];
        matches!(rest.first(), Some(b'k' | b's'))
            && !rest
                .get(1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    })
}

/// The first mode header line (`#!KAMAILIO`, `//!SER`, …): the whole line
/// text, its 1-based number, its mode.
fn mode_header(text: &str) -> Option<(String, usize, DollarMode)> {
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start_matches([' ', '\t']);
        let Some(word) = t.strip_prefix("#!").or_else(|| t.strip_prefix("//!")) else {
            continue;
        };
        let mode = match word.trim_end_matches([' ', '\t', '\r']) {
            "SER" => DollarMode::Ser,
            "KAMAILIO" | "OPENSER" => DollarMode::Kamailio,
            "MAXCOMPAT" | "ALL" => DollarMode::MaxCompat,
            _ => continue,
        };
        return Some((t.trim_end().to_string(), n + 1, mode));
    }
    None
}

/// Whether the text looks like the 2001 rule table: no route blocks or
/// assignments, and lines of exactly three whitespace-separated fields.
pub fn looks_like_rule_table(text: &str) -> bool {
    let mut rules = 0;
    let mut other = 0;
    for line in text.lines() {
        let content = strip_rule_comment(line).trim();
        if content.is_empty() {
            continue;
        }
        // Anything of the route language rules the table out.
        if content.contains(['{', ';', '"', '=']) {
            return false;
        }
        if content.split_whitespace().count() == 3 {
            rules += 1;
        } else {
            other += 1;
        }
    }
    // A broken line or two must not turn a table into a route script.
    rules > 0 && other <= rules
}

/// A rule line's content without its `# comment` (a `#` that starts a field).
pub fn strip_rule_comment(line: &str) -> &str {
    let mut prev_blank = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_blank {
            return &line[..i];
        }
        prev_blank = c == ' ' || c == '\t';
    }
    line
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// Chooses the era: `--dialect`, else the mode header, else the content.
pub fn choose(text: &str, forced: Option<Era>) -> (EraChoice, DollarMode) {
    let header = mode_header(text);
    if let Some(era) = forced {
        let mode = match &header {
            Some((_, _, mode)) if era.has_preprocessor() => *mode,
            _ => era.default_dollar_mode(),
        };
        return (
            EraChoice {
                era,
                reason: EraReason::CommandLine,
            },
            mode,
        );
    }
    if let Some((h, line, mode)) = header {
        // Plain substring tests: with a header, no marker regex is compiled.
        let era = if has_modules_k_or_s(text) {
            Era::Kamailio3
        } else if has_k6_param(text) {
            Era::Kamailio6
        } else {
            Era::Kamailio5
        };
        return (
            EraChoice {
                era,
                reason: EraReason::ModeHeader(h, line),
            },
            mode,
        );
    }
    let era_with = |era: Era, ev: Vec<String>| {
        (
            EraChoice {
                era,
                reason: EraReason::Detected(ev),
            },
            era.default_dollar_mode(),
        )
    };
    let first = |re: &Regex| {
        re.find(text)
            .map(|f| (f.as_str().trim().to_string(), line_of(text, f.start())))
    };
    if looks_like_rule_table(text) {
        return era_with(
            Era::Rules2001,
            vec!["lines of `method_regex uri_regex destination` (the 2001 rule table)".into()],
        );
    }
    let pp = first(preprocessor());
    let k3 = first(k3_syntax());
    let mks = first(modules_k_or_s());
    if pp.is_some() || k3.is_some() || mks.is_some() {
        let mut ev = Vec::new();
        if let Some((t, l)) = &pp {
            ev.push(format!("preprocessor directive `{t}` (line {l})"));
        }
        if let Some((t, l)) = &k3 {
            ev.push(format!("Kamailio 3.0+ syntax `{t}` (line {l})"));
        }
        let era = if let Some((t, l)) = &mks {
            ev.push(format!(
                "module path `{t}` (line {l}) of the sip-router 3.x tree"
            ));
            Era::Kamailio3
        } else if let Some((t, l)) = first(k6()) {
            ev.push(format!("Kamailio 6 parameter `{t}` (line {l})"));
            Era::Kamailio6
        } else {
            Era::Kamailio5
        };
        return era_with(era, ev);
    }
    if let Some((t, l)) = first(ser2()) {
        return era_with(
            Era::Ser2,
            vec![format!("SER 2.x construct `{t}` (line {l})")],
        );
    }
    if let Some((t, l)) = first(pv()) {
        if let Some((rt, rl)) = first(retcode()) {
            return era_with(
                Era::OpenSer10,
                vec![format!("`{rt}` (line {rl}) of OpenSER 1.0/1.1")],
            );
        }
        return era_with(
            Era::OpenSer12,
            vec![format!(
                "pseudo-variable `{t}` (line {l}) of OpenSER 1.2+ / Kamailio 1.x"
            )],
        );
    }
    if let Some((t, l)) = first(retcode()) {
        return era_with(
            Era::OpenSer10,
            vec![format!("`{t}` (line {l}) of OpenSER 1.0/1.1")],
        );
    }
    if let Some((t, l)) = first(ser08()) {
        return era_with(
            Era::Ser08,
            vec![format!("SER 0.8 construct `{t}` (line {l})")],
        );
    }
    if let Some((t, l)) = first(openser_path()) {
        return era_with(
            Era::OpenSer10,
            vec![format!("`{t}` (line {l}) without pseudo-variables")],
        );
    }
    let ser = first(ser_path());
    if let Some((t, l)) = first(ser09()) {
        let mut ev = vec![format!("SER 0.9 construct `{t}` (line {l})")];
        if let Some((st, sl)) = &ser {
            ev.push(format!("`{st}` (line {sl})"));
        }
        return era_with(Era::Ser09, ev);
    }
    if let Some((t, l)) = ser {
        return era_with(
            Era::Ser08,
            vec![format!(
                "SER setting `{t}` (line {l}) and no later construct"
            )],
        );
    }
    // `exit`, `switch`, `branch_route` came with OpenSER 1.0 (SER 0.x had
    // none of them): a config without variables that uses them is OpenSER.
    if let Some((t, l)) = first(openser_words()) {
        if !uses_variables(text) {
            return era_with(
                Era::OpenSer10,
                vec![format!(
                    "`{t}` (line {l}), which SER 0.8/0.9 did not have, and no `$` variable"
                )],
            );
        }
    }
    // Every later dialect has variables; SER 0.8/0.9 had none.
    if has_route_block(text) && !uses_variables(text) {
        return era_with(
            Era::Ser08,
            vec![
                "route blocks without any `$` variable or `@` select (SER 0.8/0.9 had neither)"
                    .into(),
            ],
        );
    }
    (
        EraChoice {
            era: Era::Kamailio5,
            reason: EraReason::Default,
        },
        DollarMode::MaxCompat,
    )
}

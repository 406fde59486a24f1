//! `loose_route()` (RFC 3261 §16.4, §16.12) with Kamailio 5.6's return
//! codes, and the two checks that read what it found in our Route.

use super::routes::{is_loose_uri, route_entries, uri_params, RouteEntry};
use crate::sip::{HeaderPosition, MessageEditor, SipError, Span};
use std::collections::BTreeMap;

/// What `loose_route` decided. Header edits are already lumps on the
/// editor; the Request-URI and `$du` are the caller's to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RrOutcome {
    /// 1 routed; -1 no Route header (or none could be read); -3 the only
    /// Route was ours on a request outside a dialog (a preloaded route
    /// set ending here).
    pub code: i64,
    /// The new Request-URI, when it changes.
    pub ruri: Option<String>,
    /// The new destination URI (`$du`), when set.
    pub dst_uri: Option<String>,
    /// The URI parameters of the Route entry (or strict-routed
    /// Request-URI) that named us: what `check_route_param` and
    /// `is_direction` read.
    pub our_params: Option<String>,
    /// Header fields deleted whole.
    pub removed_headers: Vec<usize>,
    /// Our Route was on top and more Route entries followed it: the next
    /// hop comes from the route set (`rr_next_hop_route`).
    pub next_hop_from_route: bool,
}

/// Flow direction of an in-dialog request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Caller to callee: the From tag is the `ftag` we recorded.
    Downstream,
    Upstream,
}

impl Direction {
    pub fn parse(s: &str) -> Option<Direction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "downstream" => Some(Direction::Downstream),
            "upstream" => Some(Direction::Upstream),
            _ => None,
        }
    }
}

/// Routes the request on its Route set. `ruri` is the Request-URI as the
/// script has it now; `myself` says whether a URI names this proxy.
pub fn loose_route(
    editor: &mut MessageEditor<'_>,
    ruri: &str,
    myself: &dyn Fn(&str) -> bool,
) -> Result<RrOutcome, SipError> {
    loose_route_mode(editor, ruri, myself, false)
}

/// `loose_route_mode(1)`: [`loose_route`] without the strict-router
/// repair, for application servers whose Contact names this proxy (a
/// Request-URI that is ours is left alone).
pub fn loose_route_mode(
    editor: &mut MessageEditor<'_>,
    ruri: &str,
    myself: &dyn Fn(&str) -> bool,
    loose_only: bool,
) -> Result<RrOutcome, SipError> {
    let msg = editor.message();
    let routes = route_entries(msg)?;
    let mut out = RrOutcome {
        code: -1,
        ..RrOutcome::default()
    };
    if routes.is_empty() {
        return Ok(out);
    }
    out.code = 1;
    let mut removed: Vec<&RouteEntry> = Vec::new();
    let rest: &[RouteEntry] = if !loose_only && myself(ruri) {
        // The previous hop is a strict router (§16.4): the Request-URI is
        // the Record-Route we put, the real one is the last Route.
        let last = routes.last().expect("not empty");
        out.our_params = Some(uri_params(ruri).to_string());
        out.ruri = Some(last.uri.clone());
        removed.push(last);
        &routes[..routes.len() - 1]
    } else if myself(&routes[0].uri) {
        let top = &routes[0];
        out.our_params = Some(uri_params(&top.uri).to_string());
        removed.push(top);
        let mut rest = &routes[1..];
        if has_r2(&top.uri) && !rest.is_empty() {
            // Our second Record-Route (the other socket) comes next.
            removed.push(&rest[0]);
            rest = &rest[1..];
        }
        if rest.is_empty() {
            let in_dialog = msg.to_tag().is_some_and(|t| !t.is_empty());
            out.code = if in_dialog { 1 } else { -3 };
            // The Request-URI is the next hop.
            out.removed_headers = delete_entries(editor, &removed)?;
            return Ok(out);
        }
        out.next_hop_from_route = true;
        rest
    } else {
        &routes[..]
    };
    let current = out.ruri.clone().unwrap_or_else(|| ruri.to_string());
    match rest.first() {
        // Loose next hop: the Request-URI stays, the Route stays.
        Some(next) if next.is_loose() => out.dst_uri = Some(next.uri.clone()),
        // Strict next hop (§16.6 step 6): it takes the Request-URI's
        // place and the Request-URI goes last in the route set.
        Some(next) => {
            removed.push(next);
            out.ruri = Some(next.uri.clone());
            out.removed_headers = delete_entries(editor, &removed)?;
            editor.add_header(HeaderPosition::Last, "Route", &format!("<{current}>"))?;
            return Ok(out);
        }
        // Nothing left after the strict-router repair: the restored
        // Request-URI is the next hop, sent to directly when it is a loose
        // router (Kamailio sets `$du` to it).
        None if is_loose_uri(&current) => out.dst_uri = Some(current),
        None => {}
    }
    out.removed_headers = delete_entries(editor, &removed)?;
    Ok(out)
}

fn has_r2(uri: &str) -> bool {
    uri_params(uri).split(';').any(|p| {
        let mut kv = p.splitn(2, '=');
        kv.next().unwrap_or("").trim().eq_ignore_ascii_case("r2")
            && kv
                .next()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("on"))
    })
}

/// Deletes Route entries: a field whose entries all go is deleted whole
/// (its index returned), else each run of entries with its comma.
fn delete_entries(
    editor: &mut MessageEditor<'_>,
    removed: &[&RouteEntry],
) -> Result<Vec<usize>, SipError> {
    let mut by_header: BTreeMap<usize, Vec<&RouteEntry>> = BTreeMap::new();
    for e in removed {
        by_header.entry(e.header).or_default().push(e);
    }
    let mut whole = Vec::new();
    for (header, mut entries) in by_header {
        entries.sort_by_key(|e| e.position);
        entries.dedup_by_key(|e| e.position);
        let n = entries[0].in_header;
        if entries.len() == n {
            editor.remove_header(header)?;
            whole.push(header);
            continue;
        }
        let spans = entry_spans(editor, header)?;
        let mut i = 0;
        while i < entries.len() {
            let a = entries[i].position;
            let mut b = a;
            while i + 1 < entries.len() && entries[i + 1].position == b + 1 {
                i += 1;
                b += 1;
            }
            let cut = if b + 1 < n {
                Span::new(spans[a].start, spans[b + 1].start)
            } else {
                Span::new(spans[a - 1].end, spans[b].end)
            };
            editor.lumps_mut().delete(cut)?;
            i += 1;
        }
    }
    Ok(whole)
}

fn entry_spans(editor: &MessageEditor<'_>, header: usize) -> Result<Vec<Span>, SipError> {
    Ok(route_entries(editor.message())?
        .into_iter()
        .filter(|e| e.header == header)
        .map(|e| e.span)
        .collect())
}

/// `check_route_param(re)`: whether our Route's parameters match.
pub fn check_route_param(our_params: Option<&str>, re: &sercompat_compiler::ir::Regex) -> bool {
    our_params.is_some_and(|p| re.is_match(p))
}

/// `is_direction(dir)`: the `ftag` of our Route against the From tag.
/// Without an `ftag` (no Route of ours seen) the request counts as
/// downstream, as Kamailio 5.6 answers.
pub fn is_direction(our_params: Option<&str>, from_tag: Option<&str>, dir: Direction) -> bool {
    let ftag = our_params.and_then(|p| {
        p.split(';').find_map(|kv| {
            let mut it = kv.splitn(2, '=');
            let name = it.next()?.trim();
            name.eq_ignore_ascii_case("ftag")
                .then(|| it.next().unwrap_or("").trim().to_string())
        })
    });
    let actual = match ftag.filter(|t| !t.is_empty()) {
        None => Direction::Downstream,
        Some(t) if Some(t.as_str()) == from_tag => Direction::Downstream,
        Some(_) => Direction::Upstream,
    };
    actual == dir
}

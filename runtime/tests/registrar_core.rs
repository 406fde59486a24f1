//! Registrar and location table scenarios. Expected replies are the ones
//! Kamailio 5.6.3 (registrar + usrloc, default parameters unless a test
//! says otherwise) sent for the same REGISTERs on this machine, less its
//! Server header and with our To tag.

use sercompat::registrar::{
    LookupRequest, PathMode, RegisteredMatch, Registrar, RegistrarConfig, SaveContext, SaveFlags,
    SaveOutcome,
};
use sercompat::sip::{Method, SipMessage};
use sercompat::usrloc::{Usrloc, UsrlocConfig};
use std::sync::Arc;

const T0: u64 = 1_700_000_000;

fn registrar(config: RegistrarConfig) -> Registrar {
    registrar_with(config, UsrlocConfig::default())
}

fn registrar_with(config: RegistrarConfig, ul: UsrlocConfig) -> Registrar {
    Registrar::new(config, Arc::new(Usrloc::new(ul).unwrap())).unwrap()
}

/// A REGISTER for `user@example.com`; `headers` are whole lines
/// (Contact, Expires, Path, ...), each ending in `\r\n`.
fn register(user: &str, call_id: &str, cseq: u32, headers: &str) -> SipMessage {
    let text = format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{call_id}{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@example.com>;tag=abc\r\n\
         To: <sip:{user}@example.com>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         {headers}\
         Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse_datagram(text.into_bytes()).unwrap()
}

fn ctx(now: u64) -> SaveContext<'static> {
    SaveContext {
        now,
        ..SaveContext::default()
    }
}

fn save(r: &Registrar, msg: &SipMessage, now: u64) -> SaveOutcome {
    r.save(msg, "location", SaveFlags(0), None, &ctx(now))
}

/// The reply's bytes as text.
fn reply_text(outcome: &SaveOutcome, msg: &SipMessage) -> String {
    let bytes = outcome.reply.as_ref().unwrap().build(msg, "tag1").unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Status line and the registrar's own headers, one per line.
fn summary(outcome: &SaveOutcome) -> String {
    let reply = outcome.reply.as_ref().unwrap();
    let mut out = format!("{} {}", reply.status, reply.reason);
    for (name, value) in &reply.headers {
        out.push_str(&format!("\n{name}: {value}"));
    }
    out
}

fn lookup_at(
    r: &Registrar,
    uri: &str,
    method: &Method,
    now: u64,
) -> sercompat::registrar::LookupOutcome {
    r.lookup(
        "location",
        &LookupRequest {
            uri,
            parsed_uri: None,
            method,
            to_has_tag: false,
            now,
        },
    )
}

fn count(r: &Registrar) -> usize {
    r.usrloc().table("location").unwrap().count_contacts()
}

#[test]
fn register_refresh_and_unregister_with_the_exact_200_ok() {
    let r = registrar(RegistrarConfig::default());
    let msg = register(
        "alice",
        "c1",
        1,
        "Contact: <sip:alice@10.0.0.1:5060>;q=0.5, <sip:alice@10.0.0.2>\r\n\
         Contact: sip:alice@10.0.0.3;expires=120\r\n",
    );
    let out = save(&r, &msg, T0);
    assert_eq!(out.code, 1);
    assert!(out.send_reply);
    assert_eq!(
        reply_text(&out, &msg),
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc11\r\n\
         From: <sip:alice@example.com>;tag=abc\r\n\
         To: <sip:alice@example.com>;tag=tag1\r\n\
         Call-ID: c1\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:alice@10.0.0.1:5060>;q=0.5;expires=3600, <sip:alice@10.0.0.2>;expires=3600, <sip:alice@10.0.0.3>;expires=120\r\n\
         Content-Length: 0\r\n\r\n"
    );

    // Refresh ten seconds later: one contact, new q; the others age.
    let msg = register(
        "alice",
        "c1",
        2,
        "Contact: <sip:alice@10.0.0.1:5060>;q=1\r\n",
    );
    let out = save(&r, &msg, T0 + 10);
    assert_eq!(out.code, 2);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:alice@10.0.0.1:5060>;q=1;expires=3600, <sip:alice@10.0.0.2>;expires=3590, <sip:alice@10.0.0.3>;expires=110"
    );

    // Expires 0 on one contact removes it.
    let msg = register(
        "alice",
        "c1",
        3,
        "Contact: <sip:alice@10.0.0.2>;expires=0\r\n",
    );
    let out = save(&r, &msg, T0 + 20);
    assert_eq!(out.code, 3);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:alice@10.0.0.1:5060>;q=1;expires=3590, <sip:alice@10.0.0.3>;expires=100"
    );

    // Expires: 0 header with an unknown contact changes nothing.
    let msg = register(
        "alice",
        "c1",
        4,
        "Expires: 0\r\nContact: <sip:alice@10.0.0.7>\r\n",
    );
    assert_eq!(save(&r, &msg, T0 + 20).code, 1);
    assert_eq!(count(&r), 2);

    // No Contact: the bindings are listed (return code 4).
    let msg = register("alice", "c1", 5, "");
    let out = save(&r, &msg, T0 + 30);
    assert_eq!(out.code, 4);
    assert!(
        summary(&out).starts_with("200 OK\nContact: <sip:alice@10.0.0.1:5060>;q=1;expires=3580")
    );

    // `*` with Expires: 0 removes everything; the 200 OK lists nothing.
    let msg = register("alice", "c1", 6, "Expires: 0\r\nContact: *\r\n");
    let out = save(&r, &msg, T0 + 30);
    assert_eq!(out.code, 3);
    assert_eq!(summary(&out), "200 OK");
    assert_eq!(count(&r), 0);
    let none = RegisteredMatch::default();
    assert_eq!(
        r.registered("location", "sip:alice@example.com", &none, T0 + 30),
        -1
    );
}

#[test]
fn star_contact_rules() {
    let r = registrar(RegistrarConfig::default());
    let out = save(&r, &register("bob", "c2", 3, "Contact: *\r\n"), T0);
    assert_eq!(out.code, -1);
    assert_eq!(
        summary(&out),
        "400 Bad Request\nP-Registrar-Error: * used in contact and expires is not zero"
    );
    let out = save(
        &r,
        &register(
            "bob",
            "c2",
            4,
            "Expires: 0\r\nContact: *\r\nContact: <sip:bob@1.2.3.4>\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "400 Bad Request\nP-Registrar-Error: * used in contact and more than 1 contact"
    );
    let out = save(
        &r,
        &register(
            "bob",
            "c2",
            5,
            "Expires: 0\r\nContact: <sip:bob@1.2.3.4>\r\nContact: *\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "400 Bad Request\nP-Registrar-Error: * used in contact and more than 1 contact"
    );
    // `*` and an address in one header is not a Contact value at all
    // (Kamailio takes it for `*`; RFC 3261 §20.10 does not allow it).
    let out = save(
        &r,
        &register(
            "bob",
            "c2",
            6,
            "Expires: 0\r\nContact: *, <sip:bob@1.2.3.4>\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "400 Bad Request\nP-Registrar-Error: Contact parse error"
    );
    let out = save(
        &r,
        &register("bob", "c2", 7, "Expires: soon\r\nContact: <sip:b@1>\r\n"),
        T0,
    );
    assert_eq!(
        summary(&out),
        "400 Bad Request\nP-Registrar-Error: Expires parse error"
    );
    assert_eq!(count(&r), 0);
}

#[test]
fn expiry_follows_the_injected_clock() {
    let r = registrar(RegistrarConfig::default());
    let msg = register(
        "carl",
        "c1",
        1,
        "Contact: <sip:carl@10.0.0.1>;expires=120\r\n",
    );
    assert_eq!(save(&r, &msg, T0).code, 1);
    let invite = Method::Invite;
    assert_eq!(
        lookup_at(&r, "sip:carl@example.com", &invite, T0 + 119).code,
        1
    );
    let none = RegisteredMatch::default();
    assert_eq!(
        r.registered("location", "sip:carl@example.com", &none, T0 + 119),
        1
    );
    // Kamailio's VALID_CONTACT: expires > now.
    assert_eq!(
        lookup_at(&r, "sip:carl@example.com", &invite, T0 + 120).code,
        -1
    );
    assert_eq!(
        r.registered("location", "sip:carl@example.com", &none, T0 + 120),
        -1
    );
    let table = r.usrloc().table("location").unwrap();
    assert!(r.usrloc().expire(T0 + 119).unwrap().is_empty());
    let expired = r.usrloc().expire(T0 + 120).unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (expired[0].aor.as_str(), &*expired[0].contact.uri),
        ("carl", "sip:carl@10.0.0.1")
    );
    assert_eq!((table.count_records(), table.count_contacts()), (0, 0));
    // An expired binding is not listed in a later 200 OK either.
    let msg = register(
        "carl",
        "c1",
        2,
        "Contact: <sip:carl@10.0.0.2>;expires=60\r\n",
    );
    assert_eq!(save(&r, &msg, T0 + 200).code, 1);
    assert_eq!(
        summary(&save(&r, &register("carl", "c1", 3, ""), T0 + 261)),
        "200 OK"
    );
}

#[test]
fn min_and_max_expires() {
    let r = registrar(RegistrarConfig::default());
    let out = save(
        &r,
        &register(
            "bob",
            "c2",
            1,
            "Expires: 30\r\nContact: <sip:bob@10.0.0.1>;q=0.25\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:bob@10.0.0.1>;q=0.25;expires=60"
    );

    let strict = registrar(RegistrarConfig {
        min_expires_mode: true,
        ..RegistrarConfig::default()
    });
    let msg = register(
        "bob",
        "c2",
        1,
        "Expires: 30\r\nContact: <sip:bob@10.0.0.1>\r\n",
    );
    let out = save(&strict, &msg, T0);
    assert_eq!(out.code, -1);
    assert_eq!(
        reply_text(&out, &msg),
        "SIP/2.0 423 Interval Too Brief\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc21\r\n\
         From: <sip:bob@example.com>;tag=abc\r\n\
         To: <sip:bob@example.com>;tag=tag1\r\n\
         Call-ID: c2\r\n\
         CSeq: 1 REGISTER\r\n\
         Min-Expires: 60\r\n\
         P-Registrar-Error: Interval too brief\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(count(&strict), 0);
    // Expires 0 is never too brief.
    let out = save(
        &strict,
        &register(
            "bob",
            "c2",
            2,
            "Expires: 0\r\nContact: <sip:bob@10.0.0.1>\r\n",
        ),
        T0,
    );
    assert_eq!(out.reply.unwrap().status, 200);

    let capped = registrar(RegistrarConfig {
        max_expires: 1800,
        default_expires: 7200,
        ..RegistrarConfig::default()
    });
    let out = save(
        &capped,
        &register(
            "dan",
            "c3",
            1,
            "Contact: <sip:dan@1>, <sip:dan@2>;expires=90\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:dan@1>;expires=1800, <sip:dan@2>;expires=90"
    );
}

#[test]
fn max_contacts_answers_503_like_kamailio() {
    let r = registrar(RegistrarConfig {
        max_contacts: 2,
        ..RegistrarConfig::default()
    });
    // A new AoR with three contacts: nothing stored, nothing listed.
    let msg = register(
        "alice",
        "c1",
        1,
        "Contact: <sip:alice@10.0.0.1:5060>;q=0.5, <sip:alice@10.0.0.2>\r\n\
         Contact: sip:alice@10.0.0.3;expires=120\r\n",
    );
    let out = save(&r, &msg, T0);
    assert_eq!(out.code, -2);
    assert_eq!(
        reply_text(&out, &msg),
        "SIP/2.0 503 Service Unavailable\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc11\r\n\
         From: <sip:alice@example.com>;tag=abc\r\n\
         To: <sip:alice@example.com>;tag=tag1\r\n\
         Call-ID: c1\r\n\
         CSeq: 1 REGISTER\r\n\
         P-Registrar-Error: Too many registered contacts\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(count(&r), 0);
    // Two fit; a third from another phone does not, and the two are listed.
    let two = register(
        "alice",
        "c1",
        2,
        "Contact: <sip:alice@10.0.0.1>, <sip:alice@10.0.0.2>\r\n",
    );
    assert_eq!(save(&r, &two, T0).code, 1);
    let third = register("alice", "c9", 1, "Contact: <sip:alice@10.0.0.9>\r\n");
    let out = save(&r, &third, T0);
    assert_eq!(out.code, -2);
    assert_eq!(
        summary(&out),
        "503 Service Unavailable\nContact: <sip:alice@10.0.0.1>;expires=3600, <sip:alice@10.0.0.2>;expires=3600\nP-Registrar-Error: Too many registered contacts"
    );
    // Replacing one by another in one REGISTER stays within the limit.
    let swap = register(
        "alice",
        "c1",
        3,
        "Contact: <sip:alice@10.0.0.2>;expires=0, <sip:alice@10.0.0.9>\r\n",
    );
    assert_eq!(save(&r, &swap, T0).code, 1);
    assert_eq!(count(&r), 2);

    let with_retry = registrar(RegistrarConfig {
        max_contacts: 1,
        retry_after: 30,
        ..RegistrarConfig::default()
    });
    let out = save(&with_retry, &two, T0);
    assert_eq!(
        summary(&out),
        "503 Service Unavailable\nP-Registrar-Error: Too many registered contacts\nRetry-After: 30"
    );
}

#[test]
fn lookup_orders_by_q_and_appends_branches() {
    let r = registrar(RegistrarConfig::default());
    let msg = register(
        "eve",
        "c1",
        1,
        "Contact: <sip:eve@10.0.0.1>;q=0.5, <sip:eve@10.0.0.2>;q=1, <sip:eve@10.0.0.3>\r\n\
         Contact: <sip:eve@10.0.0.4>;q=0.5\r\n",
    );
    save(&r, &msg, T0);
    let out = lookup_at(&r, "sip:eve@example.com", &Method::Invite, T0 + 1);
    assert_eq!(out.code, 1);
    let ruri = out.request_uri.unwrap();
    assert_eq!((ruri.uri.as_str(), ruri.q), ("sip:eve@10.0.0.2", 1000));
    assert_eq!(ruri.dst_uri, None);
    let branches: Vec<(&str, i16)> = out.branches.iter().map(|b| (b.uri.as_str(), b.q)).collect();
    assert_eq!(
        branches,
        [
            ("sip:eve@10.0.0.1", 500),
            ("sip:eve@10.0.0.4", 500),
            ("sip:eve@10.0.0.3", -1)
        ]
    );
    // The AoR is the user part, case-insensitive (use_domain 0).
    assert_eq!(
        lookup_at(&r, "sip:EVE@elsewhere.org", &Method::Invite, T0).code,
        1
    );
    assert_eq!(
        lookup_at(&r, "sip:nobody@example.com", &Method::Invite, T0).code,
        -1
    );
    assert_eq!(
        lookup_at(&r, "http://example.com", &Method::Invite, T0).code,
        -3
    );

    let dset = r.lookup_to_dset(
        "location",
        &LookupRequest {
            uri: "sip:eve@example.com",
            parsed_uri: None,
            method: &Method::Invite,
            to_has_tag: false,
            now: T0,
        },
    );
    assert!(dset.request_uri.is_none());
    assert_eq!(dset.branches.len(), 4);
    assert_eq!(dset.branches[0].uri, "sip:eve@10.0.0.2");

    let single = registrar(RegistrarConfig {
        append_branches: false,
        ..RegistrarConfig::default()
    });
    save(&single, &msg, T0);
    let out = lookup_at(&single, "sip:eve@example.com", &Method::Invite, T0);
    assert_eq!(out.request_uri.unwrap().uri, "sip:eve@10.0.0.2");
    assert!(out.branches.is_empty());
}

#[test]
fn method_filtering_uses_allow_and_the_methods_parameter() {
    let r = registrar(RegistrarConfig {
        method_filtering: true,
        ..RegistrarConfig::default()
    });
    let msg = register(
        "fay",
        "c1",
        1,
        "Allow: INVITE, ACK, BYE\r\n\
         Contact: <sip:fay@10.0.0.1>;q=1, <sip:fay@10.0.0.2>;methods=\"MESSAGE\"\r\n",
    );
    save(&r, &msg, T0);
    let out = lookup_at(&r, "sip:fay@example.com", &Method::Message, T0);
    assert_eq!(out.code, 1);
    assert_eq!(out.request_uri.unwrap().uri, "sip:fay@10.0.0.2");
    let out = lookup_at(&r, "sip:fay@example.com", &Method::Invite, T0);
    assert_eq!(out.request_uri.unwrap().uri, "sip:fay@10.0.0.1");
    assert!(out.branches.is_empty());
    assert_eq!(
        lookup_at(&r, "sip:fay@example.com", &Method::Subscribe, T0).code,
        -2
    );
    // Within a dialog (To tag) the filter does not apply.
    let out = r.lookup(
        "location",
        &LookupRequest {
            uri: "sip:fay@example.com",
            parsed_uri: None,
            method: &Method::Subscribe,
            to_has_tag: true,
            now: T0,
        },
    );
    assert_eq!(out.code, 1);
}

#[test]
fn path_is_stored_echoed_and_routes_lookup() {
    let strict = registrar(RegistrarConfig {
        use_path: true,
        ..RegistrarConfig::default()
    });
    // No `Supported: path` in strict mode: Kamailio 5.6 stores the contact
    // and still answers 420.
    let msg = register(
        "dave",
        "c4",
        1,
        "Path: <sip:edge.example.com;lr>\r\nContact: <sip:dave@1.1.1.1>\r\n",
    );
    let out = save(&strict, &msg, T0);
    assert_eq!(out.code, 1);
    assert_eq!(
        reply_text(&out, &msg),
        "SIP/2.0 420 Bad Extension\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc41\r\n\
         From: <sip:dave@example.com>;tag=abc\r\n\
         To: <sip:dave@example.com>;tag=tag1\r\n\
         Call-ID: c4\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:dave@1.1.1.1>;expires=3600\r\n\
         Unsupported: path\r\n\
         Path: <sip:edge.example.com;lr>\r\n\
         P-Registrar-Error: No support for found Path indicated\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let msg = register(
        "dave",
        "c4",
        2,
        "Path: <sip:edge.example.com;lr>\r\nSupported: path\r\nContact: <sip:dave@1.1.1.1>\r\n",
    );
    let out = save(&strict, &msg, T0);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:dave@1.1.1.1>;expires=3600\nPath: <sip:edge.example.com;lr>"
    );
    let found = lookup_at(&strict, "sip:dave@example.com", &Method::Invite, T0);
    let ruri = found.request_uri.unwrap();
    assert_eq!(ruri.uri, "sip:dave@1.1.1.1");
    assert_eq!(ruri.dst_uri.as_deref(), Some("sip:edge.example.com;lr"));
    assert_eq!(ruri.path.as_deref(), Some("<sip:edge.example.com;lr>"));

    // path_mode 0 stores but never echoes; a first hop without lr is refused.
    let off = registrar(RegistrarConfig {
        use_path: true,
        path_mode: PathMode::Off,
        ..RegistrarConfig::default()
    });
    let out = save(
        &off,
        &register(
            "dave",
            "c4",
            1,
            "Path: <sip:p1;lr>\r\nPath: <sip:p2;lr>\r\nContact: <sip:dave@1.1.1.1>\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:dave@1.1.1.1>;expires=3600"
    );
    let stored = off.usrloc().table("location").unwrap().get("dave").unwrap();
    assert_eq!(
        stored.contacts()[0].path.as_deref(),
        Some("<sip:p1;lr>,<sip:p2;lr>")
    );
    let out = save(
        &off,
        &register(
            "gus",
            "c5",
            1,
            "Path: <sip:p1>\r\nContact: <sip:gus@1.1.1.1>\r\n",
        ),
        T0,
    );
    assert_eq!(
        summary(&out),
        "400 Bad Request\nP-Registrar-Error: Path parse error"
    );

    // use_path 0: Path is ignored.
    let plain = registrar(RegistrarConfig::default());
    save(
        &plain,
        &register(
            "dave",
            "c4",
            1,
            "Path: <sip:edge;lr>\r\nContact: <sip:dave@1.1.1.1>\r\n",
        ),
        T0,
    );
    let ruri = lookup_at(&plain, "sip:dave@x", &Method::Invite, T0)
        .request_uri
        .unwrap();
    assert_eq!((ruri.dst_uri, ruri.path), (None, None));
}

#[test]
fn received_from_contact_avp_and_path() {
    let r = registrar_with(
        RegistrarConfig {
            use_path: true,
            path_mode: PathMode::Lazy,
            path_use_received: true,
            ..RegistrarConfig::default()
        },
        UsrlocConfig {
            nat_bflag: Some(6),
            ..UsrlocConfig::default()
        },
    );
    let msg = register(
        "alice",
        "c9",
        5,
        "Expires: 100\r\nContact: <sip:alice@10.0.0.7>;q=0.7;expires=200;received=\"sip:9.9.9.9:5060\"\r\n",
    );
    let out = save(&r, &msg, T0);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:alice@10.0.0.7>;q=0.7;expires=200;received=\"sip:9.9.9.9:5060\""
    );
    let ruri = lookup_at(&r, "sip:alice@x", &Method::Invite, T0)
        .request_uri
        .unwrap();
    assert_eq!(ruri.dst_uri.as_deref(), Some("sip:9.9.9.9:5060"));

    let avp = SaveContext {
        now: T0,
        received_avp: Some("sip:203.0.113.5:40000"),
        branch_flags: 1 << 2,
        socket: Some("udp:192.0.2.1:5060".into()),
        ..SaveContext::default()
    };
    r.save(
        &register("bob", "c1", 1, "Contact: <sip:bob@10.1.1.1>\r\n"),
        "location",
        SaveFlags(0),
        None,
        &avp,
    );
    let ruri = lookup_at(&r, "sip:bob@x", &Method::Invite, T0)
        .request_uri
        .unwrap();
    assert_eq!(ruri.dst_uri.as_deref(), Some("sip:203.0.113.5:40000"));
    assert_eq!(ruri.branch_flags, 1 << 2);
    assert_eq!(ruri.socket.as_deref(), Some("udp:192.0.2.1:5060"));

    // The first Path hop's received becomes the contact's, with the NAT
    // flag; the request still goes to the Path hop.
    save(
        &r,
        &register(
            "cid",
            "c1",
            1,
            "Path: <sip:lb.example.com;lr;received=sip:198.51.100.7:5070>\r\nContact: <sip:cid@10.2.2.2>\r\n",
        ),
        T0,
    );
    let stored = r.usrloc().table("location").unwrap().get("cid").unwrap();
    assert_eq!(
        stored.contacts()[0].received.as_deref(),
        Some("sip:198.51.100.7:5070")
    );
    assert_eq!(stored.contacts()[0].cflags, 1 << 6);
    let ruri = lookup_at(&r, "sip:cid@x", &Method::Invite, T0)
        .request_uri
        .unwrap();
    assert_eq!(
        ruri.dst_uri.as_deref(),
        Some("sip:lb.example.com;lr;received=sip:198.51.100.7:5070")
    );
}

#[test]
fn instance_and_reg_id_replace_bindings() {
    let r = registrar(RegistrarConfig::default());
    let inst = "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
    let first = register(
        "carol",
        "c3",
        1,
        &format!("Contact: <sip:carol@1.1.1.1>;{inst};reg-id=1\r\n"),
    );
    let out = save(&r, &first, T0);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:carol@1.1.1.1>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1"
    );
    // Same instance and reg-id from a new address (and a new Call-ID): the
    // binding moves.
    let moved = register(
        "carol",
        "c3x",
        1,
        &format!("Contact: <sip:carol@2.2.2.2>;{inst};reg-id=1\r\n"),
    );
    assert_eq!(save(&r, &moved, T0 + 5).code, 2);
    // Another reg-id is another flow: a second binding.
    let flow2 = register(
        "carol",
        "c3x",
        2,
        &format!("Contact: <sip:carol@2.2.2.2>;{inst};reg-id=2\r\n"),
    );
    let out = save(&r, &flow2, T0 + 5);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:carol@2.2.2.2>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1, <sip:carol@2.2.2.2>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=2"
    );
    // The phone restarts (new Call-ID) and refreshes flow 1: the stale
    // flow 2 of the same instance goes.
    let restart = register(
        "carol",
        "c3y",
        1,
        &format!("Contact: <sip:carol@3.3.3.3>;{inst};reg-id=1\r\n"),
    );
    assert_eq!(save(&r, &restart, T0 + 9).code, 2);
    let left = r.usrloc().table("location").unwrap().get("carol").unwrap();
    assert_eq!(left.contacts().len(), 1);
    assert_eq!(&*left.contacts()[0].uri, "sip:carol@3.3.3.3");
    let bad = register(
        "carol",
        "c3y",
        2,
        &format!("Contact: <sip:carol@3.3.3.3>;{inst};reg-id=0\r\n"),
    );
    assert_eq!(
        summary(&save(&r, &bad, T0 + 9)),
        "400 Bad Request\nContact: <sip:carol@3.3.3.3>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1\nP-Registrar-Error: Invalid Reg-Id number"
    );
}

#[test]
fn call_id_and_cseq_ordering() {
    let r = registrar(RegistrarConfig::default());
    save(
        &r,
        &register(
            "alice",
            "c1",
            2,
            "Contact: <sip:alice@10.0.0.1:5060>;q=1\r\n",
        ),
        T0,
    );
    save(
        &r,
        &register("alice", "c9", 1, "Contact: <sip:alice@10.0.0.9>\r\n"),
        T0,
    );
    // The same REGISTER again within cseq_delay (20 s): a retransmission,
    // answered with the bindings and not applied.
    let again = register(
        "alice",
        "c1",
        2,
        "Contact: <sip:alice@10.0.0.1:5060>;q=0.1\r\n",
    );
    let out = save(&r, &again, T0 + 10);
    assert_eq!(out.code, 1);
    assert_eq!(
        summary(&out),
        "200 OK\nContact: <sip:alice@10.0.0.1:5060>;q=1;expires=3590, <sip:alice@10.0.0.9>;expires=3590"
    );
    // A lower CSeq on the same Call-ID: out of order.
    let old = register(
        "alice",
        "c1",
        1,
        "Contact: <sip:alice@10.0.0.1:5060>;q=1\r\n",
    );
    let out = save(&r, &old, T0 + 10);
    assert_eq!(out.code, -1);
    assert_eq!(
        summary(&out),
        "400 Bad Request\nContact: <sip:alice@10.0.0.1:5060>;q=1;expires=3590, <sip:alice@10.0.0.9>;expires=3590\nP-Registrar-Error: Invalid CSeq number"
    );
    // The same CSeq after cseq_delay is out of order too.
    assert_eq!(save(&r, &again, T0 + 20).reply.unwrap().status, 400);
    // A higher CSeq applies; another Call-ID for the same contact too.
    assert_eq!(
        save(
            &r,
            &register(
                "alice",
                "c1",
                3,
                "Contact: <sip:alice@10.0.0.1:5060>;q=0.2\r\n"
            ),
            T0 + 30
        )
        .code,
        2
    );
    assert_eq!(
        save(
            &r,
            &register("alice", "new", 1, "Contact: <sip:alice@10.0.0.1:5060>\r\n"),
            T0 + 31
        )
        .code,
        2
    );
}

#[test]
fn save_flags_no_reply_and_single_contact() {
    let r = registrar(RegistrarConfig::default());
    let msg = register("hal", "c1", 1, "Contact: <sip:hal@1>, <sip:hal@2>\r\n");
    let out = r.save(
        &msg,
        "location",
        SaveFlags(SaveFlags::NO_REPLY),
        None,
        &ctx(T0),
    );
    assert_eq!(out.code, 1);
    assert!(!out.send_reply);
    assert_eq!(out.reply.unwrap().status, 200);
    let single = register("hal", "c2", 1, "Contact: <sip:hal@3>\r\n");
    let out = r.save(
        &single,
        "location",
        SaveFlags(SaveFlags::SINGLE_CONTACT),
        None,
        &ctx(T0),
    );
    assert_eq!(summary(&out), "200 OK\nContact: <sip:hal@3>;expires=3600");
    let mem = r.usrloc().table("location").unwrap().get("hal").unwrap();
    assert_eq!(mem.contacts()[0].flags, 0);
    // The uri argument names the AoR instead of To; flag 0x01 marks memory only.
    let out = r.save(
        &single,
        "location",
        SaveFlags(SaveFlags::MEMORY_ONLY),
        Some("sip:other@example.com"),
        &ctx(T0),
    );
    assert_eq!(out.code, 1);
    let other = r.usrloc().table("location").unwrap().get("other").unwrap();
    assert_eq!(other.contacts()[0].flags, 1);
    // No To, no AoR: Kamailio returns -1 without a reply.
    let no_to = SipMessage::parse_datagram(
        &b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: 1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"[..],
    )
    .unwrap();
    let out = save(&r, &no_to, T0);
    assert_eq!((out.code, out.reply), (-1, None));
}

#[test]
fn unregister_and_registered_filters() {
    let r = registrar(RegistrarConfig::default());
    save(
        &r,
        &register(
            "ivy",
            "c1",
            1,
            "Contact: <sip:ivy@1>, <sip:ivy@2>;received=\"sip:5.5.5.5\"\r\n",
        ),
        T0,
    );
    let none = RegisteredMatch::default();
    assert_eq!(
        r.registered("location", "sip:ivy@example.com", &none, T0),
        1
    );
    let by_call_id = RegisteredMatch {
        call_id: Some("c2"),
        ..none
    };
    assert_eq!(
        r.registered("location", "sip:ivy@example.com", &by_call_id, T0),
        -1
    );
    let by_received = RegisteredMatch {
        received: Some("sip:5.5.5.5"),
        ..none
    };
    assert_eq!(
        r.registered("location", "sip:ivy@example.com", &by_received, T0),
        1
    );
    let by_contact = RegisteredMatch {
        contact: Some("sip:ivy@3"),
        ..none
    };
    assert_eq!(
        r.registered("location", "sip:ivy@example.com", &by_contact, T0),
        -1
    );

    let ruid = r
        .usrloc()
        .table("location")
        .unwrap()
        .get("ivy")
        .unwrap()
        .contacts()[0]
        .ruid
        .to_string();
    assert_eq!(
        r.unregister("location", "sip:ivy@example.com", Some(&ruid)),
        1
    );
    assert_eq!(
        r.unregister("location", "sip:ivy@example.com", Some(&ruid)),
        -3
    );
    assert_eq!(count(&r), 1);
    assert_eq!(r.unregister("location", "", Some(&ruid)), -2);
    assert_eq!(r.unregister("location", "mailto:x", None), -1);
    assert_eq!(r.unregister("location", "sip:ivy@example.com", None), 1);
    assert_eq!(count(&r), 0);
}

#[test]
fn concurrent_saves_from_many_threads() {
    let r = Arc::new(registrar(RegistrarConfig::default()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let r = r.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    let own = register(
                        &format!("u{t}-{i}"),
                        &format!("c{t}-{i}"),
                        1,
                        &format!("Contact: <sip:u@10.0.{t}.{}>\r\n", i % 250),
                    );
                    assert_eq!(save(&r, &own, T0).code, 1);
                    // Every thread also adds its own contact to one shared AoR.
                    let shared = register(
                        "shared",
                        &format!("s{t}"),
                        i + 1,
                        &format!("Contact: <sip:shared@10.9.{t}.{i}>\r\n"),
                    );
                    assert!(save(&r, &shared, T0).code > 0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let table = r.usrloc().table("location").unwrap();
    assert_eq!(table.count_records(), 8 * 500 + 1);
    assert_eq!(table.count_contacts(), 8 * 500 + 8 * 500);
    let out = lookup_at(&r, "sip:shared@x", &Method::Invite, T0);
    assert_eq!(1 + out.branches.len(), 8 * 500);
    for t in 0..8 {
        let out = lookup_at(&r, &format!("sip:u{t}-7@x"), &Method::Invite, T0);
        assert_eq!(out.request_uri.unwrap().uri, format!("sip:u@10.0.{t}.7"));
    }
    let ruids: std::collections::HashSet<String> = table
        .get("shared")
        .unwrap()
        .contacts()
        .iter()
        .map(|c| c.ruid.to_string())
        .collect();
    assert_eq!(ruids.len(), 8 * 500);
}

#[test]
fn gruus_are_offered_and_looked_up() {
    let r = registrar(RegistrarConfig::default());
    let inst = "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
    let msg = register(
        "gina",
        "g1",
        1,
        &format!(
            "Supported: gruu, path\r\nContact: <sip:gina@1.1.1.1>;{inst};reg-id=1, <sip:gina@2.2.2.2>;q=0.1\r\n"
        ),
    );
    let out = save(&r, &msg, T0);
    let contact = out
        .reply
        .as_ref()
        .unwrap()
        .header("Contact")
        .unwrap()
        .to_owned();
    // Kamailio 5.6.3 for the first contact (its ruid differs):
    // <sip:gina@1.1.1.1>;expires=3600;pub-gruu="sip:gina@example.com;gr=urn:uuid:00000000-0000-1000-8000-000A95A0E128";temp-gruu="sip:uloc-6b084862-7eaa-1-e21159b6@example.com;gr";+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1
    // q=0.1 sorts above an unspecified q (-1), as in Kamailio.
    let (second, first) = contact.split_once(", ").unwrap();
    assert!(first.starts_with(
        "<sip:gina@1.1.1.1>;expires=3600;pub-gruu=\"sip:gina@example.com;gr=urn:uuid:00000000-0000-1000-8000-000A95A0E128\";temp-gruu=\"sip:uloc-"
    ), "{first}");
    assert!(first.ends_with(
        "@example.com;gr\";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1"
    ), "{first}");
    assert_eq!(second, "<sip:gina@2.2.2.2>;q=0.1;expires=3600");
    let temp = first
        .split("temp-gruu=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_owned();

    // The public GRUU reaches that instance only, without branches.
    let out = lookup_at(
        &r,
        "sip:gina@example.com;gr=urn:uuid:00000000-0000-1000-8000-000A95A0E128",
        &Method::Invite,
        T0,
    );
    assert_eq!(out.code, 1);
    assert_eq!(out.request_uri.unwrap().uri, "sip:gina@1.1.1.1");
    assert!(out.branches.is_empty());
    // So does the temporary one.
    let out = lookup_at(&r, &temp, &Method::Invite, T0);
    assert_eq!(out.code, 1, "{temp}");
    assert_eq!(out.request_uri.unwrap().uri, "sip:gina@1.1.1.1");
    assert!(out.branches.is_empty());
    assert_eq!(lookup_at(&r, &temp, &Method::Invite, T0 + 3600).code, -1);
    assert_eq!(
        lookup_at(&r, "sip:uloc-999-1@example.com;gr", &Method::Invite, T0).code,
        -1
    );
    assert_eq!(
        lookup_at(&r, "sip:nohash@example.com;gr", &Method::Invite, T0).code,
        -3
    );

    // Without `Supported: gruu`, or with gruu_enabled 0, no GRUUs.
    let plain = register(
        "gina",
        "g1",
        2,
        &format!("Contact: <sip:gina@1.1.1.1>;{inst};reg-id=1\r\n"),
    );
    assert!(!summary(&save(&r, &plain, T0)).contains("gruu"));
    let off = registrar(RegistrarConfig {
        gruu_enabled: false,
        ..RegistrarConfig::default()
    });
    assert!(!summary(&save(&off, &msg, T0)).contains("gruu"));
}

/// A write-through database that is down.
struct DownDatabase;

impl sercompat::usrloc::LocationStore for DownDatabase {
    fn mode(&self) -> sercompat::usrloc::DbMode {
        sercompat::usrloc::DbMode::WriteThrough
    }
    fn load_all(
        &self,
        _: &str,
    ) -> Result<Vec<(String, sercompat::usrloc::Contact)>, sercompat::usrloc::UsrlocError> {
        Ok(Vec::new())
    }
    fn load_record(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Vec<sercompat::usrloc::Contact>, sercompat::usrloc::UsrlocError> {
        Ok(Vec::new())
    }
    fn apply(
        &self,
        _: &str,
        _: sercompat::usrloc::Change<'_>,
    ) -> Result<(), sercompat::usrloc::UsrlocError> {
        Err(sercompat::usrloc::UsrlocError::Store(
            "connection refused".into(),
        ))
    }
    fn flush(&self, _: &str) -> Result<(), sercompat::usrloc::UsrlocError> {
        Ok(())
    }
}

#[test]
fn a_failing_store_answers_500_and_keeps_nothing() {
    let config = UsrlocConfig {
        db_mode: sercompat::usrloc::DbMode::WriteThrough,
        ..UsrlocConfig::default()
    };
    let ul = Usrloc::with_store(config, Arc::new(DownDatabase)).unwrap();
    let r = Registrar::new(RegistrarConfig::default(), Arc::new(ul)).unwrap();
    let out = save(
        &r,
        &register("joe", "c1", 1, "Contact: <sip:joe@1>\r\n"),
        T0,
    );
    assert_eq!(out.code, -1);
    assert_eq!(
        summary(&out),
        "500 Server Internal Error\nP-Registrar-Error: usrloc_contact_insert failed"
    );
    assert_eq!(count(&r), 0);
}

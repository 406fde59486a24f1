//! The interpreter's values: transformations, script variables and
//! containers, message/socket/time pseudo-variables and SER selects, each
//! checked by exact xlog output; and the load-time refusal of what the
//! engine does not evaluate.

mod engine_support;

use engine_support::{program_in, FixedIds};
use sercompat::engine::{
    Engine, EngineConfig, FixedClock, MemoryLogger, Myself, Proto, RecvInfo, SharedVars,
    UNSUPPORTED,
};
use sercompat::sip::SipMessage;
use sercompat_grammar::Era;
use std::sync::Arc;
use std::time::Duration;

/// 2026-11-26 14:23:00.250000 UTC.
const NOW: Duration = Duration::from_micros(1_795_702_980_250_000);

fn config(logger: &Arc<MemoryLogger>, shared: &Arc<SharedVars>) -> EngineConfig {
    EngineConfig {
        myself: vec![Myself::new("127.0.0.1", Some(5060))],
        ids: Arc::new(FixedIds),
        logger: logger.clone(),
        clock: Arc::new(FixedClock(NOW)),
        shared_vars: shared.clone(),
        ..EngineConfig::default()
    }
}

fn engine_with(src: &str, era: Option<Era>) -> (Engine, Arc<MemoryLogger>) {
    let logger = Arc::new(MemoryLogger::new());
    let shared = Arc::new(SharedVars::new());
    let e = Engine::new(program_in(src, era), config(&logger, &shared))
        .unwrap_or_else(|e| panic!("{e}"));
    (e, logger)
}

/// A Kamailio config whose request route is `body` (xlog loaded).
fn kamailio(body: &str) -> (Engine, Arc<MemoryLogger>) {
    engine_with(
        &format!("#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route {{\n{body}\n}}\n"),
        None,
    )
}

fn recv() -> RecvInfo {
    RecvInfo {
        src: "192.0.2.10:5062".parse().unwrap(),
        dst: "127.0.0.1:5060".parse().unwrap(),
        proto: Proto::Udp,
    }
}

fn request(ruri: &str, extra: &str, body: &str) -> SipMessage {
    let text = format!(
        "INVITE {ruri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n\
         Via: SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKolder;received=10.0.0.9\r\n\
         Max-Forwards: 70\r\n\
         To: Bob <sip:bob@example.com>\r\n\
         From: \"Alice A\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710\r\n\
         CSeq: 314159 INVITE\r\n\
         {extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    SipMessage::parse_datagram(text.into_bytes()).unwrap()
}

fn invite() -> SipMessage {
    request("sip:bob@example.com", "", "")
}

/// The text of every logged line.
fn run(e: &mut Engine, log: &MemoryLogger, msg: &SipMessage) -> Vec<String> {
    e.on_request(msg, recv());
    log.take().into_iter().map(|(_, t)| t).collect()
}

/// Runs `body` once over the default INVITE; the logged lines.
fn lines_of(body: &str) -> Vec<String> {
    let (mut e, log) = kamailio(body);
    run(&mut e, &log, &invite())
}

/// The R0003 messages for a config.
fn refusals(src: &str, era: Option<Era>) -> Vec<String> {
    let logger = Arc::new(MemoryLogger::new());
    let shared = Arc::new(SharedVars::new());
    match Engine::new(program_in(src, era), config(&logger, &shared)) {
        Ok(_) => Vec::new(),
        Err(r) => r
            .diagnostics
            .into_iter()
            .filter(|d| d.code == UNSUPPORTED)
            .map(|d| d.message)
            .collect(),
    }
}

fn refused_kamailio(body: &str) -> Vec<String> {
    refusals(
        &format!("#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route {{\n{body}\n}}\n"),
        None,
    )
}

#[test]
fn string_transformations() {
    let got = lines_of(
        r#"
    $var(s) = "Hello, World";
    xlog("len=$(var(s){s.len}) lower=$(var(s){s.tolower}) upper=$(var(s){s.toupper})\n");
    xlog("substr=$(var(s){s.substr,7,5}) toend=$(var(s){s.substr,7,0}) tail=$(var(s){s.substr,-5,0}) mid=$(var(s){s.substr,-5,2}) long=$(var(s){s.substr,10,9})\n");
    $var(l) = "a,b,,d";
    xlog("sel0=$(var(l){s.select,0,,}) sel3=$(var(l){s.select,3,,}) selm1=$(var(l){s.select,-1,,}) sel9=[$(var(l){s.select,9,,})]\n");
    $var(w) = "one two\tthree";
    xlog("tab=$(var(w){s.select,1,\t})\n");
    xlog("int=$(var(n){s.int}) md5=$(var(s){s.md5})\n");
    xlog("sha256=$(var(s){s.sha256})\n");
    xlog("hex=$(var(s){s.encode.hexa}) back=$(var(s){s.encode.hexa}{s.decode.hexa})\n");
    $var(q) = "it's \"q\"";
    xlog("common=$(var(q){s.escape.common}) round=$(var(q){s.escape.common}{s.unescape.common})\n");
    $var(u) = "a b@c;d/e";
    xlog("user=$(var(u){s.escape.user}) param=$(var(u){s.escape.param}) un=$(var(u){s.escape.param}{s.unescape.param})\n");
    $var(p) = "+49 (30) 123-45";
    xlog("strip=$(var(p){s.strip,4}) tail=$(var(p){s.striptail,3}) all=[$(var(p){s.strip,40})] numeric=$(var(p){s.numeric})\n");
    $var(d) = "1234";
    xlog("prefixes=$(var(d){s.prefixes}) max2=$(var(d){s.prefixes,2}) quoted=$(var(d){s.prefixes.quoted,3})\n");
    xlog("replace=$(var(s){s.replace,o,0}) rm=$(var(s){s.rm,l}) count=$(var(s){s.count,l})\n");
    $var(t) = "  pad ";
    xlog("trim=[$(var(t){s.trim})] r=[$(var(t){s.rtrim})] l=[$(var(t){s.ltrim})] ws=[$(var(t){s.rmws})]\n");
    $var(k) = "key=val=x";
    xlog("before=$(var(k){s.before,=}) after=$(var(k){s.after,=}) rbefore=$(var(k){s.rbefore,=}) rafter=$(var(k){s.rafter,=}) none=[$(var(k){s.after,#})] stripto=$(var(k){s.stripto,=})\n");
    $var(b) = "<sip:x@y>";
    xlog("unbracket=$(var(b){s.unbracket}) unquote=$(var(q){s.unquote})\n");
    $var(e) = "Hi there/é?&=+~*";
    xlog("b64=$(var(e){s.encode.base64}) b64t=$(var(e){s.encode.base64t}) back=$(var(e){s.encode.base64t}{s.decode.base64t}) unpadded=[$(var(e){s.encode.base64t}{s.decode.base64})] bad=[$(var(e){s.decode.base64})]\n");
    xlog("url=$(var(e){s.urlencode.param}) back=$(var(e){s.urlencode.param}{s.urldecode.param})\n");
    $var(v) = "SGkgdGhlcmU=";
    xlog("s384=$(var(v){s.sha384})\n");
"#,
    );
    assert_eq!(
        got,
        [
            "len=12 lower=hello, world upper=HELLO, WORLD\n",
            "substr=World toend=World tail=World mid=Wo long=ld\n",
            "sel0=a sel3=d selm1=d sel9=[]\n",
            "tab=three\n",
            // $var(n) is unset, i.e. 0.
            "int=0 md5=82bb413746aee42f89dea2b59614f9ef\n",
            "sha256=03675ac53ff9cd1535ccc7dfcdfa2c458c5218371f418dc136f2d19ac1fbe8a5\n",
            "hex=48656c6c6f2c20576f726c64 back=Hello, World\n",
            "common=it\\'s \\\"q\\\" round=it's \"q\"\n",
            "user=a%20b%40c;d%2fe param=a%20b%40c%3bd/e un=a b@c;d/e\n",
            "strip=(30) 123-45 tail=+49 (30) 123 all=[] numeric=493012345\n",
            "prefixes=1,12,123,1234 max2=1,12 quoted='1','12','123'\n",
            "replace=Hell0, W0rld rm=Heo, Word count=3\n",
            "trim=[pad] r=[  pad] l=[pad ] ws=[pad]\n",
            "before=key after=val=x rbefore=key=val rafter=x none=[] stripto==val=x\n",
            "unbracket=sip:x@y unquote=it's \"q\"\n",
            // As Kamailio 5.6 prints them.
            "b64=SGkgdGhlcmUvw6k/Jj0rfio= b64t=SGkgdGhlcmUvw6k/Jj0rfio back=Hi there/é?&=+~* unpadded=[] bad=[]\n",
            "url=Hi%20there%2f%c3%a9%3f%26%3d%2b~%2a back=Hi there/é?&=+~*\n",
            "s384=a5dd17bd539424d9f1a0598f70a8475fc76f809c07945e442152cd473dcf6fbbaa6342be3cd5adfe2160d1ffa6ee5f5d\n",
        ]
    );
}

#[test]
fn failed_transformations_print_nothing_and_compare_as_null() {
    let got = lines_of(
        r#"
    $var(s) = "12abc";
    xlog("int=$(var(s){s.int}) ok=$(var(d){s.int}) out=$(var(s){s.substr,9,1}) neg=$(var(s){s.substr,0,-1})\n");
    xlog("null=[$(avp(none){s.len})] plain-null=$avp(none)\n");
    if ($(var(s){s.int}) == $null) { xlog("is null\n"); }
    $var(r) = 5;
    $var(r) = $(var(s){s.int});
    xlog("assigned=$var(r)\n");
    $var(h) = "zz";
    xlog("badhex=$(var(h){s.decode.hexa}) badesc=$(var(h){s.unescape.user})\n");
    $var(e) = "%4";
    xlog("badpct=$(var(e){s.unescape.user})\n");
"#,
    );
    assert_eq!(
        got,
        [
            "int= ok=0 out= neg=\n",
            "null=[] plain-null=<null>\n",
            "is null\n",
            "assigned=0\n",
            "badhex= badesc=zz\n",
            "badpct=\n",
        ]
    );
}

#[test]
fn transformation_chains_and_parameters_from_variables() {
    let got = lines_of(
        r#"
    $var(i) = 2;
    $var(n) = 3;
    $var(s) = "abcdefgh";
    xlog("$(var(s){s.substr,$var(i),$var(n)}) $(var(s){s.substr,1,0}{s.toupper}{s.len}) $(ru{uri.user}{s.toupper})\n");
    $var(len) = $(var(s){s.len}) + 1;
    if ($(var(s){s.substr,0,3}) == "abc") { xlog("cond $var(len)\n"); }
"#,
    );
    assert_eq!(got, ["cde 7 BOB\n", "cond 9\n"]);
}

#[test]
fn uri_transformations() {
    let got = lines_of(
        r#"
    $var(u) = "sips:alice:pw@host.example:5071;transport=TCP;ttl=5;user=phone;maddr=10.0.0.1;method=INVITE;lr;r2=on;x=y?subject=hi";
    xlog("user=$(var(u){uri.user}) host=$(var(u){uri.host}) passwd=$(var(u){uri.passwd}) port=$(var(u){uri.port}) scheme=$(var(u){uri.scheme})\n");
    xlog("params=$(var(u){uri.params})\n");
    xlog("param=$(var(u){uri.param,x}) transport=$(var(u){uri.transport}) ttl=$(var(u){uri.ttl}) uparam=$(var(u){uri.uparam}) maddr=$(var(u){uri.maddr}) method=$(var(u){uri.method}) lr=[$(var(u){uri.lr})] r2=$(var(u){uri.r2}) headers=$(var(u){uri.headers})\n");
    xlog("duri=$(var(u){uri.duri}) saor=$(var(u){uri.saor}) suri=$(var(u){uri.suri})\n");
    $var(p) = "sip:example.com";
    xlog("noport=[$(var(p){uri.port})] nouser=[$(var(p){uri.user})] absent=[$(var(p){uri.param,x})]\n");
    $var(bad) = "not a uri";
    xlog("bad=$(var(bad){uri.user}) ru=$(ru{uri.host})\n");
"#,
    );
    assert_eq!(
        got,
        [
            "user=alice host=host.example passwd=pw port=5071 scheme=sips\n",
            "params=transport=TCP;ttl=5;user=phone;maddr=10.0.0.1;method=INVITE;lr;r2=on;x=y\n",
            "param=y transport=TCP ttl=5 uparam=phone maddr=10.0.0.1 method=INVITE lr=[] r2=on headers=subject=hi\n",
            "duri=sips:host.example:5071;transport=TCP saor=sips:alice@host.example suri=sips:alice@host.example:5071;transport=TCP\n",
            "noport=[] nouser=[] absent=[]\n",
            "bad= ru=example.com\n",
        ]
    );
}

#[test]
fn param_transformations() {
    let got = lines_of(
        r#"
    $var(p) = "a=1;b=\"two\";flag;c=3";
    xlog("value=$(var(p){param.value,b}) case=$(var(p){param.value,A}) none=[$(var(p){param.value,z})] in=$(var(p){param.in,flag}) notin=$(var(p){param.in,z})\n");
    xlog("valueat=$(var(p){param.valueat,3}) last=$(var(p){param.valueat,-1}) name=$(var(p){param.name,2}) count=$(var(p){param.count})\n");
"#,
    );
    assert_eq!(
        got,
        [
            "value=two case=1 none=[] in=1 notin=0\n",
            "valueat=3 last=3 name=flag count=4\n",
        ]
    );
}

#[test]
fn nameaddr_tobody_and_line_transformations() {
    let got = lines_of(
        r#"
    $var(n) = "\"Bob B\" <sip:bob@example.com;lr>;tag=abc;x=1";
    xlog("name=$(var(n){nameaddr.name}) uri=$(var(n){nameaddr.uri}) len=$(var(n){nameaddr.len})\n");
    xlog("display=$(var(n){tobody.display}) uri=$(var(n){tobody.uri}) tag=$(var(n){tobody.tag}) user=$(var(n){tobody.user}) host=$(var(n){tobody.host}) params=$(var(n){tobody.params})\n");
    $var(a) = "sip:carol@c.example;tag=9";
    xlog("bare uri=$(var(a){tobody.uri}) tag=$(var(a){tobody.tag}) name=[$(var(a){nameaddr.name})]\n");
    xlog("from=$(hdr(From){tobody.display}) tag=$(hdr(From){tobody.tag})\n");
    $var(l) = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n";
    xlog("count=$(var(l){line.count}) at1=$(var(l){line.at,1}) last=$(var(l){line.at,-1}) sw=$(var(l){line.sw,s=}) none=[$(var(l){line.at,7})]\n");
"#,
    );
    assert_eq!(
        got,
        [
            "name=\"Bob B\"  uri=sip:bob@example.com;lr len=32\n",
            "display=\"Bob B\" uri=sip:bob@example.com;lr tag=abc user=bob host=example.com params=tag=abc;x=1\n",
            "bare uri=sip:carol@c.example tag=9 name=[]\n",
            "from=\"Alice A\" tag=1928301774\n",
            "count=3 at1=o=- 1 1 IN IP4 1.2.3.4 last=s=- sw=s=- none=[]\n",
        ]
    );
}

#[test]
fn unknown_transformations_are_refused_naming_them() {
    let got = refused_kamailio(r#"xlog("$(var(x){s.frobnicate})\n");"#);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("{s.frobnicate}"), "{got:?}");
    let got = refused_kamailio(r#"xlog("$(ru{sdp.line,1})\n");"#);
    assert!(got[0].contains("{sdp.line}"), "{got:?}");
    let got = refused_kamailio(r#"xlog("$(var(x){s.substr,1})\n");"#);
    assert!(
        got[0].contains("takes 2 to 2 parameter(s), not 1"),
        "{got:?}"
    );
    let got = refused_kamailio(r#"xlog("$(var(x){s.substr,$snd(ip),1})\n");"#);
    assert!(got[0].contains("$snd"), "{got:?}");
    // Kamailio 5.6 takes no `,` separator for param.*, only for s.select.
    let got = refused_kamailio(r#"xlog("$(var(x){param.value,y,,})\n");"#);
    assert!(got[0].contains("not 3"), "{got:?}");
    let got = refused_kamailio(r#"xlog("$(var(x){s.select,1,\s})\n");"#);
    assert!(got[0].contains("separator"), "{got:?}");
    let got = refused_kamailio(r#"xlog("$(var(x){val.n0})\n");"#);
    assert!(got[0].contains("{val.n0}"), "{got:?}");
    let got = refused_kamailio(r#"$(var(x){s.len}) = 1;"#);
    assert!(got[0].contains("with a transformation"), "{got:?}");
}

#[test]
fn shv_is_shared_between_engines_given_the_same_handle() {
    let src = "#!KAMAILIO\nloadmodule \"xlog.so\"\nrequest_route {\n    $shv(hits) = $shv(hits) + 1;\n    $var(mine) = $var(mine) + 1;\n    xlog(\"shv=$shv(hits) var=$var(mine) unset=$shv(other)\\n\");\n}\n";
    let prog = program_in(src, None);
    let shared = Arc::new(SharedVars::new());
    let (log1, log2, log3) = (
        Arc::new(MemoryLogger::new()),
        Arc::new(MemoryLogger::new()),
        Arc::new(MemoryLogger::new()),
    );
    let mut w1 = Engine::new(prog.clone(), config(&log1, &shared)).unwrap();
    let mut w2 = Engine::new(prog.clone(), config(&log2, &shared)).unwrap();
    let mut other = Engine::new(prog, config(&log3, &Arc::new(SharedVars::new()))).unwrap();
    assert_eq!(run(&mut w1, &log1, &invite()), ["shv=1 var=1 unset=0\n"]);
    assert_eq!(run(&mut w2, &log2, &invite()), ["shv=2 var=1 unset=0\n"]);
    assert_eq!(run(&mut w1, &log1, &invite()), ["shv=3 var=2 unset=0\n"]);
    assert_eq!(run(&mut other, &log3, &invite()), ["shv=1 var=1 unset=0\n"]);
    let fresh = EngineConfig::default();
    assert_eq!(shared.get("hits").as_int(), 3);
    assert_eq!(fresh.shared_vars.get("hits").as_int(), 0);
}

#[test]
fn avps_stack_index_and_delete() {
    let (mut e, log) = kamailio(
        r#"
    xlog("start=$avp(x)\n");
    $avp(x) = "a";
    $avp(s:x) = "b";
    $avp(x) = 3;
    xlog("top=$avp(x) all=$(avp(x)[*]) 1=$(avp(x)[1]) 2=$(avp(x)[2]) last=$(avp(x)[-1]) 3=$(avp(x)[3])\n");
    $(avp(x)[1]) = "B";
    xlog("indexed-add top=$avp(x) 1=$(avp(x)[1])\n");
    $(avp(x)[2]) = $null;
    xlog("indexed-delete top=$avp(x) 1=$(avp(x)[1])\n");
    $avp(i:1) = 10;
    $avp(i:1) = 20;
    xlog("int-named=$avp(i:1) older=$(avp(i:1)[1]) other=$avp(s:i:1)\n");
    $(avp(x)[*]) = $null;
    xlog("cleared=$avp(x) $(avp(x)[1])\n");
    $avp(y) = 1;
    $avp(y) = 2;
    $avp(y) := 9;
    xlog("replaced-all=$avp(y) older=$(avp(y)[1])\n");
    $var(i) = 0;
    $avp(z) = "z0";
    $avp(z) = "z1";
    while ($(avp(z)[$var(i)]) != $null) { xlog("z[$var(i)]=$(avp(z)[$var(i)])\n"); $var(i) = $var(i) + 1; }
"#,
    );
    let first = run(&mut e, &log, &invite());
    assert_eq!(
        first,
        [
            "start=<null>\n",
            "top=3 all=3, b, a 1=b 2=a last=a 3=<null>\n",
            "indexed-add top=B 1=3\n",
            "indexed-delete top=3 1=b\n",
            "int-named=20 older=10 other=<null>\n",
            "cleared=<null> <null>\n",
            "replaced-all=9 older=<null>\n",
            "z[0]=z1\n",
            "z[1]=z0\n",
        ]
    );
    // Per message: the next one starts empty.
    assert_eq!(run(&mut e, &log, &invite())[0], "start=<null>\n");
}

#[test]
fn xavps_items_fields_and_deletion() {
    let (mut e, log) = kamailio(
        r#"
    $xavp(sf=>uri) = "sip:10.10.10.10";
    $xavp(sf[0]=>fr_timer) = 10;
    $xavp(sf=>uri) = "sip:10.10.10.11";
    $xavp(sf[0]=>fr_timer) = 20;
    $xavp(sf[0]=>fr_timer) = 21;
    xlog("uri=$xavp(sf=>uri) t=$xavp(sf=>fr_timer) older-t=$xavp(sf[0]=>fr_timer[1]) first-uri=$xavp(sf[1]=>uri) first-t=$xavp(sf[1]=>fr_timer) none=$xavp(sf[2]=>uri) nofield=$xavp(sf=>x)\n");
    $xavp(sf[1]=>fr_timer) = $null;
    xlog("deleted=$xavp(sf[1]=>fr_timer) kept=$xavp(sf[1]=>uri)\n");
    $xavp(v) = "plain";
    $xavp(v) = "newer";
    xlog("v=$xavp(v) v1=$xavp(v[1])\n");
    $xavp(v) = $null;
    xlog("v-after-delete=$xavp(v)\n");
    $xavp(sf[*]) = $null;
    xlog("sf-gone=$xavp(sf=>uri)\n");
    if ($xavp(start=>x) == $null) { xlog("per message\n"); }
    $xavp(start=>x) = 1;
"#,
    );
    let got = run(&mut e, &log, &invite());
    assert_eq!(
        got,
        [
            "uri=sip:10.10.10.11 t=21 older-t=20 first-uri=sip:10.10.10.10 first-t=10 none=<null> nofield=<null>\n",
            "deleted=<null> kept=sip:10.10.10.10\n",
            "v=newer v1=plain\n",
            "v-after-delete=plain\n",
            "sf-gone=<null>\n",
            "per message\n",
        ]
    );
    assert_eq!(run(&mut e, &log, &invite())[5], "per message\n");
    let refused = refused_kamailio(r#"xlog("$xavp(a[$var(i)]=>b)\n");"#);
    assert!(
        refused[0].contains("constant `$xavp` indexes"),
        "{refused:?}"
    );
}

#[test]
fn ser_avps_with_classes_and_null() {
    // SER's xlog prints no AVPs; conditions and log() show the values.
    let (mut e, log) = engine_with(
        r#"route {
    $f.uid = "alice";
    $t.uid = "bob";
    $x = "plain";
    $x = "plain2";
    if ($f.uid == "alice" && $t.uid == "bob" && $x == "plain2" && $x[1] == "plain") { log(1, "set\n"); };
    if ($t.uid != "alice" && !$f.other) { log(1, "classes apart\n"); };
    $x = $null;
    $f.uid = $null;
    if ($x == "plain" && !$f.uid) { log(1, "deleted newest\n"); };
    if (%x == "plain") { log(1, "percent form\n"); };
    drop;
}
"#,
        Some(Era::Ser2),
    );
    assert_eq!(
        run(&mut e, &log, &invite()),
        [
            "set\n",
            "classes apart\n",
            "deleted newest\n",
            "percent form\n"
        ]
    );
    // Per message.
    let (mut e, log) = engine_with(
        "route {\n    if (!$x) { log(1, \"empty\\n\"); };\n    $x = 1;\n    drop;\n}\n",
        Some(Era::Ser2),
    );
    assert_eq!(run(&mut e, &log, &invite()), ["empty\n"]);
    assert_eq!(run(&mut e, &log, &invite()), ["empty\n"]);
}

#[test]
fn message_pseudo_variables() {
    let (mut e, log) = kamailio(
        r#"
    xlog("fn=$fn tn=$tn ct=$ct cl=$cl cT=$cT\n");
    xlog("ai=$ai pu=$pu pU=$pU pd=$pd pn=$pn di=$di re=$re rt=$rt\n");
    xlog("rz=$rz rs=$rs rr=$rr hdrc=$hdrc(Via) none=$hdrc(X-None) mt=$mt bs=$bs rb=$rb\n");
    xlog("af=$af(id) name=$af(name) su=$su sut=$sut Ru=$Ru Rut=$Rut true=$true\n");
    xlog("op=$op oP=$oP rP=$rP dd=$dd dp=$dp dP=$dP\n");
    setflag(3);
    xlog("mF=$mF hfl=$hfl(Via) hfl1=$(hfl(Via)[1]) hfl-1=$(hfl(Via)[-1]) hflc=$hflc(Via) ct=$hflc(Contact) ct1=$(hfl(Contact)[1]) other=$hflc(Content-Type)\n");
    $du = "sip:10.0.0.5:5090;transport=tcp";
    xlog("dd=$dd dp=$dp dP=$dP\n");
    if ($pp > 0) { xlog("pid\n"); }
"#,
    );
    let body = "v=0\r\n";
    let msg = request(
        "sips:bob@example.com;transport=tls",
        "Contact: <sip:alice@192.0.2.10:5062>;expires=60, \"B, b\" <sip:b@192.0.2.11>\r\n\
         Content-Type: application/sdp\r\n\
         P-Asserted-Identity: \"Alice\" <sip:+4930123@pai.example>\r\n\
         P-Preferred-Identity: \"Pref\" <sip:pref@ppi.example>, <tel:+1>\r\n\
         Diversion: <sip:div@d.example>;reason=unconditional\r\n\
         Remote-Party-ID: <sip:rpid@r.example>;party=calling\r\n\
         Refer-To: sip:carol@c.example\r\n",
        body,
    );
    assert_eq!(
        run(&mut e, &log, &msg),
        [
            "fn=\"Alice A\" tn=Bob ct=<sip:alice@192.0.2.10:5062>;expires=60, \"B, b\" <sip:b@192.0.2.11> cl=5 cT=application/sdp\n",
            "ai=sip:+4930123@pai.example pu=sip:pref@ppi.example pU=pref pd=ppi.example pn=\"Pref\" di=sip:div@d.example re=sip:rpid@r.example rt=sip:carol@c.example\n",
            "rz=sips rs=<null> rr=<null> hdrc=2 none=0 mt=1 bs=5 rb=v=0\r\n\n",
            "af=2 name=IPv4 su=sip:192.0.2.10:5062 sut=sip:192.0.2.10:5062;transport=udp Ru=sip:127.0.0.1:5060 Rut=sip:127.0.0.1:5060;transport=udp true=1\n",
            "op=5061 oP=tls rP=tls dd=<null> dp=<null> dP=<null>\n",
            "mF=00000008 hfl=SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport hfl1=SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKolder;received=10.0.0.9 hfl-1=SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKolder;received=10.0.0.9 hflc=2 ct=2 ct1=\"B, b\" <sip:b@192.0.2.11> other=1\n",
            "dd=10.0.0.5 dp=5090 dP=tcp\n",
            "pid\n",
        ]
    );
    // Absent headers are $null.
    let got = run(&mut e, &log, &invite());
    assert_eq!(got[0], "fn=\"Alice A\" tn=Bob ct=<null> cl=0 cT=<null>\n");
    assert_eq!(
        got[1],
        "ai=<null> pu=<null> pU=<null> pd=<null> pn=<null> di=<null> re=<null> rt=<null>\n"
    );
}

#[test]
fn time_pseudo_variables_read_the_injected_clock() {
    let got = lines_of(
        r#"
    xlog("Ts=$Ts TS=$TS Tf=$Tf TF=$TF\n");
    xlog("s=$TV(s) u=$TV(u) sn=$TV(sn) un=$TV(un) Sn=$TV(Sn)\n");
"#,
    );
    assert_eq!(
        got,
        [
            "Ts=1795702980 TS=1795702980 Tf=Thu Nov 26 14:23:00 2026 TF=Thu Nov 26 14:23:00 2026\n",
            "s=1795702980 u=250000 sn=1795702980 un=250000 Sn=1795702980.250000\n",
        ]
    );
    let refused = refused_kamailio(r#"xlog("$TV(x)\n");"#);
    assert!(refused[0].contains("$TV(x)"), "{refused:?}");
}

#[test]
fn selects() {
    let (mut e, log) = kamailio(
        r#"
    $var(a) = @from.uri; $var(b) = @from.uri.user; $var(c) = @from.uri.host; $var(d) = @from.tag; $var(e) = @from.name; $var(f) = @to.uri.user; $var(g) = @to.tag;
    xlog("from=$var(a) user=$var(b) host=$var(c) tag=$var(d) name=$var(e) to=$var(f) totag=$var(g)\n");
    $var(a) = @ruri; $var(b) = @ruri.user; $var(c) = @ruri.host; $var(d) = @ruri.port; $var(e) = @ruri.hostport; $var(f) = @via[0].host; $var(g) = @via[3].host;
    xlog("ruri=$var(a) user=$var(b) host=$var(c) port=$var(d) hostport=$var(e) via0=[$var(f)] via3=[$var(g)]\n");
    $var(a) = @via[1].branch; $var(b) = @via[2].host; $var(c) = @via[2].port; $var(d) = @via[-1].transport; $var(e) = @via[2].received; $var(f) = @via[2]; $var(g) = @via.branch;
    xlog("branch=$var(a) host=$var(b) port=$var(c) transport=$var(d) received=$var(e) via1=$var(f) top=$var(g)\n");
    $var(a) = @cseq; $var(b) = @cseq.method; $var(c) = @cseq.num; $var(d) = @call_id; $var(e) = @msg.header.user_agent; $var(f) = @msg.h.x_none; $var(g) = @user_agent;
    xlog("cseq=$var(a) method=$var(b) num=$var(c) callid=$var(d) ua=$var(e) none=[$var(f)] short=$var(g) src=$sel(src.ip_port) nosel=$sel(to.tag)\n");
    if (@ruri.user == "bob" && @from.tag == "1928301774") { xlog("cond\n"); }
"#,
    );
    let msg = request(
        "sip:bob@example.com:5080;user=phone",
        "User-Agent: phone/2\r\n",
        "",
    );
    assert_eq!(
        run(&mut e, &log, &msg),
        [
            "from=sip:alice@atlanta.example.com user=alice host=atlanta.example.com tag=1928301774 name=\"Alice A\" to=bob totag=\n",
            "ruri=sip:bob@example.com:5080;user=phone user=bob host=example.com port=5080 hostport=example.com:5080 via0=[] via3=[]\n",
            "branch=z9hG4bK776asdhds host=10.0.0.1 port=5070 transport=TCP received=10.0.0.9 via1=SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKolder;received=10.0.0.9 top=z9hG4bK776asdhds\n",
            "cseq=314159 INVITE method=INVITE num=314159 callid=a84b4c76e66710 ua=phone/2 none=[] short=phone/2 src=192.0.2.10:5062 nosel=<null>\n",
            "cond\n",
        ]
    );
}

#[test]
fn sel_and_cnt_pseudo_variables() {
    let got = lines_of(
        r#"
    $avp(x) = 1;
    $avp(x) = 2;
    $xavp(r=>a) = 1;
    $xavp(r[0]=>a) = 2;
    $xavp(r=>b) = 3;
    xlog("sel=$sel(from.uri.user) via=$sel(via[2].host) cnt=$cnt($avp(x)) none=$cnt($avp(y)) items=$cnt($xavp(r)) fields=$cnt($xavp(r[1]=>a))\n");
"#,
    );
    assert_eq!(
        got,
        ["sel=alice via=10.0.0.1 cnt=2 none=0 items=2 fields=2\n"]
    );
    let refused = refused_kamailio(r#"xlog("$cnt($ru) $sel(nope.x)\n");"#);
    assert!(
        refused.iter().any(|m| m.contains("`$cnt($ru)`")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|m| m.contains("select `@nope.x`")),
        "{refused:?}"
    );
}

#[test]
fn selects_in_a_ser_2_config() {
    let (mut e, log) = engine_with(
        r#"route {
    if (@from.uri.user == "alice" && @via[2].port == 5070 && @max_forwards == "70" && @to.tag == "") { log(1, "ser select\n"); };
    drop;
}
"#,
        Some(Era::Ser2),
    );
    assert_eq!(run(&mut e, &log, &invite()), ["ser select\n"]);
}

#[test]
fn unsupported_selects_and_pseudo_variables_are_refused() {
    let got = refusals(
        "loadmodule \"xlog.so\"\nroute {\n    if (@dst_uri.frob == \"x\") { drop; };\n}\n",
        Some(Era::Ser2),
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("select `@dst_uri.frob`"), "{got:?}");
    let got = refused_kamailio(r#"xlog("$bf $shv()\n");"#);
    assert!(got.iter().any(|m| m.contains("`$bf`")), "{got:?}");
    assert!(
        got.iter().any(|m| m.contains("`$shv` needs a name")),
        "{got:?}"
    );
    let got = refused_kamailio(r#"$ai = "x";"#);
    assert!(got[0].contains("cannot assign to `$ai`"), "{got:?}");
}

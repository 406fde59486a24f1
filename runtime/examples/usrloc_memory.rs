//! What 100,000 registered contacts cost: each from its own REGISTER
//! through `Registrar::save`, one contact per AoR, realistic Call-ID and
//! User-Agent. Live heap bytes are counted by a global allocator that
//! tracks allocations and frees; RSS from /proc/self/statm is printed
//! beside it.
//!
//! `cargo run --release -p sercompat --example usrloc_memory`

use sercompat::registrar::{Registrar, RegistrarConfig, SaveContext, SaveFlags};
use sercompat::sip::SipMessage;
use sercompat::usrloc::{Usrloc, UsrlocConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONTACTS: usize = 100_000;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn main() {
    let usrloc = Arc::new(Usrloc::new(UsrlocConfig::default()).expect("db_mode 0"));
    let registrar = Registrar::new(RegistrarConfig::default(), usrloc.clone()).expect("defaults");
    let table = usrloc.table("location").expect("table");
    let socket: Arc<str> = "udp:192.0.2.1:5060".into();
    let now = 1_700_000_000;

    let live_before = LIVE.load(Ordering::Relaxed);
    let rss_before = rss_bytes();
    let mut uri_bytes = 0usize;
    for i in 0..CONTACTS {
        let contact = format!(
            "sip:user{i}@198.51.{}.{}:5060;transport=udp",
            i / 250 % 250,
            i % 250
        );
        uri_bytes += contact.len();
        let text = format!(
            "REGISTER sip:example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK{i:08x}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:user{i}@example.com>;tag={i:x}\r\n\
             To: <sip:user{i}@example.com>\r\n\
             Call-ID: {i:016x}-5e2f3a1c@198.51.100.1\r\n\
             CSeq: 1 REGISTER\r\n\
             User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)\r\n\
             Contact: <{contact}>\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let msg = SipMessage::parse_datagram(text.into_bytes()).expect("REGISTER parses");
        let ctx = SaveContext {
            now,
            socket: Some(socket.clone()),
            ..SaveContext::default()
        };
        let out = registrar.save(&msg, "location", SaveFlags(0), None, &ctx);
        assert_eq!(out.code, 1, "contact {i}");
    }
    let live_after = LIVE.load(Ordering::Relaxed);
    let rss_after = rss_bytes();
    assert_eq!(table.count_contacts(), CONTACTS);

    let live = (live_after - live_before) as f64;
    let per_contact = live / CONTACTS as f64;
    let beyond_uri = (live - uri_bytes as f64) / CONTACTS as f64;
    println!("contacts:                 {CONTACTS}");
    println!("live heap growth:         {:.0} bytes", live);
    println!("per contact:              {per_contact:.1} bytes");
    println!(
        "per contact beyond URI:   {beyond_uri:.1} bytes (URIs average {:.1} bytes)",
        uri_bytes as f64 / CONTACTS as f64
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "RSS growth:               {} bytes, {:.1} per contact",
            b.saturating_sub(a),
            b.saturating_sub(a) as f64 / CONTACTS as f64
        );
    }
    let limit = 1024.0;
    println!(
        "target (<= {limit} bytes per contact beyond URI): {}",
        if beyond_uri <= limit {
            "met"
        } else {
            "NOT met"
        }
    );
    if beyond_uri > limit {
        std::process::exit(1);
    }
}

//! The `sercompat` binary.

mod cli;

/// mimalloc instead of glibc's malloc: a proxy allocates and frees a few
/// hundred small blocks per call (parsed headers, branch requests, timer
/// entries), and glibc's bins cost several times mimalloc's free lists for
/// that pattern (issue 6, `docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}

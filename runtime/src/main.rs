//! The `sercompat` binary.

mod cli;

/// mimalloc (see `sercompat::allocator`).
#[global_allocator]
static ALLOCATOR: sercompat::allocator::Mimalloc = sercompat::allocator::Mimalloc;

fn main() {
    std::process::exit(cli::main());
}

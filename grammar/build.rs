fn main() {
    lalrpop::process_root().expect("LALRPOP grammar failed to build");
}

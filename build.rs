//! Rebuilds the crate when a file under `web/` is added, changed or
//! removed: `src/web.rs` embeds that folder, and the embedding macro alone
//! notices changed files but not new ones.

fn main() {
    println!("cargo:rerun-if-changed=web");
}

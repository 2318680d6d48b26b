//! The committed header (bindings/c/include/aerostack.h; `make go` copies it into the Go module)
//! must be what cbindgen generates from the sources now.
//! To update it: `AEROSTACK_UPDATE_HEADER=1 cargo test -p aerostack-c --test header`.

use std::path::Path;

#[test]
fn the_committed_header_matches_the_generated_one() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/aerostack.h"))
        .expect("build.rs wrote the header");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("include/aerostack.h");
    if std::env::var_os("AEROSTACK_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the header cbindgen generates from bindings/c/src; update it with \
         AEROSTACK_UPDATE_HEADER=1 cargo test -p aerostack-c --test header, and commit it",
        path.display()
    );
}

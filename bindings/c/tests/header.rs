//! The committed header (bindings/c/include/aerostack.h, and the Go package's copy in
//! go/internal/lib/include/aerostack.h) must be what cbindgen generates from the sources now.
//! To update both: `AEROSTACK_UPDATE_HEADER=1 cargo test -p aerostack-c --test header`.

use std::path::Path;

#[test]
fn committed_headers_match_the_generated_one() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/aerostack.h")).expect("build.rs wrote the header");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copies = [root.join("include/aerostack.h"), root.join("../../go/internal/lib/include/aerostack.h")];
    let update = std::env::var_os("AEROSTACK_UPDATE_HEADER").is_some();
    for path in copies {
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
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
}

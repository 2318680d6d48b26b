//! The header is usable from plain C: compiles tests/c/call.c against include/aerostack.h and
//! the static library, and runs it (it starts the local platform in-process and makes calls).

use std::path::{Path, PathBuf};
use std::process::Command;

/// target/debug (or the profile dir) holding libaerostack_c.a: the test binary's grandparent.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

#[test]
fn a_c_program_calls_the_local_platform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = profile_dir().join("libaerostack_c.a");
    assert!(
        lib.exists(),
        "{} is missing: cargo builds it with this crate",
        lib.display()
    );
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aerostack-c-call");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&cc)
        .arg(root.join("tests/c/call.c"))
        .arg("-I")
        .arg(root.join("include"))
        .arg(&lib)
        .args(["-lm", "-ldl", "-lpthread", "-o"])
        .arg(&exe)
        .output()
        .expect("a C compiler (cc) runs");
    assert!(
        built.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = Command::new(&exe).output().expect("the C program runs");
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.success(),
        "the C program failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(
        stdout.contains("\"answer\":42") && stdout.ends_with("ok\n"),
        "{stdout}"
    );
}

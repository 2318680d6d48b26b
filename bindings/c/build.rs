//! Generates include/aerostack.h with cbindgen. The header is committed; tests/header.rs fails
//! when the committed copy (and the Go package's copy) drift from what this generates.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write_to_file(format!("{out}/aerostack.h"));
}

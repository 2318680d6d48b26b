//! The layering rule of BRIEF §3, checked over `cargo metadata`: a language binding crate
//! (everything under bindings/ but this one) depends on the binding surface alone, never on the
//! engine or the platform directly, so every capability it offers goes through the surface.

use std::process::Command;

use serde_json::Value;

const ENGINE_CRATES: &[&str] = &["aerostack-core", "aerostack-server"];

#[test]
fn binding_crates_depend_on_the_surface_alone() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let mut bindings = 0;
    for pkg in meta["packages"].as_array().expect("packages") {
        let manifest = pkg["manifest_path"].as_str().unwrap_or_default().replace('\\', "/");
        let name = pkg["name"].as_str().unwrap_or_default();
        if !manifest.contains("/bindings/") || name == "aerostack-bindings-common" {
            continue;
        }
        bindings += 1;
        let deps: Vec<&str> = pkg["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null()) // normal dependencies (dev and build ones may test freely)
            .filter_map(|d| d["name"].as_str())
            .collect();
        for engine in ENGINE_CRATES {
            assert!(!deps.contains(engine), "{name} depends on {engine}: reach it through aerostack-bindings-common");
        }
        assert!(deps.contains(&"aerostack-bindings-common"), "{name} must be written on aerostack-bindings-common");
    }
    assert!(bindings >= 1, "no binding crate found under bindings/");
}

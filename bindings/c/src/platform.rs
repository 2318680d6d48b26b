//! The local platform started in-process (tests, demos): its own threads, blocking calls.

use std::ffi::c_char;

use aerostack_bindings_common::LocalPlatformHandle;

use crate::{c_string, ffi, free, handle, json, put, text, write};

/// A running local platform.
pub struct AerostackPlatform {
    p: LocalPlatformHandle,
}

/// Starts a local platform (blocking until it listens); `options` JSON: `port` (0: a free one),
/// `data_dir`, `ephemeral`, `rate_limits`, `from_env`, ... (the surface's
/// `LocalPlatformHandle::start`).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_platform_start(
    options: *const u8,
    options_len: usize,
    out: *mut *mut AerostackPlatform,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || put(out, AerostackPlatform { p: LocalPlatformHandle::start(json("options", options, options_len)?)? }))
}

/// `{url, api_url, project_id, project_slug, api_key, data_dir}` as JSON (free the string).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_platform_info(platform: *const AerostackPlatform, out: *mut *mut c_char, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        let info = serde_json::to_string(handle("platform", platform)?.p.info()).unwrap_or_default();
        write(out, c_string(info))
    })
}

/// Creates a project named `name`: `{id, slug, name, api_key}` as JSON (blocking).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_platform_create_project(
    platform: *const AerostackPlatform,
    name: *const u8,
    name_len: usize,
    out: *mut *mut c_char,
    err: *mut *mut c_char,
) -> i32 {
    ffi(err, || {
        let p = handle("platform", platform)?;
        write(out, c_string(p.p.create_project(text("name", name, name_len)?)?.to_string()))
    })
}

/// Stops the platform (lets open requests finish, up to 5 s; blocking). Idempotent.
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_platform_shutdown(platform: *const AerostackPlatform, err: *mut *mut c_char) -> i32 {
    ffi(err, || {
        handle("platform", platform)?.p.shutdown();
        Ok(())
    })
}

/// Frees the platform (stopping it if it still runs).
#[unsafe(no_mangle)]
pub extern "C" fn aerostack_platform_free(platform: *mut AerostackPlatform) {
    free(platform);
}

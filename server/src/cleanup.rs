//! Start-up cleaning of what a killed platform leaves behind: half-written uploads in
//! `projects/*/storage/tmp` and `--ephemeral` data directories whose process is gone.
//!
//! An ephemeral directory holds [`OWNER_FILE`] with the pid of the process that made it; it is
//! removed only when that file names a process that no longer exists (a directory without it, or
//! of a live process, is left alone).

use std::path::Path;

/// Prefix of an ephemeral data directory in the system temp dir.
pub const EPHEMERAL_PREFIX: &str = "aerostack-local-";
/// File in an ephemeral data directory naming its owner process.
pub const OWNER_FILE: &str = "owner.pid";

/// Record this process as the owner of the ephemeral directory `dir`.
pub fn mark_owner(dir: &Path) {
    let _ = std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string());
}

/// Remove temporary upload files under `data_dir/projects/*/storage/tmp`: an upload that was
/// running when the process died (nothing else runs uploads on this data directory at start).
pub fn clean_upload_temp(data_dir: &Path) -> usize {
    let mut removed = 0;
    let Ok(projects) = std::fs::read_dir(data_dir.join("projects")) else {
        return 0;
    };
    for p in projects.flatten() {
        let tmp = p.path().join("storage").join("tmp");
        let Ok(files) = std::fs::read_dir(&tmp) else {
            continue;
        };
        for f in files.flatten() {
            let is_upload = f.file_name().to_string_lossy().starts_with("upload-");
            if is_upload && std::fs::remove_file(f.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// Remove ephemeral data directories in `temp_root` whose owner process is gone.
pub fn clean_abandoned_ephemeral(temp_root: &Path) -> usize {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(temp_root) else {
        return 0;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(EPHEMERAL_PREFIX) {
            continue;
        }
        let dir = e.path();
        let Some(pid) = std::fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        else {
            continue;
        };
        if process_gone(pid) && std::fs::remove_dir_all(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// True only when we can tell that no process `pid` exists (Linux: no `/proc/<pid>`).
fn process_gone(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return false; // no procfs: cannot tell, keep it
    }
    !proc_root.join(pid.to_string()).exists()
}

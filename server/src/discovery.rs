//! How the management commands (`aerostack-server outbox`, `projects`, `keys`, `secrets`) find a
//! running platform: a platform that prints its start banner announces itself in two small JSON
//! files, removed at shutdown:
//!
//! - `<runtime dir>/server-<port>.json`, where the runtime dir is per user:
//!   `$AEROSTACK_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/aerostack`, else
//!   `<temp dir>/aerostack-<user>` (see [`runtime_dir`]);
//! - `<data dir>/server.json`.
//!
//! Both hold an [`Announcement`]: URL, data directory, pid. No key: a reader that needs one reads
//! the data directory, which is only readable by the user running the server.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The port the platform listens on unless told otherwise (server index 1 of the official SDKs).
pub const DEFAULT_PORT: u16 = 8787;
/// The name of the announcement inside a data directory.
pub const DATA_DIR_FILE: &str = "server.json";

/// What a running platform says about itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Announcement {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    /// `url + "/v1"`.
    pub api_url: String,
    pub port: u16,
    /// Absolute.
    pub data_dir: PathBuf,
    /// True when the data directory is removed at shutdown.
    pub ephemeral: bool,
    /// The process serving it.
    pub pid: u32,
    pub version: String,
    /// Unix ms.
    pub started_at: i64,
}

/// The per-user directory of `server-<port>.json` files: `$AEROSTACK_RUNTIME_DIR` when set, else
/// `$XDG_RUNTIME_DIR/aerostack` when that directory exists, else `<temp dir>/aerostack-<user>`.
pub fn runtime_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("AEROSTACK_RUNTIME_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = var("XDG_RUNTIME_DIR").map(PathBuf::from)
        && xdg.is_dir()
    {
        return xdg.join("aerostack");
    }
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|n| var(n))
        .map(|u| u.to_string_lossy().replace(['/', '\\'], "_"))
        .unwrap_or_else(|| "user".to_string());
    std::env::temp_dir().join(format!("aerostack-{user}"))
}

/// `<runtime dir>/server-<port>.json`.
pub fn runtime_file(port: u16) -> PathBuf {
    runtime_dir().join(format!("server-{port}.json"))
}

/// Write `a` to its two places; the paths written (what [`withdraw`] removes). Failures are
/// logged and skipped: announcing is a convenience, never a reason not to serve.
pub fn announce(a: &Announcement) -> Vec<PathBuf> {
    let mut written = Vec::new();
    let dir = runtime_dir();
    match create_private_dir(&dir) {
        Ok(()) => {
            forget_dead(&dir);
            let path = runtime_file(a.port);
            match write_json(&path, a) {
                Ok(()) => written.push(path),
                Err(e) => tracing::warn!("could not write {}: {e}", path.display()),
            }
        }
        Err(e) => tracing::warn!("could not create {}: {e}", dir.display()),
    }
    let path = a.data_dir.join(DATA_DIR_FILE);
    match write_json(&path, a) {
        Ok(()) => written.push(path),
        Err(e) => tracing::warn!("could not write {}: {e}", path.display()),
    }
    written
}

/// Remove the files [`announce`] wrote, each only while it still announces `a` (another server
/// may have taken the port or the data directory since).
pub fn withdraw(a: &Announcement, paths: &[PathBuf]) {
    for path in paths {
        if read(path).is_some_and(|on_disk| on_disk.url == a.url && on_disk.pid == a.pid) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The announcement in `path`, if it parses.
pub fn read(path: &Path) -> Option<Announcement> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Every announcement in the runtime dir, alive or not, by port. Reads only: a missing directory
/// is no announcements.
pub fn announcements() -> Vec<Announcement> {
    let Ok(entries) = std::fs::read_dir(runtime_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<Announcement> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("server-") && name.ends_with(".json")
        })
        .filter_map(|e| read(&e.path()))
        .collect();
    out.sort_by_key(|a| a.port);
    out
}

/// True when the announcing process still lives and something accepts connections at its URL.
pub fn is_alive(a: &Announcement) -> bool {
    if process_is_gone(a.pid) {
        return false;
    }
    socket_addr(&a.url)
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok())
}

/// The address of an `http://host:port` URL (the first it resolves to).
pub fn socket_addr(url: &str) -> Option<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split('/').next()?;
    let with_port = if authority.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !h.ends_with(':') && p.bytes().all(|b| b.is_ascii_digit())
    }) {
        authority.to_string()
    } else if url.starts_with("https://") {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    };
    with_port.to_socket_addrs().ok()?.next()
}

/// Known dead: on Linux, no `/proc/<pid>`. Elsewhere nothing is known (the connection test decides).
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Drop announcements of processes that are gone (a server that was killed).
fn forget_dead(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        if let Some(a) = read(&e.path())
            && process_is_gone(a.pid)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Written to a temporary name then renamed, so a reader never sees half a file.
fn write_json(path: &Path, a: &Announcement) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(a).expect("JSON"))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_of_urls() {
        assert_eq!(
            socket_addr("http://127.0.0.1:8787").unwrap(),
            "127.0.0.1:8787".parse().unwrap()
        );
        assert_eq!(socket_addr("http://127.0.0.1:9/v1").unwrap().port(), 9);
        assert_eq!(socket_addr("http://[::1]:5").unwrap().port(), 5);
        assert!(socket_addr("ftp://x").is_none());
    }
}

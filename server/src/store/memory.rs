//! SQLite's memory bounds: the process-wide soft heap limit and each connection's page cache.
//!
//! User SQL cannot change either: `sql_guard` refuses `PRAGMA soft_heap_limit`,
//! `hard_heap_limit` and `cache_size` (and their `pragma_*` table-valued forms).

use parking_lot::Mutex;
use rusqlite::Connection;

/// Page cache of every connection, in KiB (`PRAGMA cache_size = -PAGE_CACHE_KIB`). Set, not left
/// to the build's default, so the bound is known: at most `pool::MAX_OPEN` connections per
/// database file, each with this much cache.
pub const PAGE_CACHE_KIB: i64 = 2048;

/// Bound a new connection's page cache.
pub fn bound_page_cache(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("PRAGMA cache_size = -{PAGE_CACHE_KIB}"))
}

/// Set SQLite's soft heap limit (`Limits::sqlite_soft_heap_bytes`; 0 leaves it as it is): past
/// it SQLite frees cached pages before it takes more memory. The limit is process-wide, and a
/// process may run several platforms (an SDK's tests): the lowest limit any of them asked for
/// applies.
pub fn apply_soft_heap_limit(bytes: u64) {
    static ORDER: Mutex<()> = Mutex::new(());
    if bytes == 0 {
        return;
    }
    let want = i64::try_from(bytes).unwrap_or(i64::MAX);
    let _one_at_a_time = ORDER.lock();
    // SAFETY: plain calls into SQLite, thread-safe; a negative argument only reads the limit.
    unsafe {
        let current = rusqlite::ffi::sqlite3_soft_heap_limit64(-1);
        if current <= 0 || want < current {
            rusqlite::ffi::sqlite3_soft_heap_limit64(want);
        }
    }
}

/// The soft heap limit in force (0: none).
pub fn soft_heap_limit() -> i64 {
    // SAFETY: a negative argument only reads the limit.
    unsafe { rusqlite::ffi::sqlite3_soft_heap_limit64(-1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_cache_is_bounded() {
        let conn = Connection::open_in_memory().unwrap();
        bound_page_cache(&conn).unwrap();
        let kib: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kib, -PAGE_CACHE_KIB);
    }
}

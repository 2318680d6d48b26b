//! A client's parsed request URLs. Parsing a URL (with the host's IDNA processing) cost about
//! 2 µs of every call's CPU in profiles, while a client reaches few distinct URLs: the `/v1`
//! operations and the few paths that carry an id. Bounded, so id-bearing paths cannot grow it.
//! Each keeps its `http::Uri` too, for the direct client (`direct.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use http::Uri;
use reqwest::Url;

/// Distinct URLs kept; past this, new ones are parsed every time.
const CAPACITY: usize = 256;

#[derive(Default)]
pub(crate) struct UrlCache {
    parsed: Mutex<HashMap<String, Target>>,
}

/// A parsed request URL; `uri` is `None` for the rare URL `http` will not take.
#[derive(Clone)]
pub(crate) struct Target {
    pub url: Url,
    pub uri: Option<Uri>,
}

impl UrlCache {
    /// `Url::parse(s)`, from the cache when `s` was parsed before.
    pub(crate) fn parse(&self, s: &str) -> Result<Target, url::ParseError> {
        if let Some(t) = self.lock().get(s) {
            return Ok(t.clone());
        }
        let url = Url::parse(s)?;
        let target = Target {
            uri: Uri::try_from(url.as_str()).ok(),
            url,
        };
        let mut parsed = self.lock();
        if parsed.len() < CAPACITY {
            parsed.insert(s.to_owned(), target.clone());
        }
        Ok(target)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Target>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.parsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_url_comes_back_and_the_cache_stays_bounded() {
        let cache = UrlCache::default();
        let a = cache.parse("http://127.0.0.1:8787/v1/db/query").unwrap();
        let b = cache.parse("http://127.0.0.1:8787/v1/db/query").unwrap();
        assert_eq!(a.url, b.url);
        assert_eq!(b.uri.unwrap(), "http://127.0.0.1:8787/v1/db/query");
        for i in 0..CAPACITY + 10 {
            let s = format!("http://127.0.0.1:8787/v1/collections/items/{i}");
            assert_eq!(cache.parse(&s).unwrap().url.as_str(), s);
        }
        assert_eq!(cache.lock().len(), CAPACITY);
        assert!(cache.parse("not a url").is_err());
    }
}

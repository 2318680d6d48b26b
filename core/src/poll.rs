//! Waiting for the platform to reach a state by asking it again, with backoff: what
//! `queue.wait` and `local.wait_served` share (the platform has no long-poll for either, so this
//! works against any platform generation).

use std::future::Future;
use std::time::Duration;

use crate::error::Result;

/// What one look found: the awaited value, or what is there instead (kept for the timeout
/// message).
pub(crate) enum Seen<T, S> {
    Done(T),
    Not(S),
}

/// Asks `look` until it answers `Done`, sleeping `first` (doubling up to `max`) between looks.
/// After `timeout` it gives back the last `Not` observation, for the caller's error. An error
/// from `look` ends the wait at once.
pub(crate) async fn until<T, S, F, Fut>(
    timeout: Duration,
    first: Duration,
    max: Duration,
    mut look: F,
) -> Result<std::result::Result<T, S>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Seen<T, S>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut every = first;
    loop {
        let seen = match look().await? {
            Seen::Done(v) => return Ok(Ok(v)),
            Seen::Not(s) => s,
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(Err(seen));
        }
        tokio::time::sleep(every.min(deadline - now)).await;
        every = (every * 2).min(max);
    }
}

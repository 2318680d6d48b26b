//! No engine panic leaves a call unanswered.
//!
//! A panic inside an engine future would otherwise end its task without an outcome: a blocked
//! host thread would wait forever, a promise would never settle (and keep Node's event loop
//! alive), a completion queue would never hear of the call. Every future the surface hands out
//! is wrapped in [`contained`], which turns a panic into an `INTERNAL_ERROR` outcome.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::Error;

/// `fut`, with a panic while polling it answered as an `INTERNAL_ERROR`.
pub fn contained<V, F>(fut: F) -> impl Future<Output = Result<V, Error>>
where
    F: Future<Output = Result<V, Error>>,
{
    // Boxed once here: an operation's state machine is several KB (the largest of every
    // operation's), and the wrappers and the runtime's task cell would otherwise each copy it.
    AssertUnwindSafe(Box::pin(fut)).catch_unwind().map(|r| r.unwrap_or_else(|p| Err(panicked(p))))
}

/// The error a caught panic becomes.
pub fn panicked(payload: Box<dyn Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    Error::new(
        aerostack::ErrorCode::InternalError,
        format!("the Aerostack engine failed inside this call ({what}); this is a bug: please report it with this message"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_internal_error_outcome() {
        let rt = crate::runtime().unwrap();
        let out: Result<(), Error> = rt.block_on(contained(async { panic!("boom") }));
        let e = out.unwrap_err();
        assert_eq!(e.code().as_str(), "INTERNAL_ERROR");
        assert!(e.message().contains("boom"), "{}", e.message());
        assert_eq!(rt.block_on(contained(async { Ok::<_, Error>(7) })).unwrap(), 7);
    }
}

//! The bounded pull queue lives in the engine (`aerostack::events`), which fills it; bindings
//! re-export it from here so they keep one import path.

pub use aerostack::events::{EventQueue, OverflowPolicy};

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn blocking_pull_from_a_host_thread() {
        let rt = crate::runtime().unwrap();
        let q = EventQueue::new(1, OverflowPolicy::Wait);
        let producer = q.clone();
        rt.spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            producer.push(7u32).await;
        });
        assert_eq!(q.next_blocking(&rt, Duration::from_secs(5)), Some(7));
    }
}

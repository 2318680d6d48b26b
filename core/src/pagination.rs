//! Cursor pagination as streams: [`Cache::list_all`], [`Storage::list_all`], [`Queue::jobs_all`]
//! follow `cursor` until `list_complete` / `truncated` says the listing is done.

use std::collections::VecDeque;
use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use crate::error::Result;
use crate::services::cache::CacheKeyInfo;
use crate::services::collections::{CollectionItem, CollectionQuery};
use crate::services::queue::{JobFilter, JobRecord};
use crate::services::storage::ObjectInfo;
use crate::services::{Cache, Queue, Storage};

/// A stream of items across pages; owns a client clone, so it may outlive the handle.
/// Dropping it stops paging.
pub type ItemStream<T> = BoxStream<'static, Result<T>>;

/// One fetched page: its items and the cursor of the next page (`None` when done).
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

struct State<F, T> {
    fetch: F,
    cursor: Option<String>,
    buffer: VecDeque<T>,
    done: bool,
}

/// Generic cursor follower. Stops after an error, on an empty cursor, or when the platform
/// returns the same cursor again (which would otherwise loop forever).
pub(crate) fn paginate<T, F, Fut>(fetch: F) -> ItemStream<T>
where
    T: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>>> + Send + 'static,
{
    let state = State {
        fetch,
        cursor: None,
        buffer: VecDeque::new(),
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.buffer.pop_front() {
                return Some((Ok(item), st));
            }
            if st.done {
                return None;
            }
            match (st.fetch)(st.cursor.clone()).await {
                Ok(page) => {
                    st.buffer.extend(page.items);
                    match page.next.filter(|c| !c.is_empty()) {
                        Some(next) if Some(&next) != st.cursor.as_ref() => st.cursor = Some(next),
                        _ => st.done = true,
                    }
                }
                Err(e) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}

/// Every item of collection `name` matching `query` (its `limit` is the page size), from its
/// `cursor` on.
pub(crate) fn collection_items(
    client: crate::Client,
    name: String,
    query: CollectionQuery,
) -> ItemStream<CollectionItem> {
    let start = query.cursor.clone();
    let mut first = true;
    paginate(move |cursor| {
        let client = client.clone();
        let name = name.clone();
        let mut q = query.clone();
        q.cursor = if first { start.clone() } else { cursor };
        first = false;
        async move {
            let p = client.db().collection(&name)?.list(&q).await?;
            Ok(Page {
                items: p.items,
                next: p.cursor,
            })
        }
    })
}

impl Cache<'_> {
    /// Every key under `prefix`, fetching pages of `page_size` (default 100) as needed.
    pub fn list_all(
        &self,
        prefix: Option<&str>,
        page_size: Option<u32>,
    ) -> ItemStream<CacheKeyInfo> {
        let client = self.client().clone();
        let prefix = prefix.map(str::to_owned);
        paginate(move |cursor| {
            let client = client.clone();
            let prefix = prefix.clone();
            async move {
                let p = client
                    .cache()
                    .list(prefix.as_deref(), page_size, cursor.as_deref())
                    .await?;
                Ok(Page {
                    items: p.keys,
                    next: if p.list_complete { None } else { p.cursor },
                })
            }
        })
    }
}

impl Storage<'_> {
    /// Every object under `prefix`, fetching pages of `page_size` (default 100) as needed.
    pub fn list_all(&self, prefix: Option<&str>, page_size: Option<u32>) -> ItemStream<ObjectInfo> {
        let client = self.client().clone();
        let prefix = prefix.map(str::to_owned);
        paginate(move |cursor| {
            let client = client.clone();
            let prefix = prefix.clone();
            async move {
                let p = client
                    .storage()
                    .list(prefix.as_deref(), page_size, cursor.as_deref())
                    .await?;
                Ok(Page {
                    items: p.objects,
                    next: if p.truncated { p.cursor } else { None },
                })
            }
        })
    }
}

impl Queue<'_> {
    /// Every job matching `filter` (its `cursor` is the starting point), page by page.
    pub fn jobs_all(&self, filter: JobFilter) -> ItemStream<JobRecord> {
        let client = self.client().clone();
        let start = filter.cursor.clone();
        let mut first = true;
        paginate(move |cursor| {
            let client = client.clone();
            let mut f = filter.clone();
            f.cursor = if first { start.clone() } else { cursor };
            first = false;
            async move {
                let p = client.queue().jobs(&f).await?;
                Ok(Page {
                    items: p.jobs,
                    next: if p.list_complete { None } else { p.cursor },
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorCode};

    #[tokio::test]
    async fn follows_cursors_until_done() {
        let s = paginate(|cursor: Option<String>| async move {
            Ok(match cursor.as_deref() {
                None => Page {
                    items: vec![1, 2],
                    next: Some("a".into()),
                },
                Some("a") => Page {
                    items: vec![3],
                    next: Some("b".into()),
                },
                Some("b") => Page {
                    items: vec![],
                    next: Some("c".into()),
                },
                _ => Page {
                    items: vec![4],
                    next: None,
                },
            })
        });
        let items: Vec<i32> = s.map(|r| r.unwrap()).collect().await;
        assert_eq!(items, vec![1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn stops_on_repeated_cursor_and_on_error() {
        let s = paginate(|_c: Option<String>| async move {
            Ok(Page {
                items: vec![1],
                next: Some("same".into()),
            })
        });
        let items: Vec<_> = s.collect().await;
        assert_eq!(
            items.len(),
            2,
            "first page, then the repeated cursor ends it"
        );

        let s = paginate(|c: Option<String>| async move {
            match c {
                None => Ok(Page {
                    items: vec![1],
                    next: Some("x".into()),
                }),
                Some(_) => Err(Error::new(ErrorCode::NetworkError, "boom")),
            }
        });
        let items: Vec<_> = s.collect().await;
        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
    }
}

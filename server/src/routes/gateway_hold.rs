//! The hold of one gateway chat call on its consumer's wallet (see `store::gateway::reserve`):
//! taken before the upstream call, ended once when the call ends: settled with the call's
//! tokens, or released without a debit when the call never got an answer. A hold dropped without
//! either (the client went away, a panic) is released in the background, so holds never leak.

use axum::http::StatusCode;

use super::gateway::Consumer;
use crate::error::{ApiError, code};
use crate::state::AppState;
use crate::store::gateway::{self as store, CREDIT_HELP};

pub(crate) struct Hold {
    st: AppState,
    id: String,
    consumer_id: String,
    api_id: String,
    ended: bool,
}

impl Hold {
    /// Hold about `need` tokens (at least 1) of `who`'s wallet, or 402 INSUFFICIENT_CREDITS when
    /// its balance, less what its calls in progress hold, cannot cover them.
    pub async fn reserve(st: &AppState, who: &Consumer, need: i64) -> Result<Hold, ApiError> {
        let cid = who.consumer.id.clone();
        let held = st
            .control(move |c| Ok(store::reserve(c, &cid, need)?))
            .await?;
        match held {
            Ok(id) => Ok(Hold {
                st: st.clone(),
                id,
                consumer_id: who.consumer.id.clone(),
                api_id: who.api.id.clone(),
                ended: false,
            }),
            Err((reason, wallet, held)) => Err(ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                code::INSUFFICIENT_CREDITS,
                format!("{reason}: {CREDIT_HELP}"),
            )
            .with_detail("consumer_id", who.consumer.id.clone())
            .with_detail("balance", wallet.balance)
            .with_detail("held", held)
            .with_detail(
                "suggestion",
                format!("aerostack-server gateway credit {} 10000", who.consumer.id),
            )),
        }
    }

    /// The call ended with `tokens` used: debit them, count one request, end the hold.
    pub async fn settle(mut self, tokens: i64) -> Result<(), ApiError> {
        self.end(Some(tokens)).await
    }

    /// The call got no answer (the upstream failed): end the hold, debit nothing.
    pub async fn release(mut self) {
        if let Err(e) = self.end(None).await {
            tracing::warn!(error = %e, "gateway: could not release a call's hold");
        }
    }

    /// [`settle`](Self::settle) without waiting (from a `Drop`).
    pub fn settle_later(mut self, tokens: i64) {
        self.end_later(Some(tokens));
    }

    /// The store's `settle` of this hold, as a future that owns what it needs (awaited here, or
    /// spawned from a `Drop`); the hold counts as ended from now on.
    fn ending(&mut self, tokens: Option<i64>) -> impl Future<Output = Result<(), ApiError>> + use<> {
        self.ended = true;
        let (st, id, cid, aid) = (
            self.st.clone(),
            self.id.clone(),
            self.consumer_id.clone(),
            self.api_id.clone(),
        );
        async move {
            st.control(move |c| Ok(store::settle(c, &id, &cid, &aid, tokens)?))
                .await
        }
    }

    async fn end(&mut self, tokens: Option<i64>) -> Result<(), ApiError> {
        self.ending(tokens).await
    }

    fn end_later(&mut self, tokens: Option<i64>) {
        let ending = self.ending(tokens);
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return; // no runtime (shut down): the next start clears the holds
        };
        rt.spawn(async move {
            if let Err(e) = ending.await {
                tracing::warn!(error = %e, "gateway: could not end a call's hold");
            }
        });
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if !self.ended {
            self.end_later(None);
        }
    }
}

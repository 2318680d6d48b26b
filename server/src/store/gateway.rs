//! The AI gateway's records in the control database: gateway APIs of a project, their consumers
//! (keys `ask_test_<32 hex>`, stored as a SHA-256 hash plus a short prefix, never the key), one
//! token wallet per consumer with the holds of its calls in progress, and usage per consumer, API
//! and UTC day.
//!
//! The functions answer `ApiError` so the routes pass them on as they are; the CLI turns them into
//! `ServerError` (`From<ApiError>`).

use axum::http::StatusCode;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::{ApiError, code};
use crate::util::{iso_ms, now_ms, random_hex, sha256_hex};

pub(crate) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS gateway_apis (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
    model TEXT, created_at INTEGER NOT NULL, UNIQUE (project_id, slug));
CREATE TABLE IF NOT EXISTS gateway_consumers (
    id TEXT PRIMARY KEY, api_id TEXT NOT NULL REFERENCES gateway_apis(id), name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE, key_prefix TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS gateway_consumers_api ON gateway_consumers(api_id, created_at);
CREATE TABLE IF NOT EXISTS gateway_wallets (
    consumer_id TEXT PRIMARY KEY, balance INTEGER NOT NULL DEFAULT 0,
    total_purchased INTEGER NOT NULL DEFAULT 0, total_consumed INTEGER NOT NULL DEFAULT 0,
    plan_type TEXT NOT NULL DEFAULT 'prepaid', hard_limit INTEGER, soft_limit INTEGER);
CREATE TABLE IF NOT EXISTS gateway_holds (
    id TEXT PRIMARY KEY, consumer_id TEXT NOT NULL, tokens INTEGER NOT NULL,
    created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS gateway_holds_consumer ON gateway_holds(consumer_id);
CREATE TABLE IF NOT EXISTS gateway_usage (
    consumer_id TEXT NOT NULL, api_id TEXT NOT NULL, day TEXT NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (consumer_id, api_id, day)) WITHOUT ROWID;
"#;

/// The rule for gateway API slugs (as for collection names).
pub const SLUG_RULE: &str = "1-64 characters of letters, digits, `_` and `-`";
/// Consumer keys minted locally (the hosted service also has `ask_live_`).
pub const KEY_PREFIX: &str = "ask_test_";
/// What the 402 tells a consumer's operator to run.
pub const CREDIT_HELP: &str = "add tokens with `aerostack-server gateway credit <consumer-id> <tokens>` (or POST /v1/local/gateway/credit)";

pub fn valid_slug(s: &str) -> bool {
    aerostack_protocol::names::is_name(s)
}

/// Does this bearer credential look like a consumer key (`ask_live_…` / `ask_test_…`)?
pub fn is_consumer_key(s: &str) -> bool {
    s.starts_with("ask_test_") || s.starts_with("ask_live_")
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ApiRec {
    pub id: String,
    #[serde(skip)]
    pub project_id: String,
    pub slug: String,
    pub name: String,
    pub model: Option<String>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRec {
    pub id: String,
    pub api_id: String,
    pub name: String,
    pub key_prefix: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Wallet {
    pub balance: i64,
    pub total_purchased: i64,
    pub total_consumed: i64,
    pub plan_type: String,
    pub hard_limit: Option<i64>,
    pub soft_limit: Option<i64>,
}

impl Wallet {
    /// Why a call needing about `need` tokens may not start now, with `held` tokens held by the
    /// consumer's calls in progress (balance spent, not enough left, or the hard limit reached).
    /// [`reserve`] applies it.
    pub fn refusal(&self, held: i64, need: i64) -> Option<String> {
        if self.balance <= 0 {
            return Some(format!(
                "this consumer's wallet is empty (balance {} tokens)",
                self.balance
            ));
        }
        if let Some(limit) = self.hard_limit
            && self.total_consumed + held + need > limit
        {
            return Some(format!(
                "this consumer reached its hard limit of {limit} tokens ({} consumed, {held} held by calls in progress, this call needs about {need})",
                self.total_consumed
            ));
        }
        if self.balance - held < need {
            return Some(format!(
                "this consumer's wallet cannot cover this call: balance {} tokens, {held} held by calls in progress, this call needs about {need} (its prompt)",
                self.balance
            ));
        }
        None
    }
}

/// One UTC day of usage.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DayUsage {
    pub date: String,
    pub tokens: i64,
    pub requests: i64,
}

fn row_api(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiRec> {
    Ok(ApiRec {
        id: r.get(0)?,
        project_id: r.get(1)?,
        slug: r.get(2)?,
        name: r.get(3)?,
        model: r.get(4)?,
        created_at: iso_ms(r.get(5)?),
    })
}

const API_COLS: &str = "id, project_id, slug, name, model, created_at";

/// `YYYY-MM-DD` (UTC) of a unix time in ms.
pub fn day_of(ms: i64) -> String {
    iso_ms(ms)[..10].to_string()
}

pub fn create_api(
    conn: &Connection,
    project_id: &str,
    slug: &str,
    name: Option<&str>,
    model: Option<&str>,
) -> Result<ApiRec, ApiError> {
    if !valid_slug(slug) {
        return Err(ApiError::validation(
            "slug",
            format!("invalid gateway API slug {slug:?}: use {SLUG_RULE}, e.g. \"chat-api\""),
        ));
    }
    if find_api(conn, project_id, slug)?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            code::CONFLICT,
            format!("a gateway API with slug {slug:?} already exists in this project: pick another `slug`, or list them with GET /v1/local/gateway/apis"),
        )
        .with_detail("field", "slug"));
    }
    let id = format!("gapi_{}", random_hex(8));
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(slug);
    let model = model.map(str::trim).filter(|m| !m.is_empty());
    conn.execute(
        "INSERT INTO gateway_apis (id, project_id, slug, name, model, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, project_id, slug, name, model, now_ms()],
    )?;
    Ok(find_api(conn, project_id, &id)?.expect("just inserted"))
}

/// A gateway API of the project by slug or id.
pub fn find_api(
    conn: &Connection,
    project_id: &str,
    slug_or_id: &str,
) -> rusqlite::Result<Option<ApiRec>> {
    conn.prepare_cached(&format!(
        "SELECT {API_COLS} FROM gateway_apis WHERE project_id = ?1 AND (slug = ?2 OR id = ?2)"
    ))?
    .query_row([project_id, slug_or_id], row_api)
    .optional()
}

pub fn api_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<ApiRec>> {
    conn.prepare_cached(&format!(
        "SELECT {API_COLS} FROM gateway_apis WHERE id = ?1"
    ))?
    .query_row([id], row_api)
    .optional()
}

pub fn list_apis(conn: &Connection, project_id: &str) -> rusqlite::Result<Vec<ApiRec>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {API_COLS} FROM gateway_apis WHERE project_id = ?1 ORDER BY created_at, rowid"
    ))?;
    let rows = stmt.query_map([project_id], row_api)?;
    rows.collect()
}

/// The API of the project named by `slug`, or 404 naming `field`.
pub fn require_api(
    conn: &Connection,
    project_id: &str,
    slug: &str,
    field: &str,
) -> Result<ApiRec, ApiError> {
    find_api(conn, project_id, slug)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "no gateway API {slug:?} in this project: create it with POST /v1/local/gateway/apis or `aerostack-server gateway create-api {slug}`"
        ))
        .with_detail("field", field)
    })
}

/// Create a consumer of `api` with a new key; `credits` tokens go into its wallet. Returns the
/// consumer, the key (shown only now) and the wallet.
pub fn create_consumer(
    conn: &Connection,
    api: &ApiRec,
    name: Option<&str>,
    credits: i64,
) -> Result<(ConsumerRec, String, Wallet), ApiError> {
    if credits < 0 {
        return Err(ApiError::validation(
            "credits",
            format!("`credits` must be a whole number of tokens >= 0, got {credits}"),
        ));
    }
    let key = format!("{KEY_PREFIX}{}", random_hex(16));
    let rec = ConsumerRec {
        id: format!("gcon_{}", random_hex(8)),
        api_id: api.id.clone(),
        name: name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("consumer")
            .to_string(),
        key_prefix: key[..KEY_PREFIX.len() + 6].to_string(),
    };
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO gateway_consumers (id, api_id, name, key_hash, key_prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![rec.id, rec.api_id, rec.name, sha256_hex(key.as_bytes()), rec.key_prefix, now_ms()],
    )?;
    tx.execute(
        "INSERT INTO gateway_wallets (consumer_id, balance, total_purchased) VALUES (?1, ?2, ?2)",
        params![rec.id, credits],
    )?;
    tx.commit()?;
    let wallet = wallet(conn, &rec.id)?;
    Ok((rec, key, wallet))
}

fn row_consumer(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsumerRec> {
    Ok(ConsumerRec {
        id: r.get(0)?,
        api_id: r.get(1)?,
        name: r.get(2)?,
        key_prefix: r.get(3)?,
    })
}

/// The consumer holding `key` and its API.
pub fn consumer_for_key(
    conn: &Connection,
    key: &str,
) -> rusqlite::Result<Option<(ConsumerRec, ApiRec)>> {
    let consumer = conn
        .prepare_cached(
            "SELECT id, api_id, name, key_prefix FROM gateway_consumers WHERE key_hash = ?1",
        )?
        .query_row([sha256_hex(key.as_bytes())], row_consumer)
        .optional()?;
    let Some(consumer) = consumer else {
        return Ok(None);
    };
    Ok(api_by_id(conn, &consumer.api_id)?.map(|api| (consumer, api)))
}

/// A consumer of one of the project's APIs, with its API.
pub fn find_consumer(
    conn: &Connection,
    project_id: &str,
    consumer_id: &str,
) -> rusqlite::Result<Option<(ConsumerRec, ApiRec)>> {
    let consumer = conn
        .prepare_cached("SELECT id, api_id, name, key_prefix FROM gateway_consumers WHERE id = ?1")?
        .query_row([consumer_id], row_consumer)
        .optional()?;
    let Some(consumer) = consumer else {
        return Ok(None);
    };
    Ok(api_by_id(conn, &consumer.api_id)?
        .filter(|a| a.project_id == project_id)
        .map(|api| (consumer, api)))
}

pub fn wallet(conn: &Connection, consumer_id: &str) -> rusqlite::Result<Wallet> {
    conn.prepare_cached(
        "SELECT balance, total_purchased, total_consumed, plan_type, hard_limit, soft_limit
         FROM gateway_wallets WHERE consumer_id = ?1",
    )?
    .query_row([consumer_id], |r| {
        Ok(Wallet {
            balance: r.get(0)?,
            total_purchased: r.get(1)?,
            total_consumed: r.get(2)?,
            plan_type: r.get(3)?,
            hard_limit: r.get(4)?,
            soft_limit: r.get(5)?,
        })
    })
}

/// Add purchased tokens to a consumer's wallet.
pub fn credit(conn: &Connection, consumer_id: &str, tokens: i64) -> Result<Wallet, ApiError> {
    if tokens <= 0 {
        return Err(ApiError::validation(
            "tokens",
            format!("`tokens` must be a whole number > 0, got {tokens}"),
        ));
    }
    conn.execute(
        "UPDATE gateway_wallets SET balance = balance + ?2, total_purchased = total_purchased + ?2
         WHERE consumer_id = ?1",
        params![consumer_id, tokens],
    )?;
    Ok(wallet(conn, consumer_id)?)
}

/// Debit `tokens` from the wallet and count them (and `requests`) as today's usage, in one
/// transaction.
pub fn record_usage(
    conn: &Connection,
    consumer_id: &str,
    api_id: &str,
    tokens: i64,
    requests: i64,
) -> rusqlite::Result<Wallet> {
    let tx = conn.unchecked_transaction()?;
    debit(&tx, consumer_id, api_id, tokens, requests)?;
    tx.commit()?;
    wallet(conn, consumer_id)
}

fn debit(
    conn: &Connection,
    consumer_id: &str,
    api_id: &str,
    tokens: i64,
    requests: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE gateway_wallets SET balance = balance - ?2, total_consumed = total_consumed + ?2
         WHERE consumer_id = ?1",
        params![consumer_id, tokens],
    )?;
    conn.execute(
        "INSERT INTO gateway_usage (consumer_id, api_id, day, tokens, requests) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (consumer_id, api_id, day) DO UPDATE SET tokens = tokens + excluded.tokens,
         requests = requests + excluded.requests",
        params![consumer_id, api_id, day_of(now_ms()), tokens, requests],
    )?;
    Ok(())
}

// ---- holds: the wallet check of a chat call is a reservation ----------------------------------
//
// Checking the balance and debiting after the upstream answered would let concurrent calls of
// one consumer all pass the check and overdraw by many calls. So a call first holds an estimate
// (its prompt's tokens, at least 1) against the balance minus what the consumer's calls in
// progress hold, in one transaction; the call's actual tokens are debited when it ends, in the
// transaction that drops its hold. The balance can then go below zero only by what calls in
// progress use beyond their holds (their completions).

/// How long a hold counts against the balance. A call ends its hold, but a request cancelled
/// just as its hold was taken would leave one behind: it stops counting after this (and every
/// hold is cleared at start). A call still running then is still debited when it ends.
pub const HOLD_TTL_MS: i64 = 10 * 60 * 1000;

/// Tokens held by the consumer's calls in progress.
pub fn held(conn: &Connection, consumer_id: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT coalesce(sum(tokens), 0) FROM gateway_holds WHERE consumer_id = ?1 AND created_at > ?2",
    )?
    .query_row(params![consumer_id, now_ms() - HOLD_TTL_MS], |r| r.get(0))
}

/// Hold `need` tokens (>= 1) of the consumer's wallet for a call: the hold's id, or why the
/// wallet cannot cover the call ([`Wallet::refusal`], with the balance and what is held). One
/// IMMEDIATE transaction: concurrent reservations of the control database take turns, so two
/// calls never both pass on the same balance.
pub fn reserve(
    conn: &Connection,
    consumer_id: &str,
    need: i64,
) -> rusqlite::Result<Result<String, (String, Wallet, i64)>> {
    let need = need.max(1);
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let (w, held) = (wallet(&tx, consumer_id)?, held(&tx, consumer_id)?);
    if let Some(reason) = w.refusal(held, need) {
        return Ok(Err((reason, w, held)));
    }
    let id = format!("ghold_{}", random_hex(8));
    tx.execute(
        "INSERT INTO gateway_holds (id, consumer_id, tokens, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, consumer_id, need, now_ms()],
    )?;
    tx.commit()?;
    Ok(Ok(id))
}

/// End a call's hold: with `Some(tokens)`, debit them and count one request, in the same
/// transaction; with `None` (the call never reached the upstream) only release it. A hold
/// already ended is left alone (nothing is debited twice).
pub fn settle(
    conn: &Connection,
    hold_id: &str,
    consumer_id: &str,
    api_id: &str,
    tokens: Option<i64>,
) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    let ended = tx.execute("DELETE FROM gateway_holds WHERE id = ?1", [hold_id])?;
    if let (1, Some(tokens)) = (ended, tokens) {
        debit(&tx, consumer_id, api_id, tokens.max(0), 1)?;
    }
    tx.commit()
}

/// Drop every hold (at start: no call of an earlier run is still in progress).
pub fn clear_holds(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM gateway_holds", [])
}

/// Usage of a consumer (optionally of one API) over the last `days` UTC days (today included),
/// only days with usage, oldest first.
pub fn usage(
    conn: &Connection,
    consumer_id: &str,
    api_id: Option<&str>,
    days: u32,
) -> rusqlite::Result<Vec<DayUsage>> {
    let since = day_of(now_ms() - i64::from(days.saturating_sub(1)) * 86_400_000);
    let mut stmt = conn.prepare_cached(
        "SELECT day, sum(tokens), sum(requests) FROM gateway_usage
         WHERE consumer_id = ?1 AND (?2 IS NULL OR api_id = ?2) AND day >= ?3
         GROUP BY day ORDER BY day",
    )?;
    let rows = stmt.query_map(params![consumer_id, api_id, since], |r| {
        Ok(DayUsage {
            date: r.get(0)?,
            tokens: r.get(1)?,
            requests: r.get(2)?,
        })
    })?;
    rows.collect()
}

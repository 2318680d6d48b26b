//! `GET /api/realtime`: the WebSocket. Credentials come from the subprotocol list
//! (`aerostack-key.<key>`, `aerostack-token.<jwt>`) or the query (`apiKey`, `token`); the
//! connection then serves the frames of docs/realtime.md until the client leaves, goes silent
//! for [`IDLE_TIMEOUT`], or the platform shuts down.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::filter::RowFilter;
use super::frames::{self, ClientFrame, EventFrame};
use super::hub::{OUTGOING_CAPACITY, Subscription};
use super::topics::normalize;
use crate::error::{ApiError, code};
use crate::state::AppState;
use crate::store::control::ProjectRec;
use crate::util::{new_uuid, now_ms};

/// A connection that sends nothing (not even `ping`) for this long is closed. Clients ping every
/// 25-30 s, so only dead peers reach it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Largest frame accepted from a client.
pub const MAX_FRAME_BYTES: usize = 1 << 20;
pub const PROTOCOL: &str = "aerostack-v1";
/// The event name of a legacy `chat` frame's message (`on("message")`, and in history).
pub const CHAT_EVENT: &str = "message";

const CREDENTIALS_HELP: &str = "send the project API key as the WebSocket subprotocol `aerostack-key.<key>` (with `aerostack-v1`), or an end-user access token as `aerostack-token.<jwt>`; the query parameters `apiKey` and `token` are accepted too";

/// Who a connection acts as.
#[derive(Clone)]
struct Identity {
    project: Arc<ProjectRec>,
    user_id: Option<String>,
    /// Authenticated by the project's API key (never restricted by access rules).
    keyed: bool,
}

fn percent_decode(s: &str) -> String {
    url_decode(s).unwrap_or_else(|| s.to_string())
}

fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Resolve a user access token: valid signature, not revoked, project still there.
async fn user_from_token(
    st: &AppState,
    token: &str,
) -> Result<(Arc<ProjectRec>, String), ApiError> {
    let claims = st.jwt.verify(token)?;
    crate::auth::still_valid(st, &claims).await?;
    let project = st.project_by_ref(&claims.pid).await?.ok_or_else(|| {
        ApiError::unauthorized(
            code::AUTH_TOKEN_INVALID,
            "the token's project no longer exists",
        )
    })?;
    Ok((project, claims.sub))
}

async fn identify(
    st: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Result<Identity, ApiError> {
    let offered: Vec<String> = crate::extract::ws_protocols(headers);
    let from_proto = |prefix: &str| {
        offered
            .iter()
            .find_map(|p| p.strip_prefix(prefix))
            .map(percent_decode)
    };
    let nonempty = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let key = from_proto("aerostack-key.").or_else(|| nonempty("apiKey"));
    let token = from_proto("aerostack-token.").or_else(|| nonempty("token"));
    let identity = match (key, token) {
        (Some(key), token) => {
            let mut h = HeaderMap::new();
            let v = HeaderValue::from_str(&key).map_err(|_| {
                ApiError::unauthorized(
                    code::AUTH_INVALID_KEY,
                    format!("the API key has invalid characters: {CREDENTIALS_HELP}"),
                )
            })?;
            h.insert("x-aerostack-key", v);
            let project = st.project_from_headers(&h).await?;
            let user_id = match token {
                Some(t) => {
                    let (p, sub) = user_from_token(st, &t).await?;
                    if p.id != project.id {
                        return Err(ApiError::new(
                            StatusCode::FORBIDDEN,
                            code::FORBIDDEN,
                            "the access token belongs to another project than the API key",
                        ));
                    }
                    Some(sub)
                }
                // A key holder is trusted to say which user it acts for (server SDKs).
                None => nonempty("userId"),
            };
            Identity { project, user_id, keyed: true }
        }
        (None, Some(token)) => {
            let (project, sub) = user_from_token(st, &token).await?;
            Identity {
                project,
                user_id: Some(sub),
                keyed: false,
            }
        }
        (None, None) => {
            return Err(ApiError::unauthorized(
                code::AUTH_INVALID_KEY,
                format!("Missing credentials: {CREDENTIALS_HELP}"),
            ));
        }
    };
    if let Some(pid) = nonempty("projectId")
        && pid != identity.project.id
        && pid != identity.project.slug
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            format!("projectId {pid:?} is not the project of these credentials ({}); a connection can only use its own project", identity.project.id),
        )
        .with_detail("field", "projectId"));
    }
    Ok(identity)
}

pub async fn handler(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let q: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let ws = ws.map_err(|e| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            code::VALIDATION_ERROR,
            format!("/api/realtime is a WebSocket endpoint: connect with a WebSocket client (ws://host/api/realtime) ({e})"),
        )
    })?;
    let identity = identify(&st, &headers, &q).await?;
    // Bounded per project and per end user (an end user's token alone may open sockets).
    let (project_open, user_open) = st
        .realtime
        .connections_of(&identity.project.id, identity.user_id.as_deref());
    let limits = &st.limits;
    let refusal = if project_open >= limits.realtime_connections_per_project {
        Some(format!(
            "this project has {project_open} realtime connections open, its limit (realtime_connections_per_project): close unused ones, or start the platform with a higher limit"
        ))
    } else if identity.user_id.is_some() && user_open >= limits.realtime_connections_per_user {
        Some(format!(
            "this user has {user_open} realtime connections open, the limit per user (realtime_connections_per_user): share one connection between channels"
        ))
    } else {
        None
    };
    if let Some(message) = refusal {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMIT_EXCEEDED, message)
            .with_header("retry-after", 5)
            .with_detail("retry_after_ms", 5000));
    }
    // Select `aerostack-v1` when offered; otherwise echo the first offered protocol, because a
    // browser fails the handshake when it offered protocols and none was selected.
    let offered = crate::extract::ws_protocols(&headers);
    let mut selectable = vec![PROTOCOL.to_string()];
    selectable.extend(offered.first().cloned());
    Ok(ws
        .protocols(selectable)
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| run(st, socket, identity))
        .into_response())
}

struct Session {
    st: AppState,
    id: String,
    identity: Identity,
    /// The project's access rules as last read, and when: an end user's publish, track or
    /// subscribe reads the control database at most once per [`RULES_FRESH`], not per frame.
    rules: std::sync::Mutex<Option<(tokio::time::Instant, Arc<Vec<crate::store::rules::Rule>>)>>,
}

/// How long a socket reuses the access rules it read (a rule change reaches open sockets
/// within this time).
const RULES_FRESH: Duration = Duration::from_secs(2);

async fn run(st: AppState, mut ws: WebSocket, identity: Identity) {
    let (tx, mut rx) = mpsc::channel::<Arc<str>>(OUTGOING_CAPACITY);
    let reg = st
        .realtime
        .register(&identity.project.id, identity.user_id.clone(), tx);
    let mut s = Session {
        st: st.clone(),
        id: reg.id.clone(),
        identity,
        rules: std::sync::Mutex::new(None),
    };
    let hello = frames::connected(
        &s.id,
        &s.identity.project.id,
        s.identity.user_id.as_deref(),
        now_ms(),
    );
    let mut open = ws.send(Message::Text(hello.into())).await.is_ok();
    // Measured from the last frame *received*: frames we send say nothing about the peer.
    let mut idle_at = tokio::time::Instant::now() + IDLE_TIMEOUT;
    while open {
        tokio::select! {
            _ = reg.kick.cancelled() => {
                // 1012 "service restart" on shutdown, 1013 "try again later" for a too-slow reader:
                // both tell clients to reconnect.
                let (code, reason) = if st.realtime.is_shut_down() { (1012, "platform shutting down") } else { (1013, "too slow: outgoing queue full") };
                let _ = ws.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                break;
            }
            Some(text) = rx.recv() => {
                open = ws.send(Message::Text(text.as_ref().into())).await.is_ok();
            }
            _ = tokio::time::sleep_until(idle_at) => {
                let _ = ws.send(Message::Close(Some(CloseFrame { code: 1001, reason: "idle: no frame for 75 s".into() }))).await;
                break;
            }
            msg = ws.recv() => {
                idle_at = tokio::time::Instant::now() + IDLE_TIMEOUT;
                match msg {
                    Some(Ok(Message::Text(text))) => {
                        for reply in s.handle(text.as_str()).await {
                            if ws.send(Message::Text(reply.into())).await.is_err() {
                                open = false;
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let e = frames::error(code::VALIDATION_ERROR, "binary frames are not supported: send JSON text frames", None, None);
                        open = ws.send(Message::Text(e.into())).await.is_ok();
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) => {
                        // The WebSocket layer queued the echo of the client's close frame (its
                        // code, e.g. 1000); flushing sends it, so the client sees a clean close
                        // instead of 1006.
                        let _ = ws.flush().await;
                        break;
                    }
                    Some(Err(e)) => {
                        // A frame over the limit: say so with the standard close code (1009
                        // "message too big") rather than dropping the connection silently.
                        let text = e.to_string();
                        if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                            let reason = format!("frames are limited to {} KiB", MAX_FRAME_BYTES / 1024);
                            let _ = ws.send(Message::Close(Some(CloseFrame { code: 1009, reason: reason.into() }))).await;
                        }
                        break;
                    }
                    None => break,
                }
            }
        }
    }
    st.realtime.unregister(&reg.id);
}

impl Session {
    fn topic(&self, topic: &str, id: Option<&Value>) -> Result<String, String> {
        let p = &self.identity.project;
        normalize(topic, &p.id, &p.slug)
            .map_err(|e| frames::error(e.code(), e.message(), Some(topic), id))
    }

    /// Why a subscription to `topic` is refused when it is the change feed of a table the
    /// project's database does not have (docs/realtime.md §5): the message names the table and,
    /// when one differs only in case, suggests it. `None` for other topics and existing tables.
    async fn missing_table(&self, topic: &str) -> Option<String> {
        let table = super::topics::table_of(topic, &self.identity.project.id)?.to_string();
        let t = table.clone();
        let name = table.clone();
        let found = self
            .st
            .project_db(&self.identity.project.id, move |db| {
                let mut stmt = db.conn.prepare_cached(
                    "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                let all: Vec<(String, String)> = rows.collect::<Result<_, _>>()?;
                // A collection's topic is `table/{name}` too (what the official clients subscribe to).
                let collection = crate::store::collections::exists(&db.conn, &name)?;
                Ok((all, collection))
            })
            .await;
        let objects = match found {
            Ok((_, true)) => return None,
            Ok((o, false)) => o,
            Err(e) => {
                // Not knowing is no reason to refuse: subscribe as before.
                tracing::warn!(table = %t, "could not list the project's tables: {}", e.message);
                return None;
            }
        };
        let tables: Vec<&str> = objects
            .iter()
            .filter(|(_, ty)| ty == "table")
            .map(|(n, _)| n.as_str())
            .collect();
        if tables.contains(&table.as_str()) {
            return None;
        }
        if objects.iter().any(|(n, ty)| n == &table && ty == "view") {
            return Some(format!(
                "{table:?} is a view: row changes are published for tables only; subscribe to the tables it reads"
            ));
        }
        if let Some(near) = tables.iter().find(|n| n.eq_ignore_ascii_case(&table)) {
            return Some(format!(
                "table {table:?} does not exist in this project; did you mean {near:?}? (table names in topics are case-sensitive)"
            ));
        }
        let known = match tables.len() {
            0 => "the project has no tables yet".to_string(),
            n if n <= 10 => format!("its tables: {}", tables.join(", ")),
            n => format!("its tables: {}, ... ({n} in all)", tables[..10].join(", ")),
        };
        Some(format!(
            "table {table:?} does not exist in this project ({known}): create it (or, for a collection, its first item) before subscribing to its changes, or use a topic with a path (e.g. \"{table}/room\") for messages only"
        ))
    }

    /// The subscription's row filter: parsed, allowed on table topics only, naming columns the
    /// table has. The error is the message of an `error` frame.
    /// An end user's (token-only) access to `topic` under the project's access rules: refused
    /// (the error message), or allowed with the owner filter of a table rule. Key holders and
    /// projects without rules: no restriction.
    async fn access(&self, topic: &str) -> Result<Option<RowFilter>, String> {
        use crate::store::rules::{self, Access};
        if self.identity.keyed {
            return Ok(None);
        }
        let cached = self
            .rules
            .lock()
            .unwrap()
            .as_ref()
            .filter(|(at, _)| at.elapsed() < RULES_FRESH)
            .map(|(_, l)| l.clone());
        let list = match cached {
            Some(l) => l,
            None => {
                let pid = self.identity.project.id.clone();
                let found = self.st.control(move |c| Ok(rules::list(c, &pid)?)).await;
                let l = match found {
                    Ok(l) => Arc::new(l),
                    Err(e) => return Err(format!("could not read the project's access rules: {}", e.message)),
                };
                *self.rules.lock().unwrap() = Some((tokio::time::Instant::now(), l.clone()));
                l
            }
        };
        let table = super::topics::table_of(topic, &self.identity.project.id);
        let suffix = format!("/{}", self.identity.project.id);
        let name = topic.strip_suffix(&suffix).unwrap_or(topic);
        match rules::access(&list, table, name) {
            Access::Open => Ok(None),
            Access::Allowed { owner_column: None } => Ok(None),
            Access::Allowed { owner_column: Some(col) } => {
                let user = self.identity.user_id.clone().unwrap_or_default();
                RowFilter::parse(&json!({ col: user }))
            }
            Access::Denied => Err(match table {
                Some(t) => format!(
                    "end users may not read table {t:?}: this project's access rules do not list it (aerostack-server rules allow-table {t} --owner-column <user id column>)"
                ),
                None => format!(
                    "end users may not use topic {name:?}: this project's access rules do not list it (aerostack-server rules allow-topic '{name}')"
                ),
            }),
        }
    }

    async fn row_filter(&self, topic: &str, filter: &Value) -> Result<Option<RowFilter>, String> {
        let Some(f) = RowFilter::parse(filter)? else {
            return Ok(None);
        };
        let Some(table) = super::topics::table_of(topic, &self.identity.project.id) else {
            return Err(format!(
                "`filter` applies to the row changes of a table topic (e.g. \"todos\"); {topic:?} is a message room: drop the filter, or filter the messages in the client"
            ));
        };
        let t = table.to_string();
        let columns = self
            .st
            .project_db(&self.identity.project.id, move |db| {
                let mut stmt = db.conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
                let rows = stmt.query_map([&t], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .await;
        match columns {
            Ok(cols) => {
                if let Some(unknown) = f.columns().find(|c| !cols.iter().any(|k| k == c)) {
                    return Err(format!(
                        "the filter names column {unknown:?}, which table {table:?} does not have (its columns: {})",
                        cols.join(", ")
                    ));
                }
            }
            // Not knowing the columns is no reason to refuse: the filter still applies.
            Err(e) => tracing::warn!(table, "could not list the table's columns: {}", e.message),
        }
        Ok(Some(f))
    }

    /// The legacy `chat` frame (`sendChat(roomId, text, metadata?)` of the official clients): a
    /// persisted `message` event on `chat/{roomId}`, delivered to every subscriber of the room,
    /// the sender included (it gets no other confirmation). Nothing is answered unless refused.
    async fn chat(&self, room_id: &str, text: String, metadata: Value) -> Vec<String> {
        let room = room_id.trim().trim_matches('/');
        if room.is_empty() {
            return vec![frames::error(
                code::VALIDATION_ERROR,
                "`roomId` is required: {\"type\":\"chat\",\"roomId\":\"general\",\"text\":\"hi\"} posts to the topic chat/general",
                None,
                None,
            )];
        }
        let topic = match self.topic(&format!("chat/{room}"), None) {
            Ok(t) => t,
            Err(e) => return vec![e],
        };
        if let Err(m) = self.access(&topic).await {
            return vec![frames::error(code::FORBIDDEN, &m, Some(&topic), None)];
        }
        let mut data = json!({ "text": text });
        if !metadata.is_null() {
            data["metadata"] = metadata;
        }
        let user = self.identity.user_id.clone();
        let publication = Publication {
            topic: &topic,
            event: CHAT_EVENT,
            data,
            user_id: user.as_deref(),
            persist: true,
            client_id: None,
            except: None,
        };
        match publish(&self.st, &self.identity.project.id, publication).await {
            Ok(_) => Vec::new(),
            Err(e) => vec![frames::error(e.code, &e.message, Some(&topic), None)],
        }
    }

    /// Answer one client frame: the frames to send back to this connection.
    async fn handle(&mut self, text: &str) -> Vec<String> {
        let frame = match frames::parse(text) {
            Ok(f) => f,
            Err(m) => return vec![frames::error(code::VALIDATION_ERROR, &m, None, None)],
        };
        let hub = &self.st.realtime;
        match frame {
            ClientFrame::Subscribe {
                topic: requested,
                filter,
                presence,
            } => match self.topic(&requested, None) {
                Err(e) => vec![e],
                Ok(topic) => {
                    let alias = super::topics::alias_for(&requested, &topic);
                    let named = alias.as_deref().unwrap_or(&topic).to_string();
                    let max = self.st.limits.realtime_topics_per_connection;
                    if hub.over_topic_limit(&self.id, &topic, max) {
                        let m = format!(
                            "this connection already listens to {max} topics, the limit (realtime_topics_per_connection): unsubscribe from one first, or open another connection"
                        );
                        return vec![frames::error(code::RATE_LIMIT_EXCEEDED, &m, Some(&named), None)];
                    }
                    if let Some(refusal) = self.missing_table(&topic).await {
                        return vec![frames::error(code::NOT_FOUND, &refusal, Some(&named), None)];
                    }
                    let owner = match self.access(&topic).await {
                        Ok(f) => f,
                        Err(m) => return vec![frames::error(code::FORBIDDEN, &m, Some(&named), None)],
                    };
                    let filter = match self.row_filter(&topic, &filter).await {
                        Ok(f) => match (f, owner) {
                            (Some(f), Some(o)) => Some(f.and(o)),
                            (f, o) => f.or(o),
                        },
                        Err(m) => {
                            return vec![frames::error(
                                code::VALIDATION_ERROR,
                                &m,
                                Some(&named),
                                None,
                            )];
                        }
                    };
                    let sub = Subscription {
                        alias,
                        filter: filter.map(Arc::new),
                        presence,
                    };
                    let sync = hub.subscribe(&self.id, &topic, sub);
                    let ts = now_ms();
                    let mut out = vec![frames::subscribed(&topic, &requested, ts)];
                    if let Some(presences) = sync {
                        out.push(frames::presence(&named, "presence:sync", presences, ts));
                    }
                    out
                }
            },
            ClientFrame::Chat {
                room_id,
                text,
                metadata,
            } => self.chat(&room_id, text, metadata).await,
            ClientFrame::Unsubscribe { topic } => match self.topic(&topic, None) {
                Err(e) => vec![e],
                Ok(topic) => {
                    hub.untrack(&self.id, &topic);
                    hub.unsubscribe(&self.id, &topic);
                    vec![frames::unsubscribed(&topic)]
                }
            },
            ClientFrame::Publish {
                topic,
                event,
                data,
                persist,
                id,
            } => {
                let topic = match self.topic(&topic, id.as_ref()) {
                    Ok(t) => t,
                    Err(e) => return vec![e],
                };
                if event.trim().is_empty() {
                    return vec![frames::error(
                        code::VALIDATION_ERROR,
                        "`event` must be a non-empty string",
                        Some(&topic),
                        id.as_ref(),
                    )];
                }
                if let Err(m) = self.access(&topic).await {
                    return vec![frames::error(code::FORBIDDEN, &m, Some(&topic), id.as_ref())];
                }
                let user = self.identity.user_id.clone();
                let client_id = id.as_ref().and_then(Value::as_str);
                let publication = Publication {
                    topic: &topic,
                    event: &event,
                    data,
                    user_id: user.as_deref(),
                    persist,
                    client_id,
                    except: Some(&self.id),
                };
                match publish(&self.st, &self.identity.project.id, publication).await {
                    Ok(p) => id
                        .map(|id| vec![frames::ack(&id, &p.id, p.timestamp, persist)])
                        .unwrap_or_default(),
                    Err(e) => vec![frames::error(e.code, &e.message, Some(&topic), id.as_ref())],
                }
            }
            ClientFrame::Track { topic, state } => match self.topic(&topic, None) {
                Err(e) => vec![e],
                Ok(topic) => {
                    if let Err(m) = self.access(&topic).await {
                        return vec![frames::error(code::FORBIDDEN, &m, Some(&topic), None)];
                    }
                    let state = if state.is_null() { json!({}) } else { state };
                    let max = self.st.limits.realtime_presence_bytes;
                    if crate::util::json_over(&state, max) {
                        let m = format!(
                            "the presence state is over {max} bytes, the limit of tracked state (realtime_presence_bytes): track ids and small fields, keep the rest in the database"
                        );
                        return vec![frames::error(code::PAYLOAD_TOO_LARGE, &m, Some(&topic), None)];
                    }
                    hub.track(&self.id, &topic, state);
                    Vec::new()
                }
            },
            ClientFrame::Untrack { topic } => match self.topic(&topic, None) {
                Err(e) => vec![e],
                Ok(topic) => {
                    hub.untrack(&self.id, &topic);
                    Vec::new()
                }
            },
            ClientFrame::Ping { id } => vec![frames::pong(id.as_ref(), now_ms())],
            ClientFrame::Auth { token } => match user_from_token(&self.st, &token).await {
                Ok((p, _)) if p.id != self.identity.project.id => {
                    vec![frames::error(
                        code::FORBIDDEN,
                        "the access token belongs to another project than this connection",
                        None,
                        None,
                    )]
                }
                Ok((_, sub)) => {
                    self.identity.user_id = Some(sub.clone());
                    hub.set_user(&self.id, Some(sub.clone()));
                    vec![frames::authenticated(&sub)]
                }
                Err(e) => vec![frames::error(e.code, &e.message, None, None)],
            },
        }
    }
}

/// A delivered publication.
pub struct Published {
    pub id: String,
    pub timestamp: i64,
    pub delivered: usize,
}

/// One publication: topic already normalised.
pub struct Publication<'a> {
    pub topic: &'a str,
    pub event: &'a str,
    pub data: Value,
    pub user_id: Option<&'a str>,
    pub persist: bool,
    /// The client's id: a UUID becomes the message id (re-sends are recognised).
    pub client_id: Option<&'a str>,
    /// The publishing connection, which does not get its own message back.
    pub except: Option<&'a str>,
}

/// Store (when `persist`) and fan out an `event` frame. Used by socket `publish` frames and by
/// `POST /v1/realtime/emit`.
pub async fn publish(
    st: &AppState,
    project_id: &str,
    p: Publication<'_>,
) -> Result<Published, ApiError> {
    let uuid_id = p.client_id.filter(|c| super::store::is_uuid(c));
    let max = st.limits.realtime_message_bytes;
    if crate::util::json_over(&p.data, max) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            format!("the message's data is over {max} bytes, the limit of a realtime message (realtime_message_bytes): send a reference (a storage key, a row id) instead"),
        )
        .with_detail("field", "data"));
    }
    let keep = st.limits.realtime_history_per_topic;
    let (id, timestamp, data, fresh) = if p.persist {
        let pool = st.control.clone();
        let (pid, t, e, u, cid) = (
            project_id.to_string(),
            p.topic.to_string(),
            p.event.to_string(),
            p.user_id.map(str::to_string),
            uuid_id.map(str::to_string),
        );
        let (stored, data) = tokio::task::spawn_blocking(move || {
            let db = pool.get()?;
            super::store::store(
                &db.conn,
                &pid,
                &t,
                u.as_deref(),
                &e,
                &p.data,
                cid.as_deref(),
                keep,
            )
            .map(|s| (s, p.data))
        })
        .await
        .map_err(|e| ApiError::internal(format!("storing the message failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("storing the message failed: {e}")))?;
        (stored.id, stored.created_at, data, stored.fresh)
    } else {
        (
            uuid_id.map_or_else(new_uuid, str::to_string),
            now_ms(),
            p.data,
            true,
        )
    };
    // A re-sent persisted publish was delivered the first time: acknowledge it only.
    let delivered = if fresh {
        let frame = EventFrame {
            topic: p.topic,
            event: p.event,
            data: &data,
            user_id: p.user_id,
            id: &id,
            timestamp,
            persisted: p.persist,
        };
        st.realtime.broadcast(p.topic, &frame.to_text(), p.except)
    } else {
        0
    };
    Ok(Published {
        id,
        timestamp,
        delivered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_credentials_from_the_subprotocol_list() {
        let mut h = HeaderMap::new();
        h.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(
                "aerostack-key.ac_secret_1, aerostack-token.a%2Eb, aerostack-v1",
            ),
        );
        let p = crate::extract::ws_protocols(&h);
        assert_eq!(
            p,
            [
                "aerostack-key.ac_secret_1",
                "aerostack-token.a%2Eb",
                "aerostack-v1"
            ]
        );
        assert_eq!(percent_decode("a%2Eb"), "a.b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}

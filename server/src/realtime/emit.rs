//! `POST /v1/realtime/emit {event, data, room, persist?}`: server-side `socket.emit` (hooks,
//! backends). Delivers an `event` frame to every subscriber of the room.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::socket::{Publication, publish};
use super::topics::{TopicError, normalize};
use crate::error::{ApiError, code};
use crate::extract::{JsonBody, Project};
use crate::state::AppState;

const USAGE: &str =
    r#"{"event": "todo.created", "data": {"id": 1}, "room": "todos/shared", "persist": false}"#;

pub async fn emit(
    State(st): State<AppState>,
    Project(p): Project,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let event = body.req_str("event", USAGE)?.to_string();
    if event.trim().is_empty() {
        return Err(ApiError::validation(
            "event",
            format!("`event` is blank: send {USAGE}"),
        ));
    }
    // `room` as in sdk.socket.emit(event, data, room); `topic` and `roomId` are accepted too.
    let room = ["room", "topic", "roomId"]
        .iter()
        .find_map(|k| body.0.get(*k).and_then(Value::as_str))
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            ApiError::validation(
                "room",
                format!("`room` is required (the topic to emit on): send {USAGE}"),
            )
        })?
        .to_string();
    let persist = match body.0.get("persist") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::validation(
                "persist",
                "`persist` must be true or false",
            ));
        }
    };
    let data = body.0.get("data").cloned().unwrap_or(Value::Null);
    let topic = normalize(&room, &p.id, &p.slug).map_err(|e| match e {
        TopicError::Forbidden(m) => {
            ApiError::new(StatusCode::FORBIDDEN, code::FORBIDDEN, m).with_detail("field", "room")
        }
        TopicError::Invalid(m) => ApiError::validation("room", m),
    })?;
    let publication = Publication {
        topic: &topic,
        event: &event,
        data,
        user_id: None,
        persist,
        client_id: None,
        except: None,
    };
    let out = publish(&st, &p.id, publication).await?;
    Ok(Json(json!({
        "success": true, "id": out.id, "topic": topic, "event": event, "timestamp": out.timestamp,
        "delivered": out.delivered, "persisted": persist,
    }))
    .into_response())
}

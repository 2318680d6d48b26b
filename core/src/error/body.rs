//! Reads every error body shape the platform generations use (wire-facts §3.1).

use serde_json::Value;

/// What could be read out of an error body.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ParsedErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub details: Option<Value>,
    pub request_id: Option<String>,
}

/// Reads every error body shape of wire-facts §3.1:
/// `{code, message, details}`, `{error: {code, message, details}}`, `{error: "CODE", message}`,
/// `{error: "text"}`, `{..., field}` and plain text. The local platform's `/v1` answers carry a
/// spec code on top and the precise code and request id in `details` (`aerostack_protocol::
/// ErrorResponse`): those are read back out, so callers see the precise code either way.
pub(crate) fn parse_error_body(body: &[u8]) -> ParsedErrorBody {
    let mut out = ParsedErrorBody::default();
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return out;
    }
    let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(trimmed) else {
        // Plain text (or JSON that is not an object): the text is the message.
        out.message = Some(truncate(trimmed, 1000));
        return out;
    };
    let take_str = |obj: &mut serde_json::Map<String, Value>, k: &str| match obj.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    out.code = take_str(&mut obj, "code");
    out.message = take_str(&mut obj, "message");
    out.request_id = take_str(&mut obj, "request_id").or_else(|| take_str(&mut obj, "requestId"));
    out.details = obj.remove("details").filter(|d| !d.is_null());
    match obj.remove("error") {
        Some(Value::Object(mut inner)) => {
            if out.code.is_none() {
                out.code = take_str(&mut inner, "code");
            }
            if out.message.is_none() {
                out.message = take_str(&mut inner, "message");
            }
            if out.details.is_none() {
                out.details = inner.remove("details").filter(|d| !d.is_null());
            }
        }
        Some(Value::String(s)) if !s.is_empty() => {
            // `{error: "CODE", message}` (old public auth) versus `{error: "human text"}`.
            if out.code.is_none() && out.message.is_some() && looks_like_code(&s) {
                out.code = Some(s);
            } else if out.message.is_none() {
                out.message = Some(s);
            }
        }
        _ => {}
    }
    promote_precise_code(&mut out);
    // sdk-core style top-level `field`: surface it in details so callers find it in one place.
    if let Some(Value::String(field)) = obj.remove("field") {
        match &mut out.details {
            Some(Value::Object(d)) => {
                d.entry("field").or_insert(Value::String(field));
            }
            None => out.details = Some(serde_json::json!({ "field": field })),
            Some(_) => {}
        }
    }
    out
}

/// `{code: <spec code>, details: {code: <precise>, request_id}}`: the precise code replaces the
/// spec code, and both keys leave `details` (they were not details of the error). Only under a
/// spec code, so a `details.code` of another platform generation is left alone.
fn promote_precise_code(out: &mut ParsedErrorBody) {
    use aerostack_protocol::error::{DETAILS_CODE, DETAILS_REQUEST_ID};
    let spec = out
        .code
        .as_deref()
        .is_some_and(|c| aerostack_protocol::SPEC_CODES.contains(&c));
    let Some(Value::Object(details)) = &mut out.details else {
        return;
    };
    if !spec {
        return;
    }
    if let Some(Value::String(precise)) = details.get(DETAILS_CODE)
        && looks_like_code(precise)
    {
        out.code = Some(precise.clone());
        details.remove(DETAILS_CODE);
        if let Some(Value::String(id)) = details.remove(DETAILS_REQUEST_ID)
            && out.request_id.is_none()
        {
            out.request_id = Some(id);
        }
    }
}

fn looks_like_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_body_with_details() {
        let p = parse_error_body(
            br#"{"code":"VALIDATION_ERROR","message":"email is required","details":{"field":"email"},"error":"email is required","request_id":"r1"}"#,
        );
        assert_eq!(p.code.as_deref(), Some("VALIDATION_ERROR"));
        assert_eq!(p.message.as_deref(), Some("email is required"));
        assert_eq!(p.details, Some(json!({"field":"email"})));
        assert_eq!(p.request_id.as_deref(), Some("r1"));
    }
    #[test]
    fn nested_error_object() {
        let p =
            parse_error_body(br#"{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"slow down"}}"#);
        assert_eq!(p.code.as_deref(), Some("RATE_LIMIT_EXCEEDED"));
        assert_eq!(p.message.as_deref(), Some("slow down"));
    }
    #[test]
    fn error_string_is_message_or_code() {
        let p = parse_error_body(br#"{"error":"Something broke"}"#);
        assert_eq!(p.code, None);
        assert_eq!(p.message.as_deref(), Some("Something broke"));

        let p = parse_error_body(br#"{"error":"EMAIL_ALREADY_IN_USE","message":"taken"}"#);
        assert_eq!(p.code.as_deref(), Some("EMAIL_ALREADY_IN_USE"));
        assert_eq!(p.message.as_deref(), Some("taken"));
    }
    #[test]
    fn top_level_field_goes_to_details() {
        let p = parse_error_body(br#"{"message":"bad","field":"password"}"#);
        assert_eq!(p.details, Some(json!({"field":"password"})));
    }
    #[test]
    fn reads_the_platforms_error_body() {
        // The shape the local platform writes (aerostack_protocol::ErrorBody), both forms of
        // `error` and an extra top-level field.
        use aerostack_protocol::ErrorBody;
        let mut body = ErrorBody::new("AUTH_OTP_INVALID", "wrong code");
        body.details.insert("field".into(), json!("code"));
        body.request_id = Some("req_9".into());
        body.extra.insert("success".into(), json!(false));
        for body in [body.clone(), body.error_as_object()] {
            let p = parse_error_body(&serde_json::to_vec(&body.into_value()).unwrap());
            assert_eq!(p.code.as_deref(), Some("AUTH_OTP_INVALID"));
            assert_eq!(p.message.as_deref(), Some("wrong code"));
            assert_eq!(p.details, Some(json!({"field": "code"})));
            assert_eq!(p.request_id.as_deref(), Some("req_9"));
        }
    }
    #[test]
    fn reads_the_precise_code_out_of_a_spec_body() {
        // The `/v1` shape (aerostack_protocol::ErrorResponse): the engine reports exactly what it
        // reported for the old body, details included.
        use aerostack_protocol::ErrorBody;
        let mut body = ErrorBody::new("AUTH_USER_EXISTS", "taken");
        body.details.insert("field".into(), json!("email"));
        body.request_id = Some("req_7".into());
        let spec = body.clone().into_spec("VALIDATION_ERROR");
        assert_eq!(spec.details["code"], "AUTH_USER_EXISTS");
        let p = parse_error_body(&serde_json::to_vec(&spec).unwrap());
        assert_eq!(
            p,
            parse_error_body(&serde_json::to_vec(&body.into_value()).unwrap())
        );
        assert_eq!(p.code.as_deref(), Some("AUTH_USER_EXISTS"));
        assert_eq!(p.details, Some(json!({"field": "email"})));
        assert_eq!(p.request_id.as_deref(), Some("req_7"));
        // A spec code that is already precise, without a request id.
        let p = parse_error_body(
            br#"{"code":"DB_QUERY_FAILED","message":"no such table","details":{"code":"DB_QUERY_FAILED"}}"#,
        );
        assert_eq!(p.code.as_deref(), Some("DB_QUERY_FAILED"));
        assert_eq!(p.details, Some(json!({})));
        // Not under a spec code, or not a code: `details.code` stays a detail.
        let p = parse_error_body(
            br#"{"code":"CACHE_GET_FAILED","message":"m","details":{"code":"KV_1"}}"#,
        );
        assert_eq!(p.code.as_deref(), Some("CACHE_GET_FAILED"));
        assert_eq!(p.details, Some(json!({"code": "KV_1"})));
        let p = parse_error_body(
            br#"{"code":"VALIDATION_ERROR","message":"m","details":{"code":"the OTP code"}}"#,
        );
        assert_eq!(p.code.as_deref(), Some("VALIDATION_ERROR"));
        assert_eq!(p.details, Some(json!({"code": "the OTP code"})));
    }
    #[test]
    fn plain_text_and_empty() {
        let p = parse_error_body(b"upstream exploded\n");
        assert_eq!(p.message.as_deref(), Some("upstream exploded"));
        assert_eq!(parse_error_body(b""), ParsedErrorBody::default());
        // JSON that is not an object is treated as text.
        assert_eq!(
            parse_error_body(b"\"oops\"").message.as_deref(),
            Some("\"oops\"")
        );
    }
}

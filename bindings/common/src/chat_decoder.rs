//! [`ChatDecoderHandle`]: a streamed chat answer decoded from bytes the host reads itself, for
//! the official JS `stream(response, { onToken, onDone, onError })`, where the user holds the HTTP
//! response. The SSE parsing and the chunk decoding are the engine's (`aerostack::ChatStreamDecoder`,
//! the same as its own streams use); the binding only moves bytes in and JSON out.

use parking_lot::Mutex;
use serde_json::{Value, json};

use aerostack::{ChatStreamDecoder, Error};

use crate::errors::ErrorDto;
use crate::result_keys::recase;

/// One decoder; `Sync`, so a binding may hold it in a shared object.
#[derive(Default)]
pub struct ChatDecoderHandle {
    d: Mutex<ChatStreamDecoder>,
}

impl ChatDecoderHandle {
    pub fn new() -> ChatDecoderHandle {
        ChatDecoderHandle::default()
    }

    /// What `bytes` complete: `[{"chunk": {delta, finish_reason, usage, model}} | {"error": dto}]`,
    /// keys in the installed case.
    pub fn feed(&self, bytes: &[u8]) -> Value {
        items(self.d.lock().feed(bytes))
    }

    /// End of input (the body ended): what a last event without its blank line completes.
    pub fn finish(&self) -> Value {
        items(self.d.lock().finish())
    }

    /// The error DTO of an answer that is not a stream (`status` not 2xx, its `body`), read as
    /// the engine reads its own answers.
    pub fn error(status: u16, body: &[u8]) -> Value {
        json!(ErrorDto::from(&ChatStreamDecoder::error_for(status, body)))
    }

    /// Whether the stream said `[DONE]` (or was finished).
    pub fn is_done(&self) -> bool {
        self.d.lock().is_done()
    }
}

fn items(chunks: Vec<Result<aerostack::ChatChunk, Error>>) -> Value {
    Value::Array(
        chunks
            .into_iter()
            .map(|c| match c {
                Ok(chunk) => json!({ "chunk": recase("ai.chat_stream", serde_json::to_value(chunk).unwrap_or(Value::Null)) }),
                Err(e) => json!({ "error": ErrorDto::from(&e) }),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_errors_as_json() {
        let d = ChatDecoderHandle::new();
        let got = d.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"error\":\"boom\"}\n\nda");
        assert_eq!(got[0]["chunk"]["delta"], "hi");
        assert_eq!(got[1]["error"]["code"], "AI_REQUEST_FAILED");
        assert!(!d.is_done());
        assert_eq!(d.feed(b"ta: [DONE]\n\n"), json!([]));
        assert!(d.is_done());
        let e = ChatDecoderHandle::error(402, br#"{"code":"INSUFFICIENT_CREDITS","message":"no credits"}"#);
        assert_eq!((e["code"].as_str(), e["status"].as_u64()), (Some("INSUFFICIENT_CREDITS"), Some(402)));
    }
}

//! Custom APIs (Logic Modules): `{base}/custom/{slug}`.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::transport::Call;

/// Percent-encodes a slug for the path, keeping `/` so nested routes work.
fn encode_slug(slug: &str) -> String {
    let mut out = String::with_capacity(slug.len());
    for b in slug.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// Calls the custom API `slug` with `data` as JSON body (also for GET, as the official SDKs
    /// do) and returns the handler's JSON. Sends `X-Project-Id` when a project id is configured.
    /// `WORKER_NOT_CONNECTED` (503) when no worker serves the slug.
    pub async fn call<D: Serialize + ?Sized>(
        &self,
        slug: &str,
        data: &D,
        method: Method,
    ) -> Result<Value> {
        let slug = slug.trim_matches('/');
        if slug.is_empty() || slug.split('/').any(|s| s == "..") {
            return Err(Error::validation(
                "slug",
                format!("slug must be a custom API name like \"hello\" (got {slug:?})"),
            ));
        }
        let url = self.api_url(&format!("/custom/{}", encode_slug(slug)));
        let idempotent = method != Method::POST && method != Method::PATCH;
        let method_for_decode = method.clone();
        let mut call = Call::new(method, url.clone(), idempotent).json(data)?;
        call.project_header = true;
        let reply = self.fetch(call).await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        crate::transport::decode(&reply.body, &method_for_decode, &url)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_encoded() {
        assert_eq!(super::encode_slug("hello"), "hello");
        assert_eq!(super::encode_slug("orders/list"), "orders/list");
        assert_eq!(super::encode_slug("a b?c"), "a%20b%3Fc");
    }
}

//! The baseline client: a raw reqwest loop making the same HTTP calls the engine makes
//! (same headers: key, request id, user agent; same JSON bodies, response parsed into JSON), with none of the engine's work.

use serde_json::{Value, json};

pub struct Raw {
    http: reqwest::Client,
    api: String,
    key: String,
}

impl Raw {
    pub fn new(api: &str, key: &str) -> Self {
        Self { http: reqwest::Client::new(), api: api.trim_end_matches('/').to_string(), key: key.to_string() }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.api))
            .header("X-Aerostack-Key", &self.key)
            .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
            .header("User-Agent", "raw-reqwest-bench")
            .json(&body)
            .send()
            .await
            .expect("raw request");
        let status = resp.status();
        let bytes = resp.bytes().await.expect("raw body");
        let v: Value = serde_json::from_slice(&bytes).expect("raw json");
        assert!(status.is_success(), "{path} answered {status}: {v}");
        v
    }

    pub async fn db_query(&self, sql: &str, params: &[Value]) -> Value {
        self.post("/db/query", json!({"sql": sql, "params": params})).await
    }

    pub async fn cache_get(&self, key: &str) -> Value {
        self.post("/cache/get", json!({"key": key})).await
    }

    pub async fn cache_set(&self, key: &str, value: Value) -> Value {
        self.post("/cache/set", json!({"key": key, "value": value})).await
    }

    pub async fn enqueue(&self, job_type: &str, data: Value) -> Value {
        // Delayed: no worker runs it, the bench measures the write alone.
        self.post("/queue/enqueue", json!({"type": job_type, "data": data, "delay": 3600})).await
    }
}

//! The operations of the REST API under the names of the generated `SDK` (seed 002:
//! `sdk.database.db_query(request=...)`), each mapped to its method and path once, here, for
//! every language's operation-style face. The `rest` operation of [`crate::ops::dispatch`] runs
//! one: `{"operation": "database.db_query", "request": {...wire fields...}}` answers the
//! platform's JSON as it is. Operations with path or query parameters (the gateway's) take them
//! as `"params": {"apiSlug": ...}` (the spec's names; snake_case works too), and the consumer's
//! operations send the consumer key (`"consumer_key"`, else the client's) as Bearer. Uploads and
//! downloads carry bytes and have their own calls.

/// One REST operation: `group.name` in the generated SDK, and where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestOperation {
    /// `database`, `cache`, ...: the SDK's group.
    pub group: &'static str,
    /// `db_query`, `cache_get`, ...: the operation's method name (snake_case; each language
    /// spells it in its idiom).
    pub name: &'static str,
    pub method: &'static str,
    /// Under the base URL (`/v1`); `{name}` is a path parameter.
    pub path: &'static str,
    /// Who calls it: the project key, or an AI-gateway consumer.
    pub auth: RestAuth,
    /// Query parameters (the spec's names), filled from `params`.
    pub query: &'static [&'static str],
}

/// The credential of a REST operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestAuth {
    /// `X-Aerostack-Key` (the client's).
    ProjectKey,
    /// `Authorization: Bearer <consumer key>` (the gateway's `GatewayConsumerKey` scheme).
    Consumer,
}

const fn op(group: &'static str, name: &'static str, method: &'static str, path: &'static str) -> RestOperation {
    RestOperation { group, name, method, path, auth: RestAuth::ProjectKey, query: &[] }
}

const fn consumer(name: &'static str, method: &'static str, path: &'static str, query: &'static [&'static str]) -> RestOperation {
    RestOperation { group: "gateway", name, method, path, auth: RestAuth::Consumer, query }
}

/// Every operation of the generated SDK that takes and answers JSON.
pub const REST_OPERATIONS: &[RestOperation] = &[
    op("ai", "ai_chat", "POST", "/ai/chat"),
    op("ai", "ingest", "POST", "/ai/search/ingest"),
    op("ai", "query", "POST", "/ai/search/query"),
    op("ai", "delete", "POST", "/ai/search/delete"),
    op("ai", "delete_by_type", "POST", "/ai/search/deleteByType"),
    op("ai", "list_types", "GET", "/ai/search/listTypes"),
    op("ai", "configure", "POST", "/ai/search/configure"),
    op("ai", "search_count", "POST", "/ai/search/count"),
    op("ai", "search_get", "POST", "/ai/search/get"),
    op("ai", "search_update", "POST", "/ai/search/update"),
    op("authentication", "auth_signin", "POST", "/auth/signin"),
    op("authentication", "auth_signup", "POST", "/auth/signup"),
    op("cache", "cache_get", "POST", "/cache/get"),
    op("cache", "cache_set", "POST", "/cache/set"),
    op("cache", "cache_delete", "POST", "/cache/delete"),
    op("cache", "cache_get_many", "POST", "/cache/getMany"),
    op("cache", "cache_set_many", "POST", "/cache/setMany"),
    op("cache", "cache_delete_many", "POST", "/cache/deleteMany"),
    op("cache", "cache_list", "POST", "/cache/list"),
    op("cache", "cache_keys", "POST", "/cache/keys"),
    op("cache", "cache_flush", "POST", "/cache/flush"),
    op("cache", "cache_expire", "POST", "/cache/expire"),
    op("cache", "cache_increment", "POST", "/cache/increment"),
    op("database", "db_query", "POST", "/db/query"),
    op("database", "db_batch", "POST", "/db/batch"),
    op("queue", "queue_enqueue", "POST", "/queue/enqueue"),
    op("queue", "queue_get_job", "POST", "/queue/job"),
    op("queue", "queue_list_jobs", "POST", "/queue/jobs"),
    op("queue", "queue_cancel_job", "POST", "/queue/cancel"),
    op("services", "services_invoke", "POST", "/services/invoke"),
    op("storage", "storage_get_url", "POST", "/storage/getUrl"),
    op("storage", "storage_list", "POST", "/storage/list"),
    op("storage", "storage_delete", "POST", "/storage/delete"),
    op("storage", "storage_exists", "POST", "/storage/exists"),
    op("storage", "storage_get_metadata", "POST", "/storage/getMetadata"),
    op("storage", "storage_copy", "POST", "/storage/copy"),
    op("storage", "storage_move", "POST", "/storage/move"),
    op("gateway", "gateway_billing_log", "POST", "/gateway/billing/log"),
    consumer("gateway_chat_completions", "POST", "/ai/gateway/{apiSlug}/chat/completions", &[]),
    consumer("gateway_get_wallet", "GET", "/ai/gateway/me/wallet", &["api_slug"]),
];

/// `apiSlug` <-> `api_slug`: a parameter's other spelling.
fn twin(name: &str) -> String {
    if name.contains('_') {
        return crate::naming::camel(name);
    }
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A piece of a path template: literal text, or a `{parameter}`.
enum Piece {
    Text(&'static str),
    Param(&'static str),
}

impl RestOperation {
    /// The path template in pieces (`/ai/gateway/`, `apiSlug`, `/chat/completions`).
    fn pieces(&self) -> impl Iterator<Item = Piece> {
        self.path.split('{').enumerate().flat_map(|(i, part)| {
            match (i, part.split_once('}')) {
                (0, _) | (_, None) => [Some(Piece::Text(part)), None],
                (_, Some((name, text))) => [Some(Piece::Param(name)), Some(Piece::Text(text))],
            }
            .into_iter()
            .flatten()
        })
    }

    /// The operation's path and query parameters, as the spec names them.
    pub fn parameters(&self) -> Vec<&'static str> {
        let in_path = self.pieces().filter_map(|p| match p {
            Piece::Param(name) => Some(name),
            Piece::Text(_) => None,
        });
        in_path.chain(self.query.iter().copied()).collect()
    }

    /// The path and query with `params` filled in (each name as the spec spells it, or its
    /// snake_case/camelCase twin); a missing path parameter, or one the operation does not take,
    /// is an error naming it.
    pub fn target(&self, params: Option<&serde_json::Value>) -> Result<String, aerostack::Error> {
        if let Some(p) = params {
            let Some(given) = p.as_object() else {
                return Err(aerostack::Error::validation(
                    "params",
                    format!("the parameters of {}.{} are an object of name: value", self.group, self.name),
                ));
            };
            let known = self.parameters();
            if let Some(unknown) = given.keys().find(|k| !known.iter().any(|n| *n == k.as_str() || twin(n) == **k)) {
                let takes = if known.is_empty() {
                    "takes no parameters: its fields go in the request body".to_string()
                } else {
                    format!("takes the parameters {}", known.join(", "))
                };
                return Err(aerostack::Error::validation(
                    &format!("params.{unknown}"),
                    format!("{}.{} has no parameter {unknown}; it {takes}", self.group, self.name),
                ));
            }
        }
        let param = |name: &str| -> Option<String> {
            let p = params?;
            [name.to_string(), twin(name)]
                .iter()
                .find_map(|n| match p.get(n.as_str())? {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
        };
        let mut path = String::new();
        for piece in self.pieces() {
            let name = match piece {
                Piece::Text(text) => {
                    path.push_str(text);
                    continue;
                }
                Piece::Param(name) => name,
            };
            let value = param(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                aerostack::Error::validation(
                    &format!("params.{name}"),
                    format!("{}.{} needs the path parameter {name} in params, e.g. {{\"{name}\": \"my-api\"}}", self.group, self.name),
                )
            })?;
            if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
                return Err(aerostack::Error::validation(
                    &format!("params.{name}"),
                    format!("params.{name} {value:?} is not a slug: use letters, digits, '-', '_' and '.'"),
                ));
            }
            path.push_str(&value);
        }
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let mut any = false;
        for name in self.query {
            if let Some(v) = param(name) {
                q.append_pair(name, &v);
                any = true;
            }
        }
        if any {
            path.push('?');
            path.push_str(&q.finish());
        }
        Ok(path)
    }
}

/// The operation named `group.name`.
pub fn find(qualified: &str) -> Option<&'static RestOperation> {
    let (group, name) = qualified.split_once('.')?;
    REST_OPERATIONS.iter().find(|o| o.group == group && o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for o in REST_OPERATIONS {
            let q = format!("{}.{}", o.group, o.name);
            assert_eq!(find(&q), Some(o), "{q}");
            assert!(o.path.starts_with('/') && (o.method == "GET" || o.method == "POST"), "{q}");
        }
        assert_eq!(find("database.nope"), None);
        assert_eq!(find("nodot"), None);
    }

    #[test]
    fn parameters_fill_the_path_and_query() {
        let chat = find("gateway.gateway_chat_completions").unwrap();
        assert_eq!(chat.auth, RestAuth::Consumer);
        let p = serde_json::json!({"apiSlug": "my bot"});
        assert!(chat.target(Some(&p)).unwrap_err().message().contains("not a slug"));
        let p = serde_json::json!({"api_slug": "bot"});
        assert_eq!(chat.target(Some(&p)).unwrap(), "/ai/gateway/bot/chat/completions");
        let e = chat.target(None).unwrap_err();
        assert!(e.message().contains("apiSlug"), "{e}");
        let wallet = find("gateway.gateway_get_wallet").unwrap();
        assert_eq!(wallet.target(None).unwrap(), "/ai/gateway/me/wallet");
        let p = serde_json::json!({"apiSlug": "bot"});
        assert_eq!(wallet.target(Some(&p)).unwrap(), "/ai/gateway/me/wallet?api_slug=bot");
        assert_eq!(find("database.db_query").unwrap().target(None).unwrap(), "/db/query");
        assert_eq!(chat.parameters(), vec!["apiSlug"]);
        assert_eq!(wallet.parameters(), vec!["api_slug"]);
        assert!(find("database.db_query").unwrap().parameters().is_empty());
        // A parameter the operation does not take is named, not ignored.
        let e = find("database.db_query").unwrap().target(Some(&serde_json::json!({"timeout": 5}))).unwrap_err();
        assert!(e.message().contains("no parameter timeout") && e.message().contains("request body"), "{e}");
        let e = wallet.target(Some(&serde_json::json!({"slug": "x"}))).unwrap_err();
        assert!(e.message().contains("api_slug"), "{e}");
    }
}

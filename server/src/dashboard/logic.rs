//! Logic Lab: the connected workers and the Logic Modules and job types they registered, each
//! module's custom API URL as callers use it, a *try it* form (the browser calls that URL itself,
//! with the project's key or none), the recent invocations, and Generate (a handler written by
//! the configured AI upstream).

use axum::Form;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::html::{self, copyable, esc};
use super::{Ctx, api_error_page};
use crate::store::control;
use crate::workers::frames::TRIGGER_API;
use crate::workers::hub::WorkerInfo;

/// The SDK language of a worker, from the `User-Agent` its SDK sends (`aerostack-python/...`).
fn language(w: &WorkerInfo) -> &'static str {
    let agent = w.agent.as_deref().unwrap_or("").to_ascii_lowercase();
    let label = w.label.to_ascii_lowercase();
    for (needle, lang) in [
        ("aerostack-python", "Python"),
        ("aerostack-node", "JavaScript"),
        ("aerostack-go", "Go"),
        ("aerostack-php", "PHP"),
    ] {
        if agent.contains(needle) || label.contains(needle) {
            return lang;
        }
    }
    "unknown"
}

/// Languages Generate writes, with the shape of a handler in each (the seeds' `handler(sdk, event)`).
const LANGUAGES: [(&str, &str, &str); 4] = [
    (
        "python",
        "Python",
        "from aerostack import hooks\n\n@hooks.module(\"SLUG\", methods=[\"POST\"])\nasync def handler(sdk, event):\n    data = event.data or {}\n    ...\n    return {...}\n\n# run: python -m aerostack.hooks handlers.py",
    ),
    (
        "javascript",
        "JavaScript",
        "// modules/SLUG.js, run: npx aerostack-worker ./modules/\nexport default async function (sdk, event) {\n  const data = event.data || {};\n  ...\n  return {...};\n}",
    ),
    (
        "go",
        "Go",
        "func handler(ctx context.Context, sdk *aerostack.Scoped, event aerostack.Event) (any, error) {\n\t// event.Data is the request body\n\treturn map[string]any{...}, nil\n}\n\n// aerostack.Serve(ctx, aerostack.Module(\"SLUG\", handler))",
    ),
    (
        "php",
        "PHP",
        "<?php // handlers.php, run: vendor/bin/aerostack-worker handlers.php\n$worker = new Aerostack\\Worker();\n$worker->module('SLUG', function (Aerostack\\Sdk $sdk, array $event) {\n    $data = $event['data'] ?? [];\n    // ...\n    return [...];\n});\nreturn $worker;",
    ),
];

pub async fn page(ctx: Ctx) -> Response {
    render(ctx, None).await
}

/// What Generate produced: the request and the code (or why there is none).
struct Generated {
    description: String,
    language: String,
    slug: String,
    outcome: Result<String, String>,
}

async fn render(ctx: Ctx, generated: Option<Generated>) -> Response {
    let pid = ctx.project.id.clone();
    let key = match ctx
        .st
        .control(move |c| Ok(control::first_key(c, &pid)?))
        .await
    {
        Ok(k) => k.unwrap_or_default(),
        Err(e) => return api_error_page(e),
    };
    let base = ctx.st.base_url().to_string();
    let workers = ctx.st.hooks.workers_of(&ctx.project.id);
    let mut body = String::new();

    // Workers
    let rows: Vec<Vec<String>> = workers
        .iter()
        .map(|w| {
            vec![
                esc(&w.label),
                esc(language(w)),
                esc(w.agent.as_deref().unwrap_or("")),
                html::time(w.connected_at),
                format!("{} / {}", w.in_flight, w.concurrency),
                if w.draining {
                    "draining".into()
                } else {
                    "serving".into()
                },
            ]
        })
        .collect();
    body.push_str("<section><h2>Workers</h2>");
    body.push_str(&html::table(
        &["Worker", "Language", "Client", "Connected", "In flight / concurrency", "State"],
        &rows,
        "No worker is connected for this project. Start one, e.g. `python -m aerostack.hooks handlers.py` with AEROSTACK_API_KEY and AEROSTACK_API_URL (docs/workers.md).",
    ));
    body.push_str("</section>");

    // Modules (one row per slug; several workers may serve it)
    let mut modules: Vec<(crate::workers::frames::ModuleSpec, Vec<&'static str>)> = Vec::new();
    for w in &workers {
        for m in &w.modules {
            match modules
                .iter_mut()
                .find(|(x, _)| x.slug == m.slug && x.trigger == m.trigger)
            {
                Some((_, langs)) => {
                    if !langs.contains(&language(w)) {
                        langs.push(language(w));
                    }
                }
                None => modules.push((m.clone(), vec![language(w)])),
            }
        }
    }
    modules.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
    let slug = &ctx.project.slug;
    let rows: Vec<Vec<String>> = modules
        .iter()
        .filter(|(m, _)| m.trigger == TRIGGER_API)
        .map(|(m, langs)| {
            let methods: Vec<String> = m.methods.iter().map(|x| x.to_ascii_uppercase()).collect();
            let get = methods.iter().any(|x| x == "GET");
            let public_url = format!("{base}/api/v1/public/projects/{slug}/custom/{}", m.slug);
            let keyed_url = format!("{base}/v1/custom/{}", m.slug);
            let urls = if m.public {
                format!(
                    "{} <span class=\"tag\">no key</span><br>{} <span class=\"tag\">key</span>",
                    copyable(&public_url),
                    copyable(&keyed_url)
                )
            } else {
                format!(
                    "{} <span class=\"tag\">key</span><br>{} <span class=\"tag\">key</span>",
                    copyable(&public_url),
                    copyable(&keyed_url)
                )
            };
            vec![
                format!(
                    "<b class=\"slug\">{}</b>{}",
                    esc(&m.slug),
                    m.name
                        .as_deref()
                        .map(|n| format!("<br><small>{}</small>", esc(n)))
                        .unwrap_or_default()
                ),
                esc(&langs.join(", ")),
                esc(&methods.join(", ")),
                if m.public {
                    "<span class=\"on\">public</span>".into()
                } else {
                    "<span class=\"off\">key required</span>".into()
                },
                if get {
                    "<span class=\"on\">GET on</span>".into()
                } else {
                    "<span class=\"off\">GET off</span>".into()
                },
                m.timeout_ms
                    .map(|t| format!("{t} ms"))
                    .unwrap_or_else(|| "default".into()),
                urls,
            ]
        })
        .collect();
    body.push_str("<section><h2>Logic Modules</h2>");
    body.push_str(&html::table(
        &[
            "Slug",
            "Language",
            "Methods",
            "Access",
            "GET",
            "Timeout",
            "Custom API URL",
        ],
        &rows,
        "No Logic Module registered: a worker registers them when it connects.",
    ));
    let events: Vec<Vec<String>> = modules
        .iter()
        .filter(|(m, _)| m.trigger != TRIGGER_API)
        .map(|(m, langs)| vec![esc(&m.slug), esc(&m.trigger), esc(&langs.join(", "))])
        .collect();
    if !events.is_empty() {
        body.push_str("<h3>Event handlers</h3>");
        body.push_str(&html::table(&["Slug", "Event", "Language"], &events, ""));
    }
    let mut jobs: Vec<Vec<String>> = Vec::new();
    for w in &workers {
        for j in &w.jobs {
            jobs.push(vec![
                esc(&j.job_type),
                esc(language(w)),
                esc(&w.label),
                j.timeout_ms
                    .map(|t| format!("{t} ms"))
                    .unwrap_or_else(|| "default".into()),
            ]);
        }
    }
    body.push_str("<h3>Queue job types</h3>");
    body.push_str(&html::table(
        &["Type", "Language", "Worker", "Timeout"],
        &jobs,
        "No job type registered.",
    ));
    body.push_str("</section>");

    // Try it
    let api_modules: Vec<&crate::workers::frames::ModuleSpec> = modules
        .iter()
        .map(|(m, _)| m)
        .filter(|m| m.trigger == TRIGGER_API)
        .collect();
    body.push_str("<section><h2>Try it</h2>");
    if api_modules.is_empty() {
        body.push_str(
            "<p class=\"empty\">Nothing to try until a worker registers a Logic Module.</p>",
        );
    } else {
        let mut options = String::new();
        for m in &api_modules {
            let methods: Vec<String> = m.methods.iter().map(|x| x.to_ascii_uppercase()).collect();
            options.push_str(&format!(
                "<option value=\"{s}\" data-methods=\"{}\" data-public=\"{}\">{s}</option>",
                esc(&methods.join(",")),
                m.public,
                s = esc(&m.slug)
            ));
        }
        body.push_str(&format!(
            "<form id=\"try-form\" class=\"try\" data-base=\"{base}\" data-project=\"{slug}\" data-key=\"{key}\">\
             <label>Module <select name=\"slug\" id=\"try-slug\">{options}</select></label>\
             <label>Method <select name=\"method\" id=\"try-method\"></select></label>\
             <label>Call with <select name=\"auth\" id=\"try-auth\"><option value=\"key\">the project's API key</option><option value=\"public\">no key (public URL)</option></select></label>\
             <label class=\"wide\">JSON body (GET: sent as the query string) <textarea name=\"body\" id=\"try-body\" rows=\"4\">{{}}</textarea></label>\
             <button id=\"try-send\">Send</button></form>\
             <div id=\"try-out\" class=\"try-out\" hidden><p><span id=\"try-status\"></span> · <span id=\"try-time\"></span> · <code id=\"try-url\"></code></p><pre id=\"try-answer\"></pre></div>",
            base = esc(&base),
            slug = esc(slug),
            key = esc(&key),
        ));
    }
    body.push_str("</section>");

    // Recent invocations
    let recent = ctx.st.hooks.recent_invocations(&ctx.project.id);
    let rows: Vec<Vec<String>> = recent
        .iter()
        .map(|r| {
            vec![
                html::time(r.at),
                esc(&r.slug),
                esc(&r.kind),
                esc(r.method.as_deref().unwrap_or("")),
                format!(
                    "<span class=\"status s{}\">{}</span>",
                    r.status / 100,
                    r.status
                ),
                format!("{:.1} ms", r.duration_ms),
                esc(r.error.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    body.push_str(&format!("<section><h2>Recent invocations</h2><p class=\"hint\">The last {} calls of this project's modules (custom APIs, services, events), newest first. <a href=\"{}\">Refresh</a></p>", crate::workers::hub::RECENT_INVOCATIONS, esc(&ctx.href("/logic", &[]))));
    body.push_str(&html::table(
        &[
            "When", "Module", "Kind", "Method", "Status", "Duration", "Error",
        ],
        &rows,
        "No invocation yet.",
    ));
    body.push_str("</section>");

    // Generate
    body.push_str("<section><h2>Generate a handler with AI</h2>");
    if ctx.st.ai.base_url.is_none() {
        body.push_str("<p class=\"notice\" id=\"generate-off\">Generate needs an AI upstream and none is configured. Start the platform with \
            <code>AEROSTACK_AI_BASE_URL</code> set to any OpenAI-compatible server (e.g. <code>http://127.0.0.1:11434/v1</code> for Ollama), \
            <code>AEROSTACK_AI_MODEL</code> (e.g. <code>llama3.2</code>) and, if it needs one, <code>AEROSTACK_AI_API_KEY</code>.</p>");
    } else {
        let g = generated.as_ref();
        let mut langs = String::new();
        for (id, name, _) in LANGUAGES {
            let sel = g.is_some_and(|g| g.language == id);
            langs.push_str(&format!(
                "<option value=\"{id}\"{}>{name}</option>",
                if sel { " selected" } else { "" }
            ));
        }
        body.push_str(&ctx.form_class(
            "/logic/generate",
            "generate",
            &format!(
                "<label class=\"wide\">Describe the API <textarea name=\"description\" rows=\"3\" required placeholder=\"Search products by name; body {{q, limit}}; answer {{results, count}}\">{}</textarea></label>\
                 <label>Slug <input name=\"slug\" value=\"{}\" placeholder=\"search-products\"></label>\
                 <label>Language <select name=\"language\">{langs}</select></label><button>Generate</button>",
                esc(g.map_or("", |g| g.description.as_str())),
                esc(g.map_or("", |g| g.slug.as_str())),
            ),
        ));
        match g.map(|g| &g.outcome) {
            Some(Ok(code)) => body.push_str(&format!(
                "<div class=\"generated\"><button type=\"button\" class=\"copy\" data-copy=\"{c}\">copy</button><pre id=\"generated-code\">{c}</pre></div>",
                c = esc(code)
            )),
            Some(Err(e)) => body.push_str(&format!("<p class=\"flash err\">{}</p>", esc(e))),
            None => {}
        }
    }
    body.push_str("</section>");
    ctx.render("/logic", "Logic Lab", &body)
}

#[derive(Deserialize)]
pub struct GenerateForm {
    description: String,
    #[serde(default)]
    slug: String,
    language: String,
}

pub async fn generate(ctx: Ctx, Form(f): Form<GenerateForm>) -> Response {
    let slug = if f.slug.trim().is_empty() {
        "my-api".to_string()
    } else {
        f.slug.trim().to_string()
    };
    let outcome = match LANGUAGES.iter().find(|(id, _, _)| *id == f.language) {
        None => Err(format!(
            "language must be one of python, javascript, go, php (got {:?})",
            f.language
        )),
        Some(_) if f.description.trim().is_empty() => Err("describe the API first".to_string()),
        Some((_, name, shape)) => {
            ask_ai(
                &ctx,
                name,
                &shape.replace("SLUG", &slug),
                &f.description,
                &slug,
            )
            .await
        }
    };
    let g = Generated {
        description: f.description,
        language: f.language,
        slug,
        outcome,
    };
    render(ctx, Some(g)).await
}

/// One chat completion through the configured upstream; the code block of its answer.
async fn ask_ai(
    ctx: &Ctx,
    language: &str,
    shape: &str,
    description: &str,
    slug: &str,
) -> Result<String, String> {
    let st = &ctx.st;
    let model = crate::routes::ai::resolve_model(st, None, None).map_err(super::msg)?;
    let system = format!(
        "You write Aerostack Logic Module handlers. A handler receives (sdk, event) and returns a JSON-serialisable value, \
         which becomes the HTTP response. event has: event, timestamp, data (the request body), project_id, method, query, headers. \
         The scoped sdk offers: sdk.db.query(sql, params) -> {{results: [rows]}}, sdk.cache.get(key) / sdk.cache.set(key, value, ttl_seconds), \
         sdk.ai.chat(model, messages), sdk.fetch(url, options), sdk.secrets.get(name), sdk.queue.enqueue(job_type, data), \
         sdk.socket.emit(event, data, room). Raise/throw an error to fail the call. Answer with one {language} code block only, \
         shaped like:\n{shape}"
    );
    let body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": format!("Slug: {slug}\nThe API: {description}")},
        ],
    });
    let Value::Object(body) = body else {
        unreachable!()
    };
    let (resp, url) = crate::routes::ai::send_chat(st, body, false)
        .await
        .map_err(super::msg)?;
    let answer = crate::routes::ai::read_answer(resp, &url)
        .await
        .map_err(super::msg)?;
    let text = answer
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            format!("the AI server at {url} answered without choices[0].message.content")
        })?;
    Ok(code_block(text))
}

/// The first fenced code block of `text`, else the whole text.
fn code_block(text: &str) -> String {
    let Some(start) = text.find("```") else {
        return text.trim().to_string();
    };
    let rest = &text[start + 3..];
    let rest = rest.split_once('\n').map_or(rest, |(_, r)| r);
    rest.split("```")
        .next()
        .unwrap_or(rest)
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn code_blocks() {
        assert_eq!(
            super::code_block("Here:\n```python\nprint(1)\n```\nbye"),
            "print(1)"
        );
        assert_eq!(super::code_block("x = 1"), "x = 1");
    }
}

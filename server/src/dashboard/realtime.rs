//! Realtime: the project's topics with their subscriber counts, and a live tail of what is fanned
//! out (publishes, presence, db changes) over Server-Sent Events from the hub's tap.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::Ctx;
use super::html::{self, esc};

pub async fn page(ctx: Ctx) -> Response {
    let topics = ctx.st.realtime.topics_of(&ctx.project.id);
    let suffix = format!("/{}", ctx.project.id);
    let rows: Vec<Vec<String>> = topics
        .iter()
        .map(|(t, subs, present)| {
            vec![
                format!("<code>{}</code>", esc(t.strip_suffix(&suffix).unwrap_or(t))),
                subs.to_string(),
                present.to_string(),
            ]
        })
        .collect();
    let mut body = String::from(
        "<section><h2>Topics</h2><p class=\"hint\">Topics with at least one subscriber (names without the project id suffix).</p>",
    );
    body.push_str(&html::table(
        &["Topic", "Subscribers", "Present (tracked)"],
        &rows,
        "No subscriber right now.",
    ));
    body.push_str("</section><section><h2>Live tail</h2><p class=\"hint\">Everything fanned out on this project's topics from now on: messages, presence, and row changes of every table while this page is open. <span id=\"tail-state\">connecting…</span></p>");
    body.push_str(&format!(
        "<div id=\"tail\" data-src=\"{}\"><table><thead><tr><th>Time</th><th>Topic</th><th>Type</th><th>Event / data</th></tr></thead><tbody id=\"tail-rows\"></tbody></table></div></section>",
        esc(&ctx.href("/realtime/tail", &[]))
    ));
    ctx.render("/realtime", "Realtime", &body)
}

/// `text/event-stream`: one `frame` event per fanned-out frame of the project
/// (`{topic, frame}`), until the page closes or the platform stops.
pub async fn tail(ctx: Ctx) -> Response {
    let rx = ctx.st.realtime.tap();
    let suffix = format!("/{}", ctx.project.id);
    let closing = ctx.st.hooks.closing();
    let stream = futures_util::stream::unfold(
        (rx, suffix, closing),
        |(mut rx, suffix, mut closing)| async move {
            loop {
                let got = tokio::select! {
                    r = rx.recv() => r,
                    _ = closing.changed() => return None,
                };
                match got {
                    Ok((topic, frame)) if topic.ends_with(&suffix) => {
                        let short = topic.strip_suffix(&suffix).unwrap_or(&topic).to_string();
                        let data = serde_json::json!({"topic": short, "frame": serde_json::from_str::<serde_json::Value>(&frame).unwrap_or_default()});
                        let ev: Result<Event, Infallible> =
                            Ok(Event::default().event("frame").data(data.to_string()));
                        return Some((ev, (rx, suffix, closing)));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        let ev = Ok(Event::default().event("lagged").data(n.to_string()));
                        return Some((ev, (rx, suffix, closing)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

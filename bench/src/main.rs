//! `make bench`: in one run, calls per second for `db.query` and `cache.get`
//!
//! * through the engine and through a raw reqwest loop making the same HTTP calls,
//! * against the local platform and against a bare hyper server answering static JSON
//!   (so the engine's own cost and the platform's own cost are each visible),
//! * sequentially and with 100 calls in flight.
//!
//! Everything runs in this process on the same runtime, so the ratios compare like with like on
//! the same cores. Targets: engine ≥ 90% of raw reqwest; platform ≥ 50% of bare hyper.

mod load;
mod raw;
mod report;
mod static_server;

use std::time::Duration;

use report::{Row, Table};

const CONCURRENT: usize = 100;

struct Args {
    out: Option<String>,
    readme: Option<String>,
    seconds: f64,
    serve_static: Option<u16>,
}

fn parse_args() -> Args {
    let mut args = Args { out: None, readme: None, seconds: 2.0, serve_static: None };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => args.out = it.next(),
            "--readme" => args.readme = it.next(),
            "--seconds" => args.seconds = it.next().and_then(|s| s.parse().ok()).expect("--seconds takes a number"),
            "--serve-static" => {
                args.serve_static = Some(it.next().and_then(|s| s.parse().ok()).expect("--serve-static takes a port (0: any)"))
            }
            other => panic!("unknown argument {other}; use --out FILE --readme README.md --seconds N, or --serve-static PORT"),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if let Some(port) = args.serve_static {
        // Only the static responder, until killed (the Python bench's baseline server); prints its URL.
        rt.block_on(async {
            println!("{}", static_server::start_on(port).await);
            std::future::pending::<()>().await
        });
        return;
    }
    let table = rt.block_on(run(Duration::from_secs_f64(args.seconds)));
    let md = table.markdown();
    println!("{md}");
    if let Some(out) = args.out {
        if let Some(dir) = std::path::Path::new(&out).parent() {
            std::fs::create_dir_all(dir).expect("create the results folder");
        }
        std::fs::write(&out, &md).expect("write the results file");
        eprintln!("bench: wrote {out}");
    }
    if let Some(readme) = args.readme {
        report::update_readme(&readme, &md).expect("update the README bench table");
        eprintln!("bench: updated {readme}");
    }
}

async fn run(dur: Duration) -> Table {
    let platform = aerostack_server::LocalPlatform::start(aerostack_server::ServerOptions::ephemeral())
        .await
        .expect("start the local platform");
    let key = platform.default_project().api_key.clone();
    let platform_api = platform.api_url();
    let static_api = format!("{}/v1", static_server::start().await);

    // One row for the one-row select.
    let setup = raw::Raw::new(&platform_api, &key);
    setup.db_query("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)", &[]).await;
    for i in 1..=100 {
        setup.db_query("INSERT OR REPLACE INTO items (id, name) VALUES (?, ?)", &[i.into(), format!("item {i}").into()]).await;
    }
    setup.cache_set("bench:key", serde_json::json!({"hello": "world", "n": 42})).await;

    let mut table = Table::default();
    for (target, api) in [("platform", &platform_api), ("static hyper", &static_api)] {
        for (mode, conc) in [("sequential", 1usize), ("100 in flight", CONCURRENT)] {
            for op in ["db.query", "cache.get"] {
                // A-B-B-A order, averaged: whichever runs first or second gets no systematic edge.
                let half = dur / 2;
                let e1 = load::engine_rate(api, &key, op, conc, half).await;
                let r1 = load::raw_rate(api, &key, op, conc, half).await;
                let r2 = load::raw_rate(api, &key, op, conc, half).await;
                let e2 = load::engine_rate(api, &key, op, conc, half).await;
                let (engine, raw) = ((e1 + e2) / 2.0, (r1 + r2) / 2.0);
                table.rows.push(Row { target, mode, op, engine, raw });
            }
        }
    }
    // Writes: an enqueue is one durable row, like a one-row insert (group-committed).
    setup.db_query("CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY, n INTEGER)", &[]).await;
    for op in ["db.insert", "queue.enqueue", "cache.set"] {
        let r = load::raw_write_rate(&platform_api, &key, op, CONCURRENT, dur).await;
        table.writes.push((op, r));
    }
    platform.shutdown().await;
    table
}

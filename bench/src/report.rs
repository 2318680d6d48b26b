//! The results table, and the README section it replaces between two markers.

pub struct Row {
    pub target: &'static str,
    pub mode: &'static str,
    pub op: &'static str,
    pub engine: f64,
    pub raw: f64,
}

#[derive(Default)]
pub struct Table {
    pub rows: Vec<Row>,
    /// Platform writes at 100 in flight (raw reqwest): `(call, calls/s)`.
    pub writes: Vec<(&'static str, f64)>,
}

const START: &str = "<!-- bench:start -->";
const END: &str = "<!-- bench:end -->";

fn rate(r: f64) -> String {
    format!("{:.0}", r)
}

impl Table {
    fn find(&self, target: &str, mode: &str, op: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.target == target && r.mode == mode && r.op == op)
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "Engine vs raw reqwest (calls/s; target: engine ≥ 90% of raw), {} cores, {}:\n\n",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            std::env::consts::ARCH
        ));
        s.push_str("| server | mode | call | engine | raw reqwest | engine / raw |\n|---|---|---|---:|---:|---:|\n");
        for r in &self.rows {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.0}% |\n",
                r.target,
                r.mode,
                r.op,
                rate(r.engine),
                rate(r.raw),
                100.0 * r.engine / r.raw
            ));
        }
        s.push_str("\nPlatform vs a bare hyper server answering static JSON (raw reqwest load; target ≥ 50%):\n\n");
        s.push_str("| mode | call | platform | bare hyper | platform / hyper |\n|---|---|---:|---:|---:|\n");
        for mode in ["sequential", "100 in flight"] {
            for op in ["db.query", "cache.get"] {
                if let (Some(p), Some(h)) = (self.find("platform", mode, op), self.find("static hyper", mode, op)) {
                    s.push_str(&format!(
                        "| {mode} | {op} | {} | {} | {:.0}% |\n",
                        rate(p.raw),
                        rate(h.raw),
                        100.0 * p.raw / h.raw
                    ));
                }
            }
        }
        if !self.writes.is_empty() {
            let base = self.writes.iter().find(|(op, _)| *op == "db.insert").map(|w| w.1);
            s.push_str("\nPlatform writes, 100 in flight (raw reqwest; target: queue.enqueue ≥ db.insert, issue 13 #6):\n\n");
            s.push_str("| call | calls/s | vs db.insert |\n|---|---:|---:|\n");
            for (op, r) in &self.writes {
                let vs = base.map_or("-".to_string(), |b| format!("{:.0}%", 100.0 * r / b));
                s.push_str(&format!("| {op} | {} | {vs} |\n", rate(*r)));
            }
        }
        s
    }
}

pub fn update_readme(path: &str, md: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        return Err(std::io::Error::other(format!("{path} has no {START} ... {END} section")));
    };
    let new = format!("{}{START}\n{md}{END}{}", &text[..a], &text[b + END.len()..]);
    std::fs::write(path, new)
}

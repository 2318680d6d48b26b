//! The `.dev.vars` file of a project directory: secrets for local development, loaded into the
//! default project at each start (the Workers convention: `KEY=VALUE` lines).

use std::path::Path;

use crate::error::ServerError;
use crate::store::control;

/// Parse a `.dev.vars` file: `KEY=VALUE` lines, `#` comments, optional `export ` prefix,
/// optional single or double quotes (double quotes understand `\n`, `\t`, `\"`, `\\`).
/// A missing file is no secrets.
pub fn read_dev_vars(path: &Path) -> Result<Vec<(String, String)>, ServerError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ServerError::io(path, e)),
    };
    Ok(parse_dev_vars(&text))
}

pub fn parse_dev_vars(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let key = k.trim();
        if !control::valid_secret_name(key) {
            tracing::warn!(key, "ignoring .dev.vars entry with an invalid name");
            continue;
        }
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            unescape(inner)
        } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            inner.to_string()
        } else {
            // Unquoted: a ` #` starts a trailing comment.
            v.split(" #").next().unwrap_or("").trim_end().to_string()
        };
        out.push((key.to_string(), value));
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars() {
        let vars = parse_dev_vars(
            "# c\nA=1\nexport B = \"two\\nlines\"\nC='x # y'\nD=plain # note\nbad line\n=x\n",
        );
        assert_eq!(
            vars,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two\nlines".into()),
                ("C".into(), "x # y".into()),
                ("D".into(), "plain".into()),
            ]
        );
    }
}

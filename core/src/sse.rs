//! Incremental Server-Sent Events parser for streamed chat completions.
//!
//! Bytes arrive in arbitrary chunks: a frame, a line or a UTF-8 character may be split across
//! chunks. Lines end in `\n` (a preceding `\r` is dropped); `data:` lines accumulate until a blank
//! line ends the event; `[DONE]` ends the stream; comments and other fields are ignored.

/// One parsed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseEvent {
    /// The data of one event (multiple `data:` lines joined with `\n`).
    Data(String),
    /// `data: [DONE]`: the stream is over.
    Done,
}

/// Feeds chunks in, gets complete events out.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// Bytes of an incomplete line.
    line: Vec<u8>,
    /// Data lines of the event being read.
    data: Option<String>,
    done: bool,
}

impl SseParser {
    /// Whether `[DONE]` was seen.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Consumes a chunk, appending complete events to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        while !self.done {
            // `\n` never occurs inside a multi-byte UTF-8 sequence, so splitting bytes is safe.
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    if self.line.is_empty() {
                        self.line_complete(&rest[..i], out);
                    } else {
                        self.line.extend_from_slice(&rest[..i]);
                        let line = std::mem::take(&mut self.line);
                        self.line_complete(&line, out);
                    }
                    rest = &rest[i + 1..];
                }
                None => {
                    self.line.extend_from_slice(rest);
                    return;
                }
            }
        }
    }

    /// End of input: a last event without its blank line still counts.
    pub(crate) fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_complete(&line, out);
        }
        self.dispatch(out);
    }

    fn line_complete(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment / keep-alive
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        if field != b"data" {
            return; // event:, id:, retry: carry nothing we use
        }
        let value = String::from_utf8_lossy(value);
        match &mut self.data {
            Some(d) => {
                d.push('\n');
                d.push_str(&value);
            }
            None => self.data = Some(value.into_owned()),
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if let Some(data) = self.data.take() {
            if data.trim() == "[DONE]" {
                self.done = true;
                out.push(SseEvent::Done);
            } else {
                out.push(SseEvent::Data(data));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        p.finish(&mut out);
        out
    }

    #[test]
    fn frames_and_done() {
        let out = parse_chunks(&[
            b"data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\ndata: {\"late\":1}\n\n",
        ]);
        assert_eq!(
            out,
            vec![
                SseEvent::Data("{\"a\":1}".into()),
                SseEvent::Data("{\"a\":2}".into()),
                SseEvent::Done
            ]
        );
    }

    #[test]
    fn frames_split_across_chunks_and_crlf() {
        let whole = "data: {\"t\":\"héllo\"}\r\n\r\n: keep-alive\n\nevent: x\nid: 7\ndata: {\"t\":\"2\"}\n\n";
        let bytes = whole.as_bytes();
        // Every split point, including inside the two-byte 'é'.
        for i in 0..bytes.len() {
            let out = parse_chunks(&[&bytes[..i], &bytes[i..]]);
            assert_eq!(
                out,
                vec![
                    SseEvent::Data("{\"t\":\"héllo\"}".into()),
                    SseEvent::Data("{\"t\":\"2\"}".into())
                ],
                "split at {i}"
            );
        }
        // One byte at a time.
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_chunks(&chunks).len(), 2);
    }

    #[test]
    fn multi_line_data_and_no_space() {
        let out = parse_chunks(&[b"data:line1\ndata: line2\n\n"]);
        assert_eq!(out, vec![SseEvent::Data("line1\nline2".into())]);
    }

    #[test]
    fn trailing_event_without_blank_line() {
        let out = parse_chunks(&[b"data: {\"x\":1}"]);
        assert_eq!(out, vec![SseEvent::Data("{\"x\":1}".into())]);
        let out = parse_chunks(&[b"data: [DONE]"]);
        assert_eq!(out, vec![SseEvent::Done]);
    }
}

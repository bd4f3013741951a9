//! A small, incremental parser for Server-Sent Events (the `text/event-stream`
//! format of the WHATWG HTML standard, section "Server-sent events").
//!
//! Feed it the bytes of a response body in chunks of any size ([`SseParser::push`]);
//! it returns complete items. What it implements:
//!
//! - one leading UTF-8 BOM is skipped (even when split across chunks);
//! - lines end with CRLF, LF or CR, and a CRLF split between two chunks counts
//!   once;
//! - each line is decoded on its own, invalid UTF-8 becoming U+FFFD (CR and LF
//!   never occur inside a multi-byte sequence, so this equals decoding the
//!   whole stream);
//! - `data:` lines accumulate, joined with LF; a blank line dispatches the event
//!   (none when no data arrived); one space after the colon is dropped; a line
//!   without a colon is a field with an empty value; unknown fields are ignored;
//! - `event:` sets the type of the next event (default `message`); `id:` sets the
//!   last event id, which persists across events (ignored when it holds NUL);
//!   `retry:` with ASCII digits only reports a reconnection time;
//! - lines starting with `:` are comments, reported so callers can see
//!   heartbeats;
//! - an event still incomplete when the stream ends is never dispatched (the
//!   caller simply drops the parser);
//! - an event (or a single line) larger than the configured bound is discarded
//!   and reported once as [`SseItem::Oversized`], so a hostile server cannot
//!   exhaust memory and the caller knows to resynchronize.
//!
//! One tolerance beyond the standard, off unless asked for
//! ([`SseParser::flush_on_comment`]): a comment line ends the pending event
//! when the caller's check says its data is already whole. It serves servers
//! that omit the blank line between an event and the next heartbeat (as the
//! PostoBox document's example reads).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type (`message` unless an `event:` field said otherwise).
    pub event: String,
    /// The data lines, joined with LF.
    pub data: String,
    /// The last event id seen so far on this stream (may be empty).
    pub id: String,
}

/// What the parser yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    Event(SseEvent),
    /// A comment line, without its leading colon (e.g. `heartbeat 3`).
    Comment(String),
    /// A valid `retry:` field: the server's reconnection time in ms.
    Retry(u64),
    /// An event exceeded the size bound and was dropped.
    Oversized,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Incremental event-stream parser. See the module documentation.
#[derive(Debug)]
pub struct SseParser {
    max_event: usize,
    /// Bytes of the current (incomplete) line.
    line: Vec<u8>,
    /// The previous chunk ended with CR: a leading LF of the next is its pair.
    after_cr: bool,
    /// Bytes seen before deciding whether the stream starts with a BOM.
    bom: Option<Vec<u8>>,
    data: String,
    /// Whether any `data` field arrived for the current event.
    has_data: bool,
    event_type: String,
    last_id: String,
    /// The current event went over the bound; drop it at its end.
    oversized: bool,
    /// The current line went over the bound; skip to its end.
    skipping_line: bool,
    /// See [`SseParser::flush_on_comment`].
    flush_on_comment: Option<fn(&str) -> bool>,
}

impl SseParser {
    /// A parser that drops events larger than `max_event` bytes.
    pub fn new(max_event: usize) -> SseParser {
        SseParser {
            max_event: max_event.max(16),
            line: Vec::new(),
            after_cr: false,
            bom: Some(Vec::new()),
            data: String::new(),
            has_data: false,
            event_type: String::new(),
            last_id: String::new(),
            oversized: false,
            skipping_line: false,
            flush_on_comment: None,
        }
    }

    /// Tolerance beyond the standard: a comment line dispatches the pending
    /// event first when `complete(data)` says the data is whole.
    pub fn flush_on_comment(mut self, complete: fn(&str) -> bool) -> SseParser {
        self.flush_on_comment = Some(complete);
        self
    }

    /// The last event id seen (for a `Last-Event-ID` header on reconnect).
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// Bytes the parser holds for the line and event in progress (their
    /// buffers' capacity): at most about the bound given to [`SseParser::new`]
    /// for each, whatever the stream sends.
    pub fn buffered_bytes(&self) -> usize {
        self.line.capacity() + self.data.capacity() + self.bom.as_ref().map_or(0, Vec::capacity)
    }

    /// Parses one chunk, returning the items it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseItem> {
        let mut out = Vec::new();
        self.push_into(chunk, &mut out);
        out
    }

    /// Parses one chunk, appending the items it completed to `out`.
    pub fn push_into(&mut self, chunk: &[u8], out: &mut Vec<SseItem>) {
        let mut chunk = chunk;
        let owned;
        if let Some(head) = self.bom.as_mut() {
            head.extend_from_slice(chunk);
            let n = head.len().min(3);
            if head[..n] == BOM[..n] && n < 3 {
                return; // Still a possible BOM: wait for more bytes.
            }
            let start = if head.starts_with(&BOM) { 3 } else { 0 };
            owned = head.split_off(start);
            self.bom = None;
            chunk = &owned;
        }
        let mut rest = chunk;
        if rest.is_empty() {
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if rest.first() == Some(&b'\n') {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.append_line_bytes(&rest[..pos]);
            let ended_by_cr = rest[pos] == b'\r';
            rest = &rest[pos + 1..];
            self.end_line(out);
            if ended_by_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.append_line_bytes(rest);
    }

    fn append_line_bytes(&mut self, bytes: &[u8]) {
        if self.skipping_line || bytes.is_empty() {
            return;
        }
        if self.line.len() + bytes.len() > self.max_event {
            self.line.clear();
            self.skipping_line = true;
            self.mark_oversized();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn mark_oversized(&mut self) {
        self.oversized = true;
        self.data.clear();
        self.has_data = false;
    }

    fn end_line(&mut self, out: &mut Vec<SseItem>) {
        if self.skipping_line {
            // The oversized line ends here; it never counts as blank.
            self.skipping_line = false;
            return;
        }
        let raw = std::mem::take(&mut self.line);
        if raw.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(&raw);
        if let Some(comment) = line.strip_prefix(':') {
            if let Some(complete) = self.flush_on_comment
                && self.has_data
                && !self.oversized
                && complete(self.data.strip_suffix('\n').unwrap_or(&self.data))
            {
                self.dispatch(out);
            }
            out.push(SseItem::Comment(comment.to_string()));
            return;
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "data" => {
                if self.oversized {
                    return;
                }
                if self.data.len() + value.len() + 1 > self.max_event {
                    self.mark_oversized();
                    return;
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event_type = value.to_string(),
            "id" if !value.contains('\0') => self.last_id = value.to_string(),
            "retry" => {
                if !value.is_empty()
                    && value.bytes().all(|b| b.is_ascii_digit())
                    && let Ok(ms) = value.parse::<u64>()
                {
                    out.push(SseItem::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let event_type = std::mem::take(&mut self.event_type);
        if self.oversized {
            self.oversized = false;
            self.data.clear();
            self.has_data = false;
            out.push(SseItem::Oversized);
            return;
        }
        if !self.has_data {
            self.data.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        self.has_data = false;
        if data.ends_with('\n') {
            data.pop();
        }
        out.push(SseItem::Event(SseEvent {
            event: if event_type.is_empty() {
                "message".into()
            } else {
                event_type
            },
            data,
            id: self.last_id.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &[u8]) -> Vec<SseItem> {
        SseParser::new(1 << 20).push(input)
    }

    fn events(items: &[SseItem]) -> Vec<(String, String, String)> {
        items
            .iter()
            .filter_map(|i| match i {
                SseItem::Event(e) => Some((e.event.clone(), e.data.clone(), e.id.clone())),
                _ => None,
            })
            .collect()
    }

    fn datas(items: &[SseItem]) -> Vec<String> {
        events(items).into_iter().map(|e| e.1).collect()
    }

    /// Every way of cutting the input in two and three pieces gives the same
    /// items as feeding it whole.
    fn assert_split_invariant(input: &[u8]) {
        let whole = parse(input);
        for i in 0..=input.len() {
            let mut p = SseParser::new(1 << 20);
            let mut got = p.push(&input[..i]);
            got.extend(p.push(&input[i..]));
            assert_eq!(
                got,
                whole,
                "split at {i} of {:?}",
                String::from_utf8_lossy(input)
            );
            for j in i..=input.len() {
                let mut p = SseParser::new(1 << 20);
                let mut got = p.push(&input[..i]);
                got.extend(p.push(&input[i..j]));
                got.extend(p.push(&input[j..]));
                assert_eq!(got, whole, "split at {i},{j}");
            }
        }
        let mut p = SseParser::new(1 << 20);
        let mut got = Vec::new();
        for b in input {
            got.extend(p.push(std::slice::from_ref(b)));
        }
        assert_eq!(got, whole, "byte by byte");
    }

    #[test]
    fn spec_example_stock_ticker() {
        let items = parse(b"data: YHOO\ndata: +2\ndata: 10\n\n");
        assert_eq!(datas(&items), vec!["YHOO\n+2\n10"]);
    }

    #[test]
    fn spec_example_ids_and_comments() {
        let input = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
        let items = parse(input);
        assert_eq!(items[0], SseItem::Comment(" test stream".into()));
        assert_eq!(
            events(&items),
            vec![
                ("message".into(), "first event".into(), "1".into()),
                ("message".into(), "second event".into(), "".into()),
                ("message".into(), " third event".into(), "".into()),
            ]
        );
    }

    #[test]
    fn spec_example_empty_data() {
        // "data\n\ndata\ndata\n\ndata:" → "", "\n", and the last is incomplete.
        let items = parse(b"data\n\ndata\ndata\n\ndata:");
        assert_eq!(datas(&items), vec!["", "\n"]);
    }

    #[test]
    fn spec_example_space_after_colon_is_optional() {
        let items = parse(b"data:test\n\ndata: test\n\n");
        assert_eq!(datas(&items), vec!["test", "test"]);
    }

    #[test]
    fn all_line_endings() {
        for input in [
            &b"data: a\ndata: b\n\n"[..],
            b"data: a\rdata: b\r\r",
            b"data: a\r\ndata: b\r\n\r\n",
            b"data: a\r\ndata: b\r\r\n",
            b"data: a\rdata: b\n\r\n",
        ] {
            assert_eq!(
                datas(&parse(input)),
                vec!["a\nb"],
                "{:?}",
                String::from_utf8_lossy(input)
            );
            assert_split_invariant(input);
        }
    }

    #[test]
    fn crlf_split_between_chunks_counts_once() {
        let mut p = SseParser::new(1024);
        let mut got = p.push(b"data: a\r");
        got.extend(p.push(b"\ndata: b\r"));
        assert!(
            got.is_empty(),
            "the LF after a CR is no blank line: {got:?}"
        );
        got.extend(p.push(b"\n"));
        assert!(got.is_empty(), "{got:?}");
        // CR alone ends a line: this one is blank and dispatches...
        got.extend(p.push(b"\r"));
        assert_eq!(datas(&got), vec!["a\nb"]);
        // ...and the LF that follows in the next chunk is its pair, not
        // another blank line.
        got.extend(p.push(b"\ndata: c\n\n"));
        assert_eq!(datas(&got), vec!["a\nb", "c"]);
    }

    #[test]
    fn lone_cr_then_data_in_next_chunk() {
        let mut p = SseParser::new(1024);
        let mut got = p.push(b"data: a\r");
        got.extend(p.push(b"\rdata: b\n\n"));
        assert_eq!(datas(&got), vec!["a", "b"]);
    }

    #[test]
    fn comments_event_types_and_ids() {
        let input =
            b":heartbeat 0\n\nevent: update\nid: 7\ndata: [1]\n\n:heartbeat 1\ndata: [2]\n\n";
        let items = parse(input);
        assert_eq!(
            items,
            vec![
                SseItem::Comment("heartbeat 0".into()),
                SseItem::Event(SseEvent {
                    event: "update".into(),
                    data: "[1]".into(),
                    id: "7".into()
                }),
                SseItem::Comment("heartbeat 1".into()),
                SseItem::Event(SseEvent {
                    event: "message".into(),
                    data: "[2]".into(),
                    id: "7".into()
                }),
            ]
        );
        assert_split_invariant(input);
    }

    #[test]
    fn id_with_nul_is_ignored_and_id_persists() {
        let mut p = SseParser::new(1024);
        let items = p.push(b"id: a\ndata: x\n\nid: b\0c\ndata: y\n\n");
        assert_eq!(events(&items)[1].2, "a");
        assert_eq!(p.last_event_id(), "a");
    }

    #[test]
    fn retry_only_digits() {
        let items = parse(b"retry: 2500\nretry: 12a\nretry:\nretry: -1\nretry: 3000\n");
        assert_eq!(items, vec![SseItem::Retry(2500), SseItem::Retry(3000)]);
    }

    #[test]
    fn unknown_fields_and_field_without_colon() {
        let items = parse(b"foo: bar\nevent\ndata\n\n");
        assert_eq!(
            events(&items),
            vec![("message".into(), "".into(), "".into())]
        );
    }

    #[test]
    fn event_type_resets_after_dispatch_and_without_data() {
        let items = parse(b"event: a\n\ndata: x\n\n");
        assert_eq!(events(&items)[0].0, "message");
    }

    #[test]
    fn leading_bom_is_skipped_once() {
        let input = b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n";
        let items = parse(input);
        // The second BOM makes the field name unknown: that line is ignored.
        assert_eq!(datas(&items), vec!["a"]);
        assert_split_invariant(input);
        // A stream that starts with part of a BOM only.
        assert_eq!(datas(&parse(b"\xEF\xBBdata: z\n\n")), Vec::<String>::new());
        assert_eq!(datas(&parse(b"\xEFdata: z\n\n")), Vec::<String>::new());
        // Short streams are not swallowed while waiting for a BOM.
        let mut p = SseParser::new(64);
        assert!(p.push(b"da").is_empty());
        assert_eq!(datas(&p.push(b"ta: q\n\n")), vec!["q"]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_char() {
        let input = b"data: caf\xC3\xA9 \xFF\xFE ok\n\n";
        assert_eq!(datas(&parse(input)), vec!["café \u{FFFD}\u{FFFD} ok"]);
        assert_split_invariant(input);
        // A multi-byte character split across chunks survives.
        let mut p = SseParser::new(64);
        let mut got = p.push(b"data: \xE6\xAC");
        got.extend(p.push(b"\xA1\n\n"));
        assert_eq!(datas(&got), vec!["次"]);
    }

    #[test]
    fn incomplete_event_at_end_is_not_dispatched() {
        let mut p = SseParser::new(1024);
        let got = p.push(b"data: [{\"id\":\"q1\"}]\n\ndata: [{\"id\":\"q2\",\"te");
        assert_eq!(datas(&got), vec!["[{\"id\":\"q1\"}]"]);
        // Also a complete line without the blank line after it.
        let got = SseParser::new(1024).push(b"data: [1]\n");
        assert!(got.is_empty());
    }

    #[test]
    fn oversized_event_is_dropped_and_reported_once() {
        let mut p = SseParser::new(32);
        let big = format!(
            "data: {}\ndata: {}\n\ndata: ok\n\n",
            "x".repeat(20),
            "y".repeat(20)
        );
        let items = p.push(big.as_bytes());
        assert_eq!(
            items,
            vec![
                SseItem::Oversized,
                SseItem::Event(SseEvent {
                    event: "message".into(),
                    data: "ok".into(),
                    id: String::new(),
                })
            ]
        );
        // A single enormous line fed in small chunks never grows the buffer.
        let mut p = SseParser::new(32);
        let mut got = Vec::new();
        got.extend(p.push(b"data: "));
        for _ in 0..1000 {
            got.extend(p.push(b"zzzzzzzzzz"));
            assert!(p.line.len() <= 32);
        }
        got.extend(p.push(b"\n\ndata: fine\n\n"));
        assert_eq!(got[0], SseItem::Oversized);
        assert_eq!(datas(&got), vec!["fine"]);
    }

    #[test]
    fn comments_do_not_end_events_unless_asked() {
        let input = b"data: [1]\n:heartbeat 0\ndata: [2]\n\n";
        assert_eq!(datas(&parse(input)), vec!["[1]\n[2]"]);
        fn whole(d: &str) -> bool {
            d.starts_with('[') && d.ends_with(']') && !d.contains('\n')
        }
        let mut p = SseParser::new(1024).flush_on_comment(whole);
        let items = p.push(b"data: [1]\n:heartbeat 0\ndata: [2,\n:heartbeat 1\ndata: 3]\n\n");
        assert_eq!(
            items,
            vec![
                SseItem::Event(SseEvent {
                    event: "message".into(),
                    data: "[1]".into(),
                    id: String::new()
                }),
                SseItem::Comment("heartbeat 0".into()),
                SseItem::Comment("heartbeat 1".into()),
                SseItem::Event(SseEvent {
                    event: "message".into(),
                    data: "[2,\n3]".into(),
                    id: String::new()
                }),
            ]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_result() {
        assert_split_invariant(
            b"\xEF\xBB\xBF:heartbeat 0\r\n\r\nevent: e\rid: 9\r\ndata: [{\"a\":1},\r\ndata: {\"b\":\"\xC3\xA9\"}]\n\n:x\r\rretry: 10\n\n",
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
        let alphabet = b"data:event:id:retry: \r\n\xEF\xBB\xBF\xFF\x00[]{}\"x";
        for _ in 0..300 {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let mut p = SseParser::new(64);
            for piece in bytes.chunks(rng.random_range(1..8)) {
                for item in p.push(piece) {
                    if let SseItem::Event(e) = item {
                        assert!(e.data.len() <= 64);
                    }
                }
            }
        }
    }
}

//! The local export's formats: NDJSON (the machine format), one JSON
//! document, CSV for spreadsheets and a Markdown table. Audience text is
//! untrusted: each format escapes it its own way (CSV: RFC 4180 quoting and
//! no cell a spreadsheet would run as a formula; Markdown: no markup, no
//! HTML, no broken table).

use crate::domain::{Millis, Question};
use crate::ndjson::{self, Triage};
use serde_json::{Value, json};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Json,
    Csv,
    Markdown,
}

/// One confirmed action on a question, from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: Millis,
    pub action: String,
    pub actor: String,
}

/// One exported question.
#[derive(Debug, Clone)]
pub struct Row {
    pub source: String,
    pub q: Question,
    pub inflight: bool,
    pub triage: Triage,
    pub history: Vec<Step>,
}

impl Row {
    /// The machine-format `question` line, with `history`.
    fn line(&self) -> Value {
        let mut v = ndjson::question(&self.source, &self.q, self.inflight, &self.triage);
        v["history"] = self
            .history
            .iter()
            .map(|s| json!({ "at": ndjson::iso(s.at), "action": s.action, "actor": s.actor }))
            .collect();
        v
    }

    fn history_text(&self) -> String {
        self.history
            .iter()
            .map(|s| {
                let at = ndjson::iso(s.at);
                format!("{} {} ({})", at.as_str().unwrap_or("?"), s.action, s.actor)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What the export holds, for the JSON document's head and the Markdown
/// title.
pub struct Meta<'a> {
    pub sources: &'a [String],
    /// `all`, `answered` or `unanswered`.
    pub which: &'a str,
    pub at: Millis,
}

pub fn ndjson_lines(rows: &[Row]) -> Vec<u8> {
    let mut out = String::new();
    for r in rows {
        out.push_str(&r.line().to_string());
        out.push('\n');
    }
    out.into_bytes()
}

/// One JSON document: the head, then `questions` as the machine format's
/// lines (with `history`).
pub fn json_doc(meta: &Meta<'_>, rows: &[Row]) -> Vec<u8> {
    let doc = json!({
        "schema": ndjson::SCHEMA,
        "exported": ndjson::iso(meta.at),
        "sources": meta.sources,
        "what": meta.which,
        "count": rows.len(),
        "questions": rows.iter().map(Row::line).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

const COLUMNS: [&str; 15] = [
    "source",
    "id",
    "status",
    "on_air",
    "votes",
    "author",
    "text",
    "created",
    "updated",
    "starred",
    "labels",
    "group",
    "group_size",
    "held_by",
    "history",
];

/// A text cell a spreadsheet shows as text: one that starts like a
/// formula (`= + - @`, a tab or a carriage return) gets a leading `'`.
pub fn safe_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// RFC 4180 CSV (CRLF, text cells quoted, numbers bare) with a header
/// row; `bom` starts it with a UTF-8 byte order mark, so spreadsheets that
/// guess the encoding read it as UTF-8.
pub fn csv(rows: &[Row], bom: bool) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(out);
    w.write_record(COLUMNS)?;
    for r in rows {
        let t = &r.triage;
        let cells = [
            safe_cell(&r.source),
            safe_cell(&r.q.id),
            r.q.status.as_str().to_string(),
            r.q.on_air.to_string(),
            r.q.votes.to_string(),
            safe_cell(r.q.author.as_deref().unwrap_or("")),
            safe_cell(&r.q.text),
            iso_text(r.q.created),
            iso_text(r.q.updated),
            t.starred.to_string(),
            safe_cell(&t.labels.join(" ")),
            safe_cell(t.group.as_deref().unwrap_or("")),
            t.group_size.to_string(),
            safe_cell(t.held_by.as_deref().unwrap_or("")),
            safe_cell(&r.history_text()),
        ];
        w.write_record(&cells)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
}

fn iso_text(ms: Millis) -> String {
    ndjson::iso(ms).as_str().unwrap_or("").to_string()
}

/// Text for a Markdown table cell, shown as written: Markdown and HTML
/// punctuation escaped, `|` kept inside the cell, line breaks as `<br>`.
pub fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A Markdown document: a title line, when and what, then one table.
pub fn markdown(meta: &Meta<'_>, rows: &[Row]) -> Vec<u8> {
    let mut out = format!(
        "# Questions: {}\n\n{} question(s), {}, exported {}\n\n",
        md_cell(&meta.sources.join(", ")),
        rows.len(),
        meta.which,
        iso_text(meta.at)
    );
    out.push_str("| source | id | status | votes | author | question | created | ★ | labels | group | rule | history |\n");
    out.push_str("|---|---|---|--:|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let t = &r.triage;
        let status = match r.q.on_air {
            true => format!("{} (on air)", r.q.status.as_str()),
            false => r.q.status.as_str().to_string(),
        };
        let group = match &t.group {
            Some(g) => format!("{} ({})", md_cell(g), t.group_size),
            None => String::new(),
        };
        let cells = [
            md_cell(&r.source),
            md_cell(&r.q.id),
            status,
            r.q.votes.to_string(),
            md_cell(r.q.author.as_deref().unwrap_or("")),
            md_cell(&r.q.text),
            iso_text(r.q.created),
            if t.starred {
                "★".into()
            } else {
                String::new()
            },
            md_cell(
                &t.labels
                    .iter()
                    .map(|l| format!("#{l}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            group,
            md_cell(t.held_by.as_deref().unwrap_or("")),
            md_cell(&r.history_text()),
        ];
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MyVote, SourceId, Status};

    fn row(text: &str, author: Option<&str>) -> Row {
        Row {
            source: "keynote".into(),
            q: Question {
                source: SourceId(0),
                id: "q1".into(),
                text: text.into(),
                author: author.map(Into::into),
                votes: -2,
                my_vote: MyVote::None,
                status: Status::Answered,
                on_air: false,
                created: 0,
                updated: 1000,
            },
            inflight: false,
            triage: Triage {
                starred: true,
                labels: vec!["press".into()],
                ..Triage::default()
            },
            history: vec![Step {
                at: 500,
                action: "mark answered".into(),
                actor: "alex".into(),
            }],
        }
    }

    #[test]
    fn formula_cells_become_text() {
        for bad in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(safe_cell(bad), format!("'{bad}"));
        }
        assert_eq!(safe_cell("What is =?"), "What is =?");
        assert_eq!(safe_cell(""), "");
    }

    #[test]
    fn csv_quotes_text_guards_formulas_and_keeps_numbers() {
        let rows = [row("=HYPERLINK(\"http://x\")\nsecond line", Some("@bob"))];
        let out = String::from_utf8(csv(&rows, false).unwrap()).unwrap();
        let mut lines = out.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            "\"source\",\"id\",\"status\",\"on_air\",\"votes\",\"author\",\"text\",\"created\",\"updated\",\"starred\",\"labels\",\"group\",\"group_size\",\"held_by\",\"history\""
        );
        assert!(
            out.contains(
                "\"keynote\",\"q1\",\"answered\",\"false\",-2,\"'@bob\",\"'=HYPERLINK(\"\"http://x\"\")\nsecond line\""
            ),
            "{out}"
        );
        assert!(out.contains(",1,\"\",\"1970-01-01T00:00:00.500Z mark answered (alex)\"\r\n"));
        // It reads back as written, cell by cell.
        let mut r = ::csv::Reader::from_reader(out.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[6], "'=HYPERLINK(\"http://x\")\nsecond line");
        assert_eq!(&rec[10], "press");
    }

    #[test]
    fn csv_bom_only_when_asked() {
        let rows = [row("hi", None)];
        let with = csv(&rows, true).unwrap();
        assert_eq!(&with[..3], b"\xef\xbb\xbf");
        assert_eq!(&with[3..], &csv(&rows, false).unwrap()[..]);
        assert!(!csv(&rows, false).unwrap().starts_with(b"\xef\xbb\xbf"));
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_inject_markup() {
        assert_eq!(md_cell("a | b\nc"), "a \\| b<br>c");
        assert_eq!(
            md_cell("<script>*x*</script> [l](u)"),
            "\\<script\\>\\*x\\*\\</script\\> \\[l\\](u)"
        );
        let meta = Meta {
            sources: &["keynote".to_string()],
            which: "all",
            at: 0,
        };
        let out = String::from_utf8(markdown(&meta, &[row("one | two\nthree", None)])).unwrap();
        let last = out.lines().last().unwrap();
        assert_eq!(last.matches(" | ").count(), 11, "{last}");
        assert!(last.contains("one \\| two<br>three"), "{last}");
        assert!(last.contains("| ★ | #press |"), "{last}");
    }

    #[test]
    fn json_document_holds_the_lines_with_history() {
        let meta = Meta {
            sources: &["keynote".to_string()],
            which: "answered",
            at: 0,
        };
        let doc: Value = serde_json::from_slice(&json_doc(&meta, &[row("hi", None)])).unwrap();
        assert_eq!(doc["count"], 1);
        assert_eq!(doc["what"], "answered");
        let q = &doc["questions"][0];
        assert_eq!(q["starred"], true);
        assert_eq!(q["labels"], json!(["press"]));
        assert_eq!(q["history"][0]["action"], "mark answered");
    }
}

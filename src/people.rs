//! Participants across providers: the bulk import (`people import FILE.csv`),
//! the NDJSON shape of `people list --json`, and the polling feed that the
//! participant platforms share.
//!
//! The CSV has a header row naming at least `name` and `email`; `role`
//! (`participant` or `moderator`, any case; empty means participant) and
//! these optional columns are read when present: `external_key` (also
//! `externalKey`, `external key`, `external-key`), `notify` (yes/no,
//! true/false, 1/0; default no: a bulk import sends no platform e-mails
//! unless asked), `one_time_link` (same values) and `link_lifetime_min`
//! (whole minutes). Header names are matched without case and surrounding
//! spaces; other columns are ignored. Every data line ends up in the result:
//! a valid row, or an invalid one with its line number and reason (empty
//! lines are skipped). A row with more fields than the header is invalid (an
//! unquoted comma in a name would otherwise shift the e-mail).
//!
//! The import is idempotent: it lists the participants first and skips a row
//! whose e-mail (compared without case) or external key already exists, and
//! a row repeating an earlier row of the same file. Rows are added one at a
//! time with `Op::AddParticipant`; a 429 waits the platform's `Retry-After`
//! and retries the same row; a server or network error first checks whether
//! the participant arrived anyway (the add may have happened before the
//! answer was lost) and only then retries, so no retry ever duplicates.
//! Authentication, permission and "not found" errors stop the import: the
//! rows not attempted are reported as such.

use crate::domain::{Op, Outcome, Participant, ParticipantDraft, ProviderError, Role, valid_email};
use crate::provider::Provider;
use crate::provider::http::Backoff;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// One data line of the CSV: a participant to add, or why it cannot be.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based line in the file where the record starts.
    pub line: u64,
    pub draft: Result<ParticipantDraft, String>,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowStatus {
    /// Added; the platform's id.
    Added { id: String },
    /// Already on the platform (same e-mail or external key).
    Exists { id: String },
    /// Repeats an earlier line of the same file.
    Duplicate { line: u64 },
    /// The row itself is wrong (reported, not sent).
    Invalid { reason: String },
    /// The platform refused it or could not be reached.
    Failed { error: String },
    /// Not attempted because the import stopped earlier.
    Skipped { reason: String },
}

impl RowStatus {
    pub fn kind(&self) -> &'static str {
        match self {
            RowStatus::Added { .. } => "added",
            RowStatus::Exists { .. } => "exists",
            RowStatus::Duplicate { .. } => "duplicate",
            RowStatus::Invalid { .. } => "invalid",
            RowStatus::Failed { .. } => "failed",
            RowStatus::Skipped { .. } => "skipped",
        }
    }
}

/// The outcome of one CSV line.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOutcome {
    pub line: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub status: RowStatus,
    /// Calls made for this row beyond the first (429s and retries).
    pub retries: u32,
}

impl RowOutcome {
    /// `{"type":"import_row", "line", "status", ...}` for `--json`.
    pub fn json(&self) -> Value {
        let mut v = json!({
            "type": "import_row",
            "line": self.line,
            "status": self.status.kind(),
            "name": self.name,
            "email": self.email,
            "retries": self.retries,
        });
        let extra = match &self.status {
            RowStatus::Added { id } | RowStatus::Exists { id } => ("id", json!(id)),
            RowStatus::Duplicate { line } => ("first_line", json!(line)),
            RowStatus::Invalid { reason } | RowStatus::Skipped { reason } => {
                ("reason", json!(reason))
            }
            RowStatus::Failed { error } => ("error", json!(error)),
        };
        v[extra.0] = extra.1;
        v
    }
}

impl std::fmt::Display for RowOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self.email.as_deref().or(self.name.as_deref()).unwrap_or("");
        write!(f, "line {}: ", self.line)?;
        match &self.status {
            RowStatus::Added { id } => write!(f, "added {who} ({id})"),
            RowStatus::Exists { id } => write!(f, "{who} already there ({id}), skipped"),
            RowStatus::Duplicate { line } => write!(f, "{who} repeats line {line}, skipped"),
            RowStatus::Invalid { reason } => write!(f, "invalid: {reason}"),
            RowStatus::Failed { error } => write!(f, "{who} failed: {error}"),
            RowStatus::Skipped { reason } => write!(f, "{who} not attempted: {reason}"),
        }
    }
}

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub added: usize,
    pub exists: usize,
    pub duplicate: usize,
    pub invalid: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn of(outcomes: &[RowOutcome]) -> Summary {
        let mut s = Summary::default();
        for o in outcomes {
            match o.status {
                RowStatus::Added { .. } => s.added += 1,
                RowStatus::Exists { .. } => s.exists += 1,
                RowStatus::Duplicate { .. } => s.duplicate += 1,
                RowStatus::Invalid { .. } => s.invalid += 1,
                RowStatus::Failed { .. } => s.failed += 1,
                RowStatus::Skipped { .. } => s.skipped += 1,
            }
        }
        s
    }

    /// Whether every row is on the platform or was a duplicate line.
    pub fn all_ok(&self) -> bool {
        self.invalid + self.failed + self.skipped == 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} added, {} already there, {} repeated, {} invalid, {} failed, {} not attempted",
            self.added, self.exists, self.duplicate, self.invalid, self.failed, self.skipped
        )
    }
}

/// How fast and how stubbornly the import goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    /// Extra ceiling on rows a second, on top of the provider's own pacing
    /// (STREAMBOXY paces itself at its documented limit). `None`: no extra.
    pub rows_per_sec: Option<f64>,
    /// Attempts per row after the first (429s, network and server errors).
    pub max_retries: u32,
    /// Longest single wait for a `Retry-After`.
    pub max_wait: Duration,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            rows_per_sec: None,
            max_retries: 8,
            max_wait: Duration::from_secs(120),
        }
    }
}

fn norm_email(e: &str) -> String {
    e.trim().to_lowercase()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Some(false),
        "yes" | "y" | "true" | "1" => Some(true),
        _ => None,
    }
}

/// Columns the import understands.
struct Columns {
    name: usize,
    email: usize,
    role: Option<usize>,
    external_key: Option<usize>,
    notify: Option<usize>,
    one_time_link: Option<usize>,
    link_lifetime_min: Option<usize>,
    width: usize,
}

impl Columns {
    fn from_header(header: &[String]) -> Result<Columns, String> {
        let find = |names: &[&str]| {
            header.iter().position(|h| {
                let h = h
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_lowercase();
                names.contains(&h.as_str())
            })
        };
        let name = find(&["name"]);
        let email = find(&["email", "e-mail"]);
        match (name, email) {
            (Some(name), Some(email)) => Ok(Columns {
                name,
                email,
                role: find(&["role"]),
                external_key: find(&[
                    "external_key",
                    "externalkey",
                    "external key",
                    "external-key",
                ]),
                notify: find(&["notify"]),
                one_time_link: find(&["one_time_link", "one-time link", "one_time", "onetime"]),
                link_lifetime_min: find(&["link_lifetime_min", "link_lifetime", "timeout_min"]),
                width: header.len(),
            }),
            _ => Err(format!(
                "line 1: the header must name the columns name,email[,role] (found: {})",
                header.join(",")
            )),
        }
    }

    fn row(&self, fields: &[String]) -> Result<ParticipantDraft, String> {
        if fields.len() > self.width {
            return Err(format!(
                "{} fields but the header has {} (quote names that contain commas)",
                fields.len(),
                self.width
            ));
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .unwrap_or("")
        };
        let name = get(Some(self.name));
        let email = get(Some(self.email));
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        if !crate::text::is_terminal_safe(name) || name.contains('\n') {
            return Err("the name contains control characters".into());
        }
        if email.is_empty() {
            return Err("the e-mail is empty".into());
        }
        if !valid_email(email) {
            return Err(format!(
                "`{}` is not an e-mail address",
                crate::text::sanitize(email)
            ));
        }
        let role = match get(self.role).to_ascii_lowercase().as_str() {
            "" | "participant" => Role::Participant,
            "moderator" => Role::Moderator,
            other => {
                return Err(format!(
                    "role `{}` is neither participant nor moderator",
                    crate::text::sanitize(other)
                ));
            }
        };
        let flag = |i: Option<usize>, what: &str| {
            parse_bool(get(i)).ok_or_else(|| format!("{what} must be yes or no"))
        };
        let lifetime = match get(self.link_lifetime_min) {
            "" => None,
            s => Some(s.parse::<u32>().ok().filter(|m| *m > 0).ok_or_else(|| {
                format!(
                    "link_lifetime_min `{}` is not a whole number of minutes",
                    crate::text::sanitize(s)
                )
            })?),
        };
        let key = get(self.external_key);
        Ok(ParticipantDraft {
            name: name.to_string(),
            email: Some(email.to_string()),
            role,
            notify: flag(self.notify, "notify")?,
            one_time_link: flag(self.one_time_link, "one_time_link")?,
            link_lifetime_min: lifetime,
            external_key: (!key.is_empty()).then(|| key.to_string()),
        })
    }
}

/// Parses the CSV. `Err` only when there is no usable header; every data
/// line is returned as a valid or an invalid row.
pub fn parse_csv(data: &[u8]) -> Result<Vec<ImportRow>, String> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut records = reader.byte_records();
    let header = loop {
        match records.next() {
            None => return Err("the file is empty: it needs a header row name,email,role".into()),
            Some(Err(e)) => return Err(format!("cannot read the header: {e}")),
            Some(Ok(r)) => {
                let fields: Vec<String> = r
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                if fields.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                break fields;
            }
        }
    };
    let cols = Columns::from_header(&header)?;
    let mut rows = Vec::new();
    for rec in records {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| start_line(data, p));
                let fields: Result<Vec<String>, _> =
                    r.iter().map(|f| String::from_utf8(f.to_vec())).collect();
                let draft = match fields {
                    Err(_) => Err("not valid UTF-8 (save the file as UTF-8)".into()),
                    Ok(f) if f.iter().all(|x| x.trim().is_empty()) => continue,
                    Ok(f) => cols.row(&f),
                };
                rows.push(ImportRow { line, draft });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| start_line(data, p));
                rows.push(ImportRow {
                    line,
                    draft: Err(format!("unreadable: {e}")),
                });
            }
        }
    }
    Ok(rows)
}

/// The line a record really starts on: the reader reports the position of
/// the blank lines it skipped before it.
fn start_line(data: &[u8], pos: &csv::Position) -> u64 {
    let mut line = pos.line();
    let mut i = pos.byte() as usize;
    while let Some(&b) = data.get(i) {
        match b {
            b'\n' => line += 1,
            b'\r' if data.get(i + 1) != Some(&b'\n') => line += 1,
            b'\r' => {}
            _ => break,
        }
        i += 1;
    }
    line
}

/// Imports the rows; see the module doc. One outcome per row, in order.
pub async fn import(provider: &dyn Provider, rows: &[ImportRow], pace: &Pace) -> Vec<RowOutcome> {
    import_with(provider, rows, pace, &mut |_| {}).await
}

/// [`import`] that also reports each outcome as soon as it is known.
pub async fn import_with(
    provider: &dyn Provider,
    rows: &[ImportRow],
    pace: &Pace,
    on_row: &mut (dyn FnMut(&RowOutcome) + Send),
) -> Vec<RowOutcome> {
    let mut out = Vec::with_capacity(rows.len());
    let mut emit = |o: RowOutcome, out: &mut Vec<RowOutcome>| {
        on_row(&o);
        out.push(o);
    };
    let existing = match list_with_retry(provider, pace).await {
        Ok(list) => list,
        Err(e) => {
            let reason = format!("could not list the existing participants: {e}");
            for r in rows {
                let status = match &r.draft {
                    Err(reason) => RowStatus::Invalid {
                        reason: reason.clone(),
                    },
                    Ok(_) => RowStatus::Skipped {
                        reason: reason.clone(),
                    },
                };
                emit(outcome(r, status, 0), &mut out);
            }
            return out;
        }
    };
    let mut by_email: HashMap<String, String> = HashMap::new();
    let mut by_key: HashMap<String, String> = HashMap::new();
    for p in &existing {
        remember(&mut by_email, &mut by_key, p);
    }
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_key: HashMap<String, u64> = HashMap::new();
    let mut stopped: Option<String> = None;
    let mut last_add: Option<tokio::time::Instant> = None;
    for r in rows {
        let d = match &r.draft {
            Err(reason) => {
                emit(
                    outcome(
                        r,
                        RowStatus::Invalid {
                            reason: reason.clone(),
                        },
                        0,
                    ),
                    &mut out,
                );
                continue;
            }
            Ok(d) => d,
        };
        let email = d.email.as_deref().map(norm_email);
        let key = d.external_key.as_deref().map(|k| k.trim().to_string());
        if let Some(first) = email
            .as_ref()
            .and_then(|e| seen_email.get(e))
            .or_else(|| key.as_ref().and_then(|k| seen_key.get(k)))
        {
            emit(
                outcome(r, RowStatus::Duplicate { line: *first }, 0),
                &mut out,
            );
            continue;
        }
        if let Some(e) = &email {
            seen_email.insert(e.clone(), r.line);
        }
        if let Some(k) = &key {
            seen_key.insert(k.clone(), r.line);
        }
        if let Some(id) = email
            .as_ref()
            .and_then(|e| by_email.get(e))
            .or_else(|| key.as_ref().and_then(|k| by_key.get(k)))
        {
            emit(
                outcome(r, RowStatus::Exists { id: id.clone() }, 0),
                &mut out,
            );
            continue;
        }
        if let Some(reason) = &stopped {
            emit(
                outcome(
                    r,
                    RowStatus::Skipped {
                        reason: reason.clone(),
                    },
                    0,
                ),
                &mut out,
            );
            continue;
        }
        if let Some(rate) = pace.rows_per_sec.filter(|r| *r > 0.0 && r.is_finite()) {
            let gap = Duration::from_secs_f64(1.0 / rate);
            if let Some(at) = last_add {
                tokio::time::sleep_until(at + gap).await;
            }
        }
        last_add = Some(tokio::time::Instant::now());
        let (status, retries, stop) = add_one(provider, d, pace).await;
        match &status {
            RowStatus::Added { id } => {
                if let Some(e) = &email {
                    by_email.insert(e.clone(), id.clone());
                }
                if let Some(k) = &key {
                    by_key.insert(k.clone(), id.clone());
                }
            }
            RowStatus::Failed { error } if stop => {
                stopped = Some(format!("stopped after line {}: {error}", r.line));
            }
            _ => {}
        }
        emit(outcome(r, status, retries), &mut out);
    }
    out
}

fn outcome(r: &ImportRow, status: RowStatus, retries: u32) -> RowOutcome {
    let d = r.draft.as_ref().ok();
    RowOutcome {
        line: r.line,
        name: d.map(|d| d.name.clone()),
        email: d.and_then(|d| d.email.clone()),
        status,
        retries,
    }
}

fn remember(
    by_email: &mut HashMap<String, String>,
    by_key: &mut HashMap<String, String>,
    p: &Participant,
) {
    if let Some(e) = p.email.as_deref().filter(|e| !e.trim().is_empty()) {
        by_email.insert(norm_email(e), p.id.clone());
    }
    if let Some(k) = p.external_key.as_deref().filter(|k| !k.trim().is_empty()) {
        by_key.insert(k.trim().to_string(), p.id.clone());
    }
}

/// The wait before retrying after `e`, or `None` when `e` is not worth it.
fn retry_wait(e: &ProviderError, backoff: &mut Backoff, pace: &Pace) -> Option<Duration> {
    match e {
        ProviderError::RateLimited { retry_after_ms } => {
            Some(Duration::from_millis((*retry_after_ms).max(50)).min(pace.max_wait))
        }
        ProviderError::Server(_) | ProviderError::Network(_) => {
            Some(backoff.next_delay().max(Duration::from_millis(100)))
        }
        _ => None,
    }
}

async fn list_with_retry(
    provider: &dyn Provider,
    pace: &Pace,
) -> Result<Vec<Participant>, ProviderError> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let mut tries = 0;
    loop {
        match provider.list_participants().await {
            Ok(list) => return Ok(list),
            Err(e) => {
                tries += 1;
                match retry_wait(&e, &mut backoff, pace) {
                    Some(wait) if tries <= pace.max_retries => tokio::time::sleep(wait).await,
                    _ => return Err(e),
                }
            }
        }
    }
}

/// Adds one participant: the status, the retries, and whether the error
/// stops the whole import.
async fn add_one(
    provider: &dyn Provider,
    d: &ParticipantDraft,
    pace: &Pace,
) -> (RowStatus, u32, bool) {
    let op = Op::AddParticipant { draft: d.clone() };
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let mut retries = 0;
    loop {
        let err = match provider.perform(&op).await {
            Ok(Outcome::Participant(p)) => return (RowStatus::Added { id: p.id }, retries, false),
            Ok(other) => {
                return (
                    RowStatus::Failed {
                        error: format!("unexpected answer: {other:?}"),
                    },
                    retries,
                    false,
                );
            }
            Err(e) => e,
        };
        let wait = retry_wait(&err, &mut backoff, pace);
        match (&err, wait) {
            (_, Some(wait)) if retries < pace.max_retries => {
                tracing::info!(error = %err, wait_ms = wait.as_millis() as u64, "import: retrying row");
                tokio::time::sleep(wait).await;
                retries += 1;
                // A lost answer may hide a done add: look before adding again.
                if !matches!(err, ProviderError::RateLimited { .. })
                    && let Some(id) = find_existing(provider, d).await
                {
                    return (RowStatus::Added { id }, retries, false);
                }
            }
            (
                ProviderError::Auth(_)
                | ProviderError::Forbidden(_)
                | ProviderError::NotFound(_)
                | ProviderError::Unsupported(_),
                _,
            ) => {
                return (
                    RowStatus::Failed {
                        error: err.to_string(),
                    },
                    retries,
                    true,
                );
            }
            _ => {
                return (
                    RowStatus::Failed {
                        error: err.to_string(),
                    },
                    retries,
                    false,
                );
            }
        }
    }
}

async fn find_existing(provider: &dyn Provider, d: &ParticipantDraft) -> Option<String> {
    let list = provider.list_participants().await.ok()?;
    let email = d.email.as_deref().map(norm_email);
    let key = d.external_key.as_deref().map(str::trim);
    list.into_iter()
        .find(|p| {
            (email.is_some() && p.email.as_deref().map(norm_email) == email)
                || (key.is_some() && p.external_key.as_deref().map(str::trim) == key)
        })
        .map(|p| p.id)
}

/// One participant as a `people list --json` line.
pub fn participant_json(p: &Participant, source_name: &str) -> Value {
    json!({
        "type": "participant",
        "source": source_name,
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "role": match p.role {
            Role::Participant => "participant",
            Role::Moderator => "moderator",
        },
        "link": p.link,
        "version": p.version,
        "external_key": p.external_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_roles_and_extras() {
        let csv = "\u{feff}Name, E-Mail ,Role,Company,external_key\n\
                   Ada,ada@example.com,Moderator,ACME,crm-1\n\
                   \n\
                   \"Doe, John\",john@example.com,,X,\n\
                   Bad,not-an-email,participant,,\n\
                   Eve,eve@example.com,admin,,\n\
                   Too,many@example.com,participant,a,b,c\n\
                   ,,,,\n\
                   \"Multi\nLine\",ml@example.com,,,\n\
                   Last,last@example.com\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 4, 5, 6, 7, 9, 11]);
        let ada = rows[0].draft.as_ref().unwrap();
        assert_eq!(
            (ada.role, ada.external_key.as_deref()),
            (Role::Moderator, Some("crm-1"))
        );
        assert!(!ada.notify);
        assert_eq!(rows[1].draft.as_ref().unwrap().name, "Doe, John");
        assert!(
            rows[2]
                .draft
                .as_ref()
                .unwrap_err()
                .contains("not an e-mail")
        );
        assert!(rows[3].draft.as_ref().unwrap_err().contains("neither"));
        assert!(rows[4].draft.as_ref().unwrap_err().contains("6 fields"));
        assert!(rows[5].draft.as_ref().unwrap_err().contains("control"));
        assert_eq!(rows[6].draft.as_ref().unwrap().role, Role::Participant);
    }

    #[test]
    fn header_must_name_name_and_email() {
        assert!(parse_csv(b"name,mail\n").unwrap_err().contains("header"));
        assert!(parse_csv(b"").is_err());
        assert_eq!(parse_csv(b"name,email\n").unwrap(), vec![]);
    }

    #[test]
    fn not_utf8_is_reported() {
        let rows = parse_csv(b"name,email\nJos\xe9,j@x.org\n").unwrap();
        assert!(rows[0].draft.as_ref().unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn participant_json_shape() {
        let p = Participant {
            source: crate::domain::SourceId(0),
            id: "u1".into(),
            name: "Ada".into(),
            email: Some("a@b.c".into()),
            role: Role::Moderator,
            link: None,
            version: Some("v1".into()),
            external_key: None,
        };
        let v = participant_json(&p, "sbx");
        assert_eq!(v["type"], "participant");
        assert_eq!(v["source"], "sbx");
        assert_eq!(v["role"], "moderator");
        assert_eq!(v["version"], "v1");
    }
}

//! The participant CSV of `people import`.
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

use crate::domain::{ParticipantDraft, Role, valid_email};
use crate::text::sanitize;

/// One data line of the CSV: a participant to add, or why it cannot be.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based line in the file where the record starts.
    pub line: u64,
    pub draft: Result<ParticipantDraft, RowError>,
}

/// Why the file as a whole cannot be imported (no usable header).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty: it needs a header row name,email,role")]
    Empty,
    #[error("cannot read the header: {0}")]
    Header(::csv::Error),
    #[error("line 1: the header must name the columns name,email[,role] (found: {found})")]
    Columns { found: String },
}

/// Why one data line is not a participant. Values quoted in the message are
/// sanitized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("{found} fields but the header has {width} (quote names that contain commas)")]
    TooManyFields { found: usize, width: usize },
    #[error("the name is empty")]
    EmptyName,
    #[error("the name contains control characters")]
    ControlInName,
    #[error("the e-mail is empty")]
    EmptyEmail,
    #[error("`{0}` is not an e-mail address")]
    BadEmail(String),
    #[error("role `{0}` is neither participant nor moderator")]
    BadRole(String),
    /// A yes/no column holds something else; the column's name.
    #[error("{0} must be yes or no")]
    NotYesNo(&'static str),
    #[error("link_lifetime_min `{0}` is not a whole number of minutes")]
    BadLifetime(String),
    #[error("not valid UTF-8 (save the file as UTF-8)")]
    NotUtf8,
    /// The CSV reader's own complaint.
    #[error("unreadable: {0}")]
    Unreadable(String),
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
    fn from_header(header: &[String]) -> Result<Columns, CsvError> {
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
            _ => Err(CsvError::Columns {
                found: header.join(","),
            }),
        }
    }

    fn row(&self, fields: &[String]) -> Result<ParticipantDraft, RowError> {
        if fields.len() > self.width {
            return Err(RowError::TooManyFields {
                found: fields.len(),
                width: self.width,
            });
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .unwrap_or("")
        };
        let name = get(Some(self.name));
        let email = get(Some(self.email));
        if name.is_empty() {
            return Err(RowError::EmptyName);
        }
        if !crate::text::is_terminal_safe(name) || name.contains('\n') {
            return Err(RowError::ControlInName);
        }
        if email.is_empty() {
            return Err(RowError::EmptyEmail);
        }
        if !valid_email(email) {
            return Err(RowError::BadEmail(sanitize(email)));
        }
        let role = match get(self.role).to_ascii_lowercase().as_str() {
            "" | "participant" => Role::Participant,
            "moderator" => Role::Moderator,
            "speaker" => Role::Speaker,
            other => return Err(RowError::BadRole(sanitize(other))),
        };
        let flag = |i: Option<usize>, what: &'static str| {
            parse_bool(get(i)).ok_or(RowError::NotYesNo(what))
        };
        let lifetime = match get(self.link_lifetime_min) {
            "" => None,
            s => Some(
                s.parse::<u32>()
                    .ok()
                    .filter(|m| *m > 0)
                    .ok_or_else(|| RowError::BadLifetime(sanitize(s)))?,
            ),
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
pub fn parse_csv(data: &[u8]) -> Result<Vec<ImportRow>, CsvError> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut records = reader.byte_records();
    let header = loop {
        match records.next() {
            None => return Err(CsvError::Empty),
            Some(Err(e)) => return Err(CsvError::Header(e)),
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
                    Err(_) => Err(RowError::NotUtf8),
                    Ok(f) if f.iter().all(|x| x.trim().is_empty()) => continue,
                    Ok(f) => cols.row(&f),
                };
                rows.push(ImportRow { line, draft });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| start_line(data, p));
                rows.push(ImportRow {
                    line,
                    draft: Err(RowError::Unreadable(e.to_string())),
                });
            }
        }
    }
    Ok(rows)
}

/// The line a record really starts on: the reader reports the position of
/// the blank lines it skipped before it.
fn start_line(data: &[u8], pos: &::csv::Position) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(row: &ImportRow) -> String {
        row.draft.as_ref().unwrap_err().to_string()
    }

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
            (ada.role.clone(), ada.external_key.as_deref()),
            (Role::Moderator, Some("crm-1"))
        );
        assert!(!ada.notify);
        assert_eq!(rows[1].draft.as_ref().unwrap().name, "Doe, John");
        assert!(reason(&rows[2]).contains("not an e-mail"));
        assert!(reason(&rows[3]).contains("neither"));
        assert!(reason(&rows[4]).contains("6 fields"));
        assert!(reason(&rows[5]).contains("control"));
        assert_eq!(rows[6].draft.as_ref().unwrap().role, Role::Participant);
    }

    #[test]
    fn header_must_name_name_and_email() {
        assert!(
            parse_csv(b"name,mail\n")
                .unwrap_err()
                .to_string()
                .contains("header")
        );
        assert!(parse_csv(b"").is_err());
        assert_eq!(parse_csv(b"name,email\n").unwrap(), vec![]);
    }

    #[test]
    fn not_utf8_is_reported() {
        let rows = parse_csv(b"name,email\nJos\xe9,j@x.org\n").unwrap();
        assert!(reason(&rows[0]).contains("UTF-8"));
    }
}

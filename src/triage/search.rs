//! The search language of `/` and `[searches]`: plain words (all must
//! match), `"quoted phrases"`, `-word`, and terms such as `state:selected`,
//! `votes>5`, `age<10m`, `is:starred`. Parsed once into a [`Query`] when
//! the search is set; matching a question then costs a few comparisons
//! over [`Facts`] the caller gathers.

use super::fold::fold;
use crate::domain::{Millis, Status};
use std::cell::OnceCell;

/// A parsed search: every condition must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    conds: Vec<(bool, Cond)>,
}

/// One condition (the `bool` beside it in [`Query`] negates it).
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    /// A folded word or phrase in the text or the author's name.
    Text(String),
    State(Status),
    OnAir,
    Source(String),
    Author(String),
    Votes(Cmp, i64),
    Age(Cmp, Millis),
    Link,
    Starred,
    Held,
    Dup,
    Label(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Cmp {
    fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
        }
    }
}

/// What the caller knows about one question.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub text: &'a str,
    pub author: Option<&'a str>,
    /// The `[[source]]` name.
    pub source: &'a str,
    pub status: Status,
    pub on_air: bool,
    pub votes: i64,
    /// Milliseconds since it was asked.
    pub age_ms: Millis,
    pub starred: bool,
    pub held: bool,
    pub dup: bool,
    pub labels: &'a [String],
}

/// A search kept in the config (`[searches]`), on a number key.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSearch {
    /// Its key in `[searches]`, shown in the header while it filters.
    pub name: String,
    pub text: String,
    pub query: Query,
}

/// How many saved searches have a number key (1–9).
pub const SAVED_KEYS: usize = 9;

const TERMS: &str = "state, source, author, votes, age, has, is, label";

/// Parses a search; the error says what is wrong, for under the input.
pub fn parse(text: &str) -> Result<Query, String> {
    let mut conds = Vec::new();
    for token in tokens(text)? {
        if token.text.is_empty() {
            continue;
        }
        let cond = if token.phrase {
            Cond::Text(fold(&token.text))
        } else {
            term(&token.text)?
        };
        conds.push((token.negated, cond));
    }
    Ok(Query { conds })
}

struct Token {
    negated: bool,
    text: String,
    /// Began with a quote: the whole token is text to find.
    phrase: bool,
}

/// Splits at spaces outside quotes; `-` in front negates.
fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        let negated = first == '-';
        if negated {
            chars.next();
        }
        let phrase = chars.peek() == Some(&'"');
        let mut word = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next_if(|c| quoted || !c.is_whitespace()) {
            if c == '"' {
                quoted = !quoted;
            } else {
                word.push(c);
            }
        }
        if quoted {
            return Err("a quote is not closed".into());
        }
        out.push(Token {
            negated,
            text: word,
            phrase,
        });
    }
}

fn term(token: &str) -> Result<Cond, String> {
    for (name, unit) in [("votes", false), ("age", true)] {
        if let Some(rest) = token.strip_prefix(name)
            && let Some((cmp, value)) = comparison(rest)
        {
            return if unit {
                age(cmp, value)
            } else {
                value
                    .parse()
                    .map(|n| Cond::Votes(cmp, n))
                    .map_err(|_| format!("`votes` takes a number: votes>5, not `{token}`"))
            };
        }
    }
    let Some((key, value)) = token
        .split_once(':')
        .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()))
    else {
        return Ok(Cond::Text(fold(token)));
    };
    let key = key.to_ascii_lowercase();
    let lower = value.to_lowercase();
    let needs_value = || format!("`{key}:` needs a value: {key}:…");
    match key.as_str() {
        "state" | "status" => match lower.as_str() {
            "on-air" | "onair" | "on_air" => Ok(Cond::OnAir),
            s => Status::parse(s).map(Cond::State).ok_or_else(|| {
                format!(
                    "`state:` takes pending, selected, answered, rejected or on-air, not `{value}`"
                )
            }),
        },
        "source" | "author" | "label" if value.trim().is_empty() => Err(needs_value()),
        "source" => Ok(Cond::Source(fold(value))),
        "author" => Ok(Cond::Author(fold(value))),
        "label" => Ok(Cond::Label(fold(value))),
        "is" => match lower.as_str() {
            "starred" | "star" => Ok(Cond::Starred),
            "held" => Ok(Cond::Held),
            "dup" | "duplicate" => Ok(Cond::Dup),
            _ => Err(format!("`is:` takes starred, held or dup, not `{value}`")),
        },
        "has" => match lower.as_str() {
            "link" | "url" => Ok(Cond::Link),
            _ => Err(format!("`has:` takes link, not `{value}`")),
        },
        _ => Err(format!(
            "unknown term `{key}:` — terms are {TERMS} (quote it to search the text)"
        )),
    }
}

/// `>5` → (Gt, "5"); `:5` and `=5` are equality.
fn comparison(rest: &str) -> Option<(Cmp, &str)> {
    [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
        (":", Cmp::Eq),
    ]
    .into_iter()
    .find_map(|(op, cmp)| rest.strip_prefix(op).map(|v| (cmp, v)))
}

fn age(cmp: Cmp, value: &str) -> Result<Cond, String> {
    let bad = || format!("`age` takes a number and a unit (s, m, h, d): age<10m, not `{value}`");
    if cmp == Cmp::Eq {
        return Err("`age` compares with < or > (age<10m, age>=1h)".into());
    }
    let split = value.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = value.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    Ok(Cond::Age(cmp, n.saturating_mul(ms)))
}

impl Query {
    pub fn is_empty(&self) -> bool {
        self.conds.is_empty()
    }

    /// Whether it asks about stars, labels, holds or groups (the caller
    /// can skip looking those up otherwise).
    pub fn uses_marks(&self) -> bool {
        self.conds
            .iter()
            .any(|(_, c)| matches!(c, Cond::Starred | Cond::Held | Cond::Dup | Cond::Label(_)))
    }

    /// Whether the question the facts describe passes every condition.
    pub fn matches(&self, f: &Facts) -> bool {
        let text = OnceCell::new();
        let author = OnceCell::new();
        self.conds.iter().all(|(negated, cond)| {
            let hit = match cond {
                Cond::Text(needle) => {
                    contains(f.text, needle, &text)
                        || f.author.is_some_and(|a| contains(a, needle, &author))
                }
                Cond::State(s) => f.status == *s,
                Cond::OnAir => f.on_air,
                Cond::Source(name) => fold(f.source) == *name,
                Cond::Author(name) => f.author.is_some_and(|a| contains(a, name, &author)),
                Cond::Votes(cmp, n) => cmp.holds(f.votes, *n),
                Cond::Age(cmp, ms) => cmp.holds(f.age_ms, *ms),
                Cond::Link => ["http://", "https://", "www."]
                    .iter()
                    .any(|l| contains(f.text, l, &text)),
                Cond::Starred => f.starred,
                Cond::Held => f.held,
                Cond::Dup => f.dup,
                Cond::Label(l) => f.labels.iter().any(|x| fold(x) == *l),
            };
            hit != *negated
        })
    }
}

/// Whether `hay` holds the folded `needle`. ASCII text is compared as it
/// is (folding ASCII only lowers its case); other text is folded once per
/// question, into `folded`.
fn contains(hay: &str, needle: &str, folded: &OnceCell<String>) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        let n = needle.as_bytes();
        return n.is_empty()
            || hay
                .as_bytes()
                .windows(n.len())
                .any(|w| w.eq_ignore_ascii_case(n));
    }
    folded.get_or_init(|| fold(hay)).contains(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            text: "Can you share the slides? https://x.example",
            author: Some("Ana López"),
            source: "keynote",
            status: Status::Pending,
            on_air: false,
            votes: 7,
            age_ms: 5 * 60_000,
            starred: true,
            held: false,
            dup: false,
            labels: &[],
        }
    }

    fn hit(q: &str, f: &Facts) -> bool {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).matches(f)
    }

    #[test]
    fn plain_words_all_match_in_text_or_author() {
        let f = facts();
        assert!(hit("share slides", &f));
        assert!(hit("SHARE", &f));
        assert!(hit("lopez", &f), "accents fold in the author");
        assert!(!hit("share video", &f), "every word must match");
        assert!(hit("", &f));
        assert!(parse("  ").unwrap().is_empty());
        let cafe = Facts {
            text: "Le Café est fermé",
            ..facts()
        };
        assert!(hit("cafe FERME", &cafe));
        assert!(hit("CAFÉ", &cafe));
    }

    #[test]
    fn phrases_and_negation() {
        let f = facts();
        assert!(hit("\"share the slides\"", &f));
        assert!(!hit("\"the share\"", &f));
        assert!(hit("-video", &f));
        assert!(!hit("-slides", &f));
        assert!(!hit("-\"share the\"", &f));
        assert!(hit("-is:held", &f));
        assert_eq!(parse("\"open").unwrap_err(), "a quote is not closed");
    }

    #[test]
    fn every_term() {
        let f = Facts {
            labels: &["Press".to_string()][..],
            ..facts()
        };
        assert!(hit("state:pending", &f));
        assert!(!hit("state:selected", &f));
        assert!(hit("state:on-air", &Facts { on_air: true, ..f }));
        assert!(hit("source:KEYNOTE", &f));
        assert!(!hit("source:key", &f), "a source is named whole");
        assert!(hit("author:ana", &f));
        assert!(hit("author:\"ana lo\"", &f));
        assert!(!hit("author:bo", &f));
        assert!(!hit("author:ana", &Facts { author: None, ..f }));
        for (q, want) in [
            ("votes>5", true),
            ("votes>7", false),
            ("votes>=7", true),
            ("votes<7", false),
            ("votes<=7", true),
            ("votes=7", true),
            ("votes:7", true),
            ("votes=-1", false),
        ] {
            assert_eq!(hit(q, &f), want, "{q}");
        }
        for (q, want) in [
            ("age<10m", true),
            ("age>10m", false),
            ("age>299s", true),
            ("age<1h", true),
            ("age>=5m", true),
            ("age<=4m", false),
            ("age<1d", true),
        ] {
            assert_eq!(hit(q, &f), want, "{q}");
        }
        assert!(hit("has:link", &f));
        assert!(!hit("has:link", &Facts { text: "plain", ..f }));
        assert!(hit("is:starred", &f));
        assert!(!hit("is:held", &f));
        assert!(hit("is:held", &Facts { held: true, ..f }));
        assert!(!hit("is:dup", &f));
        assert!(hit("is:dup", &Facts { dup: true, ..f }));
        assert!(hit("label:press", &f));
        assert!(!hit("label:pre", &f));
        assert!(hit("label:press is:starred votes>5 slides -video", &f));
        assert!(!hit("label:press is:starred votes>5 -slides", &f));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = parse("slides foo:bar").unwrap_err();
        assert!(e.starts_with("unknown term `foo:`"), "{e}");
        assert!(e.contains("state, source"), "{e}");
        for (q, start) in [
            ("state:done", "`state:` takes"),
            ("votes>many", "`votes` takes a number"),
            ("votes:", "`votes` takes a number"),
            ("age<10", "`age` takes a number and a unit"),
            ("age<10w", "`age` takes a number and a unit"),
            ("age<m", "`age` takes a number and a unit"),
            ("age=5m", "`age` compares"),
            ("is:great", "`is:` takes"),
            ("has:pic", "`has:` takes"),
            ("label:", "`label:` needs a value"),
            ("author:", "`author:` needs a value"),
            ("age:", "`age` compares"),
        ] {
            let e = parse(q).unwrap_err();
            assert!(e.starts_with(start), "{q}: {e}");
        }
        // Not terms: text with a colon that is not `word:`, and plain words.
        assert!(parse("10:30").is_ok());
        assert!(parse("votes").is_ok());
        assert!(parse("\"http://x\"").is_ok());
    }
}

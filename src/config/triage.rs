//! The `[[rule]]` tables and the `[searches]` table: read with the rest of
//! the config, checked into the triage engines' types, every mistake
//! reported at its line.

use super::{ConfigError, line_of};
use crate::triage::rules::{Matcher, Rule, RuleAction, Words};
use crate::triage::search::{self, SAVED_KEYS, SavedSearch};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// One `[[rule]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    name: Spanned<String>,
    words: Option<Spanned<Vec<String>>>,
    regex: Option<Spanned<String>>,
    per_author: Option<Spanned<PerAuthor>>,
    max_len: Option<Spanned<usize>>,
    min_len: Option<Spanned<usize>>,
    caps_ratio: Option<Spanned<f64>>,
    action: Spanned<ActionName>,
}

/// `per_author = { max = 3, per_s = 60 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerAuthor {
    max: u32,
    per_s: u32,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ActionName {
    Hold,
    Reject,
    Approve,
}

/// Checks every rule: exactly one matcher, a regex that compiles, sensible
/// numbers, unique names.
pub fn rules(settings: &[RuleSettings], text: &str, path: &Path) -> Result<Vec<Rule>, ConfigError> {
    let err = |offset: usize, message: String| ConfigError {
        path: path.to_path_buf(),
        line: Some(line_of(text, offset)),
        message,
    };
    let mut out: Vec<Rule> = Vec::new();
    for s in settings {
        let name = s.name.get_ref().trim().to_string();
        let at = s.name.span().start;
        if name.is_empty() {
            return Err(err(at, "a [[rule]] needs a name".into()));
        }
        if out.iter().any(|r| r.name == name) {
            return Err(err(at, format!("two rules are named `{name}`")));
        }
        let mut matchers: Vec<(usize, Matcher)> = Vec::new();
        if let Some(w) = &s.words {
            let words = Words::new(w.get_ref())
                .map_err(|e| err(w.span().start, format!("rule `{name}`: words: {e}")))?;
            if w.get_ref().is_empty() {
                return Err(err(
                    w.span().start,
                    format!("rule `{name}`: words is empty"),
                ));
            }
            matchers.push((w.span().start, Matcher::Words(words)));
        }
        if let Some(r) = &s.regex {
            let re = regex::Regex::new(r.get_ref()).map_err(|e| {
                err(
                    r.span().start,
                    format!("rule `{name}`: regex does not compile: {e}"),
                )
            })?;
            matchers.push((r.span().start, Matcher::Regex(re)));
        }
        if let Some(p) = &s.per_author {
            let PerAuthor { max, per_s } = *p.get_ref();
            if per_s == 0 {
                return Err(err(
                    p.span().start,
                    format!("rule `{name}`: per_author.per_s must be at least 1"),
                ));
            }
            let per_ms = i64::from(per_s) * 1000;
            matchers.push((p.span().start, Matcher::PerAuthor { max, per_ms }));
        }
        if let Some(n) = &s.max_len {
            matchers.push((n.span().start, Matcher::MaxLen(*n.get_ref())));
        }
        if let Some(n) = &s.min_len {
            matchers.push((n.span().start, Matcher::MinLen(*n.get_ref())));
        }
        if let Some(c) = &s.caps_ratio {
            let ratio = *c.get_ref();
            if !(ratio > 0.0 && ratio <= 1.0) {
                return Err(err(
                    c.span().start,
                    format!(
                        "rule `{name}`: caps_ratio is a share of the letters, above 0 and at most 1 (0.8), not {ratio}"
                    ),
                ));
            }
            matchers.push((c.span().start, Matcher::CapsRatio(ratio)));
        }
        let matcher = match matchers.len() {
            0 => {
                return Err(err(
                    at,
                    format!(
                        "rule `{name}` has no matcher: give one of words, regex, per_author, max_len, min_len, caps_ratio"
                    ),
                ));
            }
            1 => matchers.remove(0).1,
            _ => {
                return Err(err(
                    matchers[1].0,
                    format!(
                        "rule `{name}` has more than one matcher: one per [[rule]] (split it into two rules)"
                    ),
                ));
            }
        };
        let action = match s.action.get_ref() {
            ActionName::Hold => RuleAction::Hold,
            ActionName::Reject => RuleAction::Reject,
            ActionName::Approve => RuleAction::Approve,
        };
        out.push(Rule {
            name,
            matcher,
            action,
        });
    }
    Ok(out)
}

/// Parses every saved search, in the order the file lists them.
pub fn searches(
    table: &BTreeMap<String, Spanned<String>>,
    text: &str,
    path: &Path,
) -> Result<Vec<SavedSearch>, ConfigError> {
    let mut list: Vec<(&String, &Spanned<String>)> = table.iter().collect();
    list.sort_by_key(|(_, v)| v.span().start);
    let mut out = Vec::new();
    for (name, value) in list {
        let err = |message: String| ConfigError {
            path: path.to_path_buf(),
            line: Some(line_of(text, value.span().start)),
            message,
        };
        let query = search::parse(value.get_ref())
            .map_err(|e| err(format!("saved search `{name}`: {e}")))?;
        if query.is_empty() {
            return Err(err(format!("saved search `{name}` is empty")));
        }
        out.push(SavedSearch {
            name: name.clone(),
            text: value.get_ref().trim().to_string(),
            query,
        });
    }
    if out.len() > SAVED_KEYS {
        let extra = &out[SAVED_KEYS].name;
        let line = table.get(extra).map(|v| line_of(text, v.span().start));
        return Err(ConfigError {
            path: path.to_path_buf(),
            line,
            message: format!(
                "[searches] has {} entries: the number keys 1–{SAVED_KEYS} reach only {SAVED_KEYS}",
                out.len()
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use std::path::Path;

    fn error(text: &str) -> (Option<usize>, String) {
        let e = parse(text, Path::new("/etc/q.toml")).unwrap_err();
        assert!(e.to_string().starts_with("/etc/q.toml:"), "{e}");
        (e.line, e.message)
    }

    const GOOD: &str = r#"theme = "dark"

[[rule]]
name = "profanity"
words = ["darn", "heck"]
action = "hold"

[[rule]]
name = "links"
regex = "https?://"
action = "reject"

[[rule]]
name = "flood"
per_author = { max = 3, per_s = 60 }
action = "hold"

[[rule]]
name = "short"
min_len = 3
action = "reject"

[[rule]]
name = "long"
max_len = 500
action = "hold"

[[rule]]
name = "shouting"
caps_ratio = 0.8
action = "approve"

[searches]
press = "label:press is:starred"
hot = "votes>5 age<10m"
all_held = "is:held"
"#;

    #[test]
    fn rules_and_searches_are_read_in_file_order() {
        let cfg = parse(GOOD, Path::new("c.toml")).unwrap();
        let names: Vec<&str> = cfg.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["profanity", "links", "flood", "short", "long", "shouting"]
        );
        let saved: Vec<&str> = cfg.searches.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(saved, ["press", "hot", "all_held"]);
        assert_eq!(cfg.searches[0].text, "label:press is:starred");
    }

    #[test]
    fn rule_mistakes_name_file_and_line() {
        let cases = [
            // A broken regex, at its line.
            (
                "[[rule]]\nname = \"r\"\nregex = \"(unclosed\"\naction = \"hold\"\n",
                3,
                "rule `r`: regex does not compile",
            ),
            // An unknown key.
            (
                "[[rule]]\nname = \"r\"\nwords = [\"x\"]\nacton = \"hold\"\n",
                4,
                "unknown field `acton`",
            ),
            // No matcher, at the name.
            (
                "theme = \"dark\"\n[[rule]]\nname = \"r\"\naction = \"hold\"\n",
                3,
                "rule `r` has no matcher",
            ),
            // Two matchers, at the second.
            (
                "[[rule]]\nname = \"r\"\nwords = [\"x\"]\nmin_len = 3\naction = \"hold\"\n",
                4,
                "more than one matcher",
            ),
            // A bad action.
            (
                "[[rule]]\nname = \"r\"\nwords = [\"x\"]\naction = \"ban\"\n",
                4,
                "unknown variant `ban`",
            ),
            (
                "[[rule]]\nname = \"r\"\nwords = [\"x\"]\n",
                1,
                "missing field `action`",
            ),
            (
                "[[rule]]\nname = \"a\"\nwords = [\"x\"]\naction = \"hold\"\n[[rule]]\nname = \"a\"\nmin_len = 2\naction = \"hold\"\n",
                6,
                "two rules are named `a`",
            ),
            (
                "[[rule]]\nname = \"r\"\ncaps_ratio = 1.5\naction = \"hold\"\n",
                3,
                "caps_ratio",
            ),
            (
                "[[rule]]\nname = \"r\"\nper_author = { max = 3, per_s = 0 }\naction = \"hold\"\n",
                3,
                "per_s must be at least 1",
            ),
            (
                "[[rule]]\nname = \"r\"\nper_author = { max = 3, per = 60 }\naction = \"hold\"\n",
                3,
                "unknown field `per`",
            ),
            (
                "[[rule]]\nname = \"r\"\nwords = []\naction = \"hold\"\n",
                3,
                "words is empty",
            ),
            (
                "[[rule]]\nname = \"r\"\nwords = [\"ok\", \"?!\"]\naction = \"hold\"\n",
                3,
                "`?!` has no letters",
            ),
        ];
        for (text, line, message) in cases {
            let (l, m) = error(text);
            assert_eq!(l, Some(line), "{text}: {m}");
            assert!(m.contains(message), "{text}: {m}");
        }
    }

    #[test]
    fn a_bad_saved_search_names_its_line() {
        let (line, m) = error("[searches]\npress = \"label:press\"\nodd = \"is:great\"\n");
        assert_eq!(line, Some(3));
        assert!(m.starts_with("saved search `odd`: `is:` takes"), "{m}");
        let (line, m) = error("[searches]\nblank = \" \"\n");
        assert_eq!(
            (line, m.as_str()),
            (Some(2), "saved search `blank` is empty")
        );
        let many: String = (1..=10).map(|i| format!("s{i:02} = \"x{i}\"\n")).collect();
        let (line, m) = error(&format!("[searches]\n{many}"));
        assert_eq!(line, Some(11), "{m}");
        assert!(m.contains("reach only 9"), "{m}");
    }
}

//! The `[[rule]]` engine: which rule, if any, decides an arriving question,
//! and what matched. Pure: the text, author and time come in, a verdict
//! goes out. The one piece of state, the per-author flood window, is a
//! [`Flood`] the caller keeps and passes in.

use super::fold::fold;
use crate::domain::Millis;
use std::collections::{HashMap, HashSet, VecDeque};

/// What a rule does to a question it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// Stays in Pending, marked, for the moderator to review.
    Hold,
    /// Rejected on the platform.
    Reject,
    /// Approved (selected) on the platform.
    Approve,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Hold => "hold",
            RuleAction::Reject => "reject",
            RuleAction::Approve => "approve",
        }
    }
}

/// One rule's test.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Whole words (or phrases of whole words) after folding.
    Words(Words),
    Regex(regex::Regex),
    /// More than `max` questions from one author within `per_ms`.
    PerAuthor {
        max: u32,
        per_ms: Millis,
    },
    /// Longer than this many characters.
    MaxLen(usize),
    /// Shorter than this many characters.
    MinLen(usize),
    /// At least this share of the letters are capitals (0–1].
    CapsRatio(f64),
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub matcher: Matcher,
    pub action: RuleAction,
}

/// The rule that decided a question, and what it matched (for the detail
/// view: "matched word 'darn'").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub rule: String,
    pub action: RuleAction,
    pub matched: String,
}

/// An arriving question as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub text: &'a str,
    /// Who asked, as a key unique across sources (the caller qualifies it
    /// with the source); `None` for anonymous questions, which no flood
    /// rule can count.
    pub author: Option<&'a str>,
    pub at: Millis,
}

/// Each flood rule's recent arrivals per author: the one state the rules
/// need, kept by the caller between arrivals.
#[derive(Debug, Default)]
pub struct Flood {
    seen: HashMap<(usize, String), VecDeque<Millis>>,
}

/// Caps ratios are not judged on fewer letters than this ("OK?" is fine).
const CAPS_MIN_LETTERS: usize = 8;
/// A token with more `1`s than this is tried as all-`i` and all-`l` only.
const LEET_ONES: usize = 4;

/// Applies the rules in order; the first that matches decides. Every
/// flood rule counts the arrival, also when an earlier rule decided.
pub fn check(rules: &[Rule], arrival: Arrival, flood: &mut Flood) -> Option<Verdict> {
    let mut verdict = None;
    let mut tokens = None;
    for (i, rule) in rules.iter().enumerate() {
        let matched = match &rule.matcher {
            Matcher::PerAuthor { max, per_ms } => flood.count(i, arrival, *max, *per_ms),
            _ if verdict.is_some() => None,
            Matcher::Words(words) => {
                let t = tokens.get_or_insert_with(|| tokenize(arrival.text));
                words.find(t)
            }
            Matcher::Regex(re) => re.find(arrival.text).map(|m| {
                let shown: String = m.as_str().chars().take(60).collect();
                format!("'{shown}'")
            }),
            Matcher::MaxLen(max) => {
                let n = arrival.text.trim().chars().count();
                (n > *max).then(|| format!("{n} characters (at most {max})"))
            }
            Matcher::MinLen(min) => {
                let n = arrival.text.trim().chars().count();
                (n < *min).then(|| format!("{n} characters (at least {min})"))
            }
            Matcher::CapsRatio(ratio) => caps(arrival.text, *ratio),
        };
        if verdict.is_none()
            && let Some(matched) = matched
        {
            verdict = Some(Verdict {
                rule: rule.name.clone(),
                action: rule.action,
                matched,
            });
        }
    }
    verdict
}

impl Flood {
    /// Counts the arrival in rule `rule`'s window; says so when the author
    /// has more than `max` questions in some span of `per_ms` that holds
    /// this one. Times may come in any order (a listing newest first), so
    /// they are kept sorted; those too old to share a span with the newest
    /// are dropped.
    fn count(&mut self, rule: usize, a: Arrival, max: u32, per_ms: Millis) -> Option<String> {
        let author = a.author?;
        let times = self.seen.entry((rule, author.to_string())).or_default();
        let at = a.at;
        let pos = times.partition_point(|t| *t <= at);
        times.insert(pos, at);
        if let Some(&newest) = times.back() {
            while times.front().is_some_and(|t| newest - *t >= per_ms) {
                times.pop_front();
            }
        }
        let (start, end) = (
            times.partition_point(|t| *t <= at - per_ms),
            times.partition_point(|t| *t <= at),
        );
        // Each span starts at one of the times up to this one.
        let over = (start..end).any(|i| {
            let upto = times.partition_point(|t| *t < times[i] + per_ms);
            upto - i > max as usize
        });
        over.then(|| {
            format!(
                "more than {max} question{} from one author in {} s",
                if max == 1 { "" } else { "s" },
                per_ms / 1000
            )
        })
    }
}

fn caps(text: &str, ratio: f64) -> Option<String> {
    let (mut letters, mut upper) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        upper += usize::from(c.is_uppercase());
    }
    if letters < CAPS_MIN_LETTERS {
        return None;
    }
    let share = upper as f64 / letters as f64;
    (share >= ratio).then(|| format!("{:.0}% capitals", share * 100.0))
}

/// Words or phrases a `words` rule looks for, folded the way arriving text
/// is.
#[derive(Debug, Clone, Default)]
pub struct Words {
    single: HashMap<String, String>,
    phrases: Vec<(Vec<String>, String)>,
}

impl Words {
    /// `list` as written in the config; an entry that folds to nothing is
    /// an error (it could never match).
    pub fn new(list: &[String]) -> Result<Words, String> {
        let mut w = Words::default();
        for entry in list {
            let tokens = tokenize(entry);
            match tokens.as_slice() {
                [] => return Err(format!("`{entry}` has no letters to match")),
                [one] => {
                    for v in one {
                        w.single.insert(v.clone(), entry.clone());
                    }
                }
                many => w
                    .phrases
                    .push((many.iter().map(|t| t[0].clone()).collect(), entry.clone())),
            }
        }
        Ok(w)
    }

    fn find(&self, tokens: &[Vec<String>]) -> Option<String> {
        for t in tokens {
            if let Some(entry) = t.iter().find_map(|v| self.single.get(v)) {
                return Some(format!("word '{entry}'"));
            }
        }
        self.phrases.iter().find_map(|(words, entry)| {
            tokens
                .windows(words.len())
                .any(|win| win.iter().zip(words).all(|(t, w)| t.contains(w)))
                .then(|| format!("words '{entry}'"))
        })
    }
}

/// Splits text into folded words, each with its leetspeak readings (`1`
/// is `i` or `l`, so a word can have several).
fn tokenize(text: &str) -> Vec<Vec<String>> {
    let folded = fold(text);
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == '@' || c == '$'))
        .filter(|w| {
            w.chars()
                .any(|c| c.is_alphanumeric() || c == '@' || c == '$')
        })
        .map(leet)
        .collect()
}

/// The readings of one folded word: 0→o, 3→e, 4→a, 5→s, 7→t, @→a, $→s,
/// and each `1` as `i` or `l`.
fn leet(word: &str) -> Vec<String> {
    let base: String = word
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            c => c,
        })
        .collect();
    let ones = base.matches('1').count();
    if ones == 0 {
        return vec![base];
    }
    let mut out = HashSet::new();
    if ones > LEET_ONES {
        out.insert(base.replace('1', "i"));
        out.insert(base.replace('1', "l"));
    } else {
        for mask in 0..(1u32 << ones) {
            let mut n = 0;
            let v: String = base
                .chars()
                .map(|c| {
                    if c != '1' {
                        return c;
                    }
                    n += 1;
                    if mask & (1 << (n - 1)) == 0 { 'i' } else { 'l' }
                })
                .collect();
            out.insert(v);
        }
    }
    let mut v: Vec<String> = out.into_iter().collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, matcher: Matcher, action: RuleAction) -> Rule {
        Rule {
            name: name.into(),
            matcher,
            action,
        }
    }

    fn words(list: &[&str]) -> Matcher {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        Matcher::Words(Words::new(&list).unwrap())
    }

    fn one(rules: &[Rule], text: &str) -> Option<Verdict> {
        let a = Arrival {
            text,
            author: None,
            at: 0,
        };
        check(rules, a, &mut Flood::default())
    }

    #[test]
    fn words_match_whole_words_after_folding() {
        let r = [rule("profanity", words(&["darn"]), RuleAction::Hold)];
        let v = one(&r, "Well, DARN it!").unwrap();
        assert_eq!(v.rule, "profanity");
        assert_eq!(v.action, RuleAction::Hold);
        assert_eq!(v.matched, "word 'darn'");
        assert!(one(&r, "Ｄａｒｎ").is_some(), "full-width folds");
        assert!(one(&r, "dárn").is_some(), "accents fold");
        assert!(one(&r, "darning socks").is_none(), "not inside a word");
        assert!(one(&r, "undarn").is_none());
        assert!(one(&r, "nothing here").is_none());
    }

    #[test]
    fn leetspeak_folds_in_text_and_in_rule_words() {
        let r = [rule("p", words(&["silly", "toast"]), RuleAction::Hold)];
        for text in [
            "s1lly", "si11y", "$1lly", "5illy", "t0@5t", "7oast", "T04ST",
        ] {
            assert!(one(&r, text).is_some(), "{text}");
        }
        assert!(one(&r, "s1llyness").is_none());
        // The rule word may itself be written in leetspeak.
        let r = [rule("p", words(&["l33t"]), RuleAction::Hold)];
        assert!(one(&r, "so LEET").is_some());
        // Many ones: all-i and all-l readings.
        let r = [rule("p", words(&["lllll"]), RuleAction::Hold)];
        assert!(one(&r, "11111").is_some());
    }

    #[test]
    fn phrases_match_consecutive_words() {
        let r = [rule("p", words(&["shut up"]), RuleAction::Reject)];
        assert_eq!(
            one(&r, "please SHUT... up now").unwrap().matched,
            "words 'shut up'"
        );
        assert!(one(&r, "shut the door, up").is_none());
        assert!(Words::new(&["  !! ".to_string()]).is_err());
    }

    #[test]
    fn regex_reports_what_it_matched() {
        let re = regex::Regex::new("https?://\\S+").unwrap();
        let r = [rule("links", Matcher::Regex(re), RuleAction::Hold)];
        let v = one(&r, "see https://x.example/a now").unwrap();
        assert_eq!(v.matched, "'https://x.example/a'");
        assert!(one(&r, "no link").is_none());
    }

    #[test]
    fn lengths_and_capitals() {
        let r = [
            rule("long", Matcher::MaxLen(10), RuleAction::Hold),
            rule("short", Matcher::MinLen(3), RuleAction::Reject),
            rule("caps", Matcher::CapsRatio(0.8), RuleAction::Hold),
        ];
        assert_eq!(one(&r, "eleven char").unwrap().rule, "long");
        assert_eq!(
            one(&r, "eleven char").unwrap().matched,
            "11 characters (at most 10)"
        );
        let v = one(&r, " ok ").unwrap();
        assert_eq!((v.rule.as_str(), v.action), ("short", RuleAction::Reject));
        assert!(one(&r, "abc").is_none());
        let caps = [rule("caps", Matcher::CapsRatio(0.8), RuleAction::Hold)];
        assert_eq!(
            one(&caps, "WHY IS THIS SO").unwrap().matched,
            "100% capitals"
        );
        assert!(one(&caps, "WHY is this so").is_none());
        assert!(one(&caps, "OK?").is_none(), "too few letters to judge");
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let r = [
            rule("a", words(&["x"]), RuleAction::Approve),
            rule("b", words(&["x"]), RuleAction::Reject),
        ];
        assert_eq!(one(&r, "x").unwrap().rule, "a");
    }

    #[test]
    fn flood_counts_per_author_within_the_window() {
        let r = [rule(
            "flood",
            Matcher::PerAuthor {
                max: 3,
                per_ms: 60_000,
            },
            RuleAction::Hold,
        )];
        let mut flood = Flood::default();
        let mut at = |author: Option<&str>, t: Millis| {
            let a = Arrival {
                text: "hi",
                author,
                at: t,
            };
            check(&r, a, &mut flood).map(|v| v.matched)
        };
        assert!(at(Some("0:ana"), 0).is_none());
        assert!(at(Some("0:ana"), 10_000).is_none());
        assert!(at(Some("0:bo"), 15_000).is_none());
        assert!(at(Some("0:ana"), 20_000).is_none());
        assert_eq!(
            at(Some("0:ana"), 30_000).as_deref(),
            Some("more than 3 questions from one author in 60 s")
        );
        assert!(at(None, 30_000).is_none(), "anonymous is never counted");
        assert!(at(Some("0:bo"), 31_000).is_none());
        // 0 and 10 s have left the window at 70 s: 20, 30, 70 remain.
        assert!(at(Some("0:ana"), 70_000).is_none());
        assert!(at(Some("0:ana"), 75_000).is_some());
    }

    #[test]
    fn flood_does_not_depend_on_the_order_of_arrival() {
        let r = [rule(
            "flood",
            Matcher::PerAuthor {
                max: 2,
                per_ms: 60_000,
            },
            RuleAction::Hold,
        )];
        let held = |times: &[Millis]| {
            let mut flood = Flood::default();
            times
                .iter()
                .filter(|t| {
                    let a = Arrival {
                        text: "hi",
                        author: Some("ana"),
                        at: **t,
                    };
                    check(&r, a, &mut flood).is_some()
                })
                .count()
        };
        // Spread out: none, newest first or oldest first.
        assert_eq!(held(&[0, 100_000, 200_000, 300_000]), 0);
        assert_eq!(held(&[300_000, 200_000, 100_000, 0]), 0);
        // Three in a minute: the third seen is held, either way.
        assert_eq!(held(&[0, 10_000, 20_000]), 1);
        assert_eq!(held(&[20_000, 10_000, 0]), 1);
    }

    #[test]
    fn flood_counts_even_when_an_earlier_rule_decided() {
        let r = [
            rule("w", words(&["spam"]), RuleAction::Reject),
            rule(
                "flood",
                Matcher::PerAuthor {
                    max: 1,
                    per_ms: 60_000,
                },
                RuleAction::Hold,
            ),
        ];
        let mut flood = Flood::default();
        let a = |text, at| Arrival {
            text,
            author: Some("ana"),
            at,
        };
        assert_eq!(check(&r, a("spam", 0), &mut flood).unwrap().rule, "w");
        assert_eq!(check(&r, a("hello", 1), &mut flood).unwrap().rule, "flood");
    }
}

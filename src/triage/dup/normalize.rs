//! From a question's text to the tokens duplicates are matched on: folded,
//! contractions written out, number words as digits, function words out,
//! plurals folded; scripts written without spaces become character bigrams.

use super::words::{expand, is_stopword, number};
use crate::triage::fold::fold;

/// A question's tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tokens {
    /// What the question is about, in text order (may repeat).
    pub content: Vec<String>,
    /// Every word, function words too: what a question with no content
    /// ("What is it?") is matched on, exactly.
    pub all: Vec<String>,
}

/// Splits and folds a text into its tokens.
pub fn tokens(text: &str) -> Tokens {
    let folded = fold(text).replace(['\u{2019}', '\u{2018}', '`', '\u{2bc}', '\u{b4}'], "'");
    let mut words = Vec::new();
    for raw in folded.split_whitespace() {
        let trimmed = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let expanded = expand(trimmed);
        for word in expanded.as_deref().unwrap_or(trimmed).split_whitespace() {
            split_word(word, &mut words);
        }
    }
    let words = numbers_as_digits(words);
    let content = words
        .iter()
        .filter(|w| !is_stopword(w))
        .map(|w| fold_suffix(w))
        .collect();
    Tokens {
        content,
        all: words,
    }
}

/// Splits one word at anything not alphanumeric; runs of a script written
/// without spaces become bigrams (or the lone character), with the
/// characters that only frame a question left out.
fn split_word(word: &str, out: &mut Vec<String>) {
    for piece in word.split(|c: char| !c.is_alphanumeric()) {
        let mut plain = String::new();
        let mut run: Vec<char> = Vec::new();
        for c in piece.chars() {
            if unspaced(c) {
                if !plain.is_empty() {
                    out.push(std::mem::take(&mut plain));
                }
                if frame_char(c) {
                    bigrams(&mut run, out);
                } else {
                    run.push(c);
                }
            } else {
                bigrams(&mut run, out);
                plain.push(c);
            }
        }
        bigrams(&mut run, out);
        if !plain.is_empty() {
            out.push(plain);
        }
    }
}

fn bigrams(run: &mut Vec<char>, out: &mut Vec<String>) {
    match run.len() {
        0 => {}
        1 => out.push(run[0].to_string()),
        _ => out.extend(run.windows(2).map(|w| w.iter().collect())),
    }
    run.clear();
}

/// Scripts written without spaces between words (Han, kana, Thai, Lao,
/// Khmer, Myanmar).
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0x20000..=0x2FFFF | 0x0E00..=0x0EFF | 0x1780..=0x17FF | 0x1000..=0x109F)
}

/// Chinese and Japanese characters that frame a question rather than say
/// what it is about ("是", "什么", "の", "です").
fn frame_char(c: char) -> bool {
    "是的了吗呢吧在有我你您们他她它这那什么怎请问会能可以要和与及就都也还哪谁为如何のはがをにでともかなすまよね"
        .contains(c)
}

/// Number words become digits; "twenty five" becomes "25".
fn numbers_as_digits(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut tens: Option<u32> = None;
    for w in words {
        match number(&w) {
            Some(n) if n < 10 && tens.is_some() => {
                let t = tens.take().unwrap_or_default();
                if let Some(last) = out.last_mut() {
                    *last = (t + n).to_string();
                }
            }
            Some(n) => {
                tens = ((20..100).contains(&n) && n % 10 == 0).then_some(n);
                out.push(n.to_string());
            }
            None => {
                tens = None;
                out.push(w);
            }
        }
    }
    out
}

/// A light plural fold: a final "s" goes from words of four letters or
/// more ("slides" → "slide", not "class" or "bus").
fn fold_suffix(word: &str) -> String {
    let long = word.chars().count() >= 4;
    match word.strip_suffix('s') {
        Some(stem) if long && !stem.ends_with('s') && stem.chars().all(char::is_alphabetic) => {
            stem.to_string()
        }
        _ => word.to_string(),
    }
}

/// Whether a token is a number (numbers weigh little).
pub fn is_number(token: &str) -> bool {
    token.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::tokens;

    fn content(s: &str) -> Vec<String> {
        tokens(s).content
    }

    #[test]
    fn frames_contractions_and_punctuation_go() {
        assert_eq!(content("What's the road map??"), ["road", "map"]);
        assert_eq!(content("What is the roadmap?"), ["roadmap"]);
        assert_eq!(content("roadmap - what is it?"), ["roadmap"]);
        assert_eq!(
            content("Why don’t you share the slides"),
            ["not", "share", "slide"]
        );
        assert_eq!(content("Qu'est-ce que l'agenda ?"), ["agenda"]);
    }

    #[test]
    fn number_words_become_digits() {
        assert_eq!(content("twenty-five speakers"), ["25", "speaker"]);
        assert_eq!(content("Two tracks"), ["2", "track"]);
        assert_eq!(content("zwei Tracks"), ["2", "track"]);
    }

    #[test]
    fn unspaced_scripts_become_bigrams() {
        assert_eq!(content("路线图是什么？"), ["路线", "线图"]);
        assert_eq!(content("什么是路线图"), ["路线", "线图"]);
    }

    #[test]
    fn empty_content_keeps_every_word() {
        let t = tokens("What is it?");
        assert!(t.content.is_empty());
        assert_eq!(t.all, ["what", "is", "it"]);
    }
}

//! From a question's text to the tokens duplicates are matched on: folded,
//! contractions written out, number words as digits, function words out,
//! plurals folded; scripts written without spaces become character bigrams.

use super::words::{expand, is_stopword, number};
use crate::triage::fold::fold;

/// A question's tokens: every word, function words too (what a question
/// with no content, "What is it?", is matched on, exactly), in one buffer
/// (no allocation per word).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tokens {
    buf: String,
    /// Where each word ends in `buf` (it starts where the one before ends).
    ends: Vec<usize>,
    /// A number word just written that the next may add to ("twenty").
    tens: Option<u32>,
}

impl Tokens {
    /// Every word, in text order.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, b)| &self.buf[a..*b])
    }

    /// What the question is about, in text order (may repeat).
    pub fn content(&self) -> impl Iterator<Item = &str> {
        self.all().filter(|w| !is_stopword(w)).map(fold_suffix)
    }

    fn push_str(&mut self, w: &str) {
        self.buf.push_str(w);
        self.ends.push(self.buf.len());
    }

    /// Adds a word; number words become digits, "twenty five" "25".
    fn push(&mut self, w: &str) {
        match number(w) {
            Some(n) if n < 10 && self.tens.is_some() => {
                let t = self.tens.take().unwrap_or_default();
                self.ends.pop();
                self.buf.truncate(self.ends.last().copied().unwrap_or(0));
                self.push_str(&(t + n).to_string());
            }
            Some(n) => {
                self.tens = ((20..100).contains(&n) && n % 10 == 0).then_some(n);
                self.push_str(&n.to_string());
            }
            None => {
                self.tens = None;
                self.push_str(w);
            }
        }
    }
}

/// Apostrophes as people type them, all read as `'`.
const APOSTROPHES: [char; 5] = ['\u{2019}', '\u{2018}', '`', '\u{2bc}', '\u{b4}'];

/// Splits and folds a text into its tokens.
pub fn tokens(text: &str) -> Tokens {
    let mut folded = fold(text);
    if folded.contains(APOSTROPHES) {
        folded = folded.replace(APOSTROPHES, "'");
    }
    let mut out = Tokens {
        buf: String::with_capacity(folded.len()),
        ..Tokens::default()
    };
    let mut split = Split::default();
    for raw in folded.split_whitespace() {
        let trimmed = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let expanded = expand(trimmed);
        for word in expanded.as_deref().unwrap_or(trimmed).split_whitespace() {
            split.word(word, &mut out);
        }
    }
    out
}

/// Buffers for splitting words, reused from word to word.
#[derive(Default)]
struct Split {
    plain: String,
    run: Vec<char>,
}

impl Split {
    /// Splits one word at anything not alphanumeric; runs of a script
    /// written without spaces become bigrams (or the lone character), with
    /// the characters that only frame a question left out.
    fn word(&mut self, word: &str, out: &mut Tokens) {
        for piece in word.split(|c: char| !c.is_alphanumeric()) {
            for c in piece.chars() {
                if unspaced(c) {
                    self.plain_word(out);
                    if frame_char(c) {
                        self.bigrams(out);
                    } else {
                        self.run.push(c);
                    }
                } else {
                    self.bigrams(out);
                    self.plain.push(c);
                }
            }
            self.bigrams(out);
            self.plain_word(out);
        }
    }

    fn plain_word(&mut self, out: &mut Tokens) {
        if !self.plain.is_empty() {
            out.push(&self.plain);
            self.plain.clear();
        }
    }

    fn bigrams(&mut self, out: &mut Tokens) {
        let mut two = [0u8; 8];
        match self.run[..] {
            [] => {}
            [c] => out.push(c.encode_utf8(&mut two)),
            _ => {
                for w in self.run.windows(2) {
                    let n = w[0].encode_utf8(&mut two).len();
                    let m = w[1].encode_utf8(&mut two[n..]).len();
                    out.push(std::str::from_utf8(&two[..n + m]).unwrap_or_default());
                }
            }
        }
        self.run.clear();
    }
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

/// A light plural fold: a final "s" goes from words of four letters or
/// more ("slides" → "slide", not "class" or "bus").
fn fold_suffix(word: &str) -> &str {
    let long = word.chars().count() >= 4;
    match word.strip_suffix('s') {
        Some(stem) if long && !stem.ends_with('s') && stem.chars().all(char::is_alphabetic) => stem,
        _ => word,
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
        tokens(s).content().map(String::from).collect()
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
        assert_eq!(t.content().next(), None);
        assert_eq!(t.all().collect::<Vec<_>>(), ["what", "is", "it"]);
    }
}

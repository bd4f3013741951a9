//! A question's compact signature: its content tokens in one string, and
//! the keys that find its likely duplicates in the index.

use super::normalize::{Tokens, is_number, tokens};
use super::similarity::{THRESHOLD, similarity};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Content tokens joined by spaces, or, for a question without content,
/// `=` and every word (matched only exactly). One allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sig(Box<str>);

/// Tokens kept per question: a longer text says what it asks early on.
const MAX_TOKENS: usize = 24;

/// Characters of a token's prefix and suffix keys.
const AFFIX: usize = 4;

impl Sig {
    pub fn of(text: &str) -> Sig {
        let Tokens { content, all } = tokens(text);
        let joined = if content.is_empty() {
            format!("={}", all.join(" "))
        } else {
            let v: Vec<&str> = content
                .iter()
                .map(String::as_str)
                .take(MAX_TOKENS)
                .collect();
            v.join(" ")
        };
        Sig(joined.into_boxed_str())
    }

    fn exact_only(&self) -> bool {
        self.0.starts_with('=')
    }

    fn tokens(&self) -> Vec<&str> {
        self.0.split(' ').filter(|t| !t.is_empty()).collect()
    }

    /// Whether two questions ask the same thing.
    pub fn same(&self, other: &Sig) -> bool {
        if self.exact_only() || other.exact_only() {
            return self.0 == other.0;
        }
        similarity(&self.tokens(), &other.tokens()) >= THRESHOLD
    }

    /// Index keys: hashes of each word's first and last four characters
    /// (a typo leaves one of them, and "road" finds "roadmap"). Numbers
    /// give keys only when nothing else does.
    pub fn keys(&self) -> Vec<u64> {
        if self.exact_only() {
            return vec![hash(&self.0)];
        }
        let toks = self.tokens();
        let words: Vec<&str> = toks.iter().copied().filter(|t| !is_number(t)).collect();
        let chosen = if words.is_empty() { toks } else { words };
        let mut keys: Vec<u64> = Vec::with_capacity(chosen.len() * 2);
        for t in chosen {
            let chars: Vec<char> = t.chars().collect();
            let n = chars.len();
            let prefix: String = chars[..n.min(AFFIX)].iter().collect();
            let suffix: String = chars[n.saturating_sub(AFFIX)..].iter().collect();
            keys.push(hash(&prefix));
            keys.push(hash(&suffix));
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Heap bytes this signature holds.
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

fn hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

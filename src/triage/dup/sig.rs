//! A question's compact signature: its content tokens as dictionary ids,
//! in text order, and the keys that find its likely duplicates in the index.

use super::dict::Dict;
use super::normalize::tokens;
use super::similarity::{THRESHOLD, similarity};
use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};

/// Tokens kept per question: a longer text says what it asks early on.
pub const MAX_TOKENS: usize = 24;

/// Content token ids, or, for a question without content, every word
/// (matched only exactly). One allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sig {
    toks: Box<[u32]>,
    exact: bool,
}

impl Sig {
    pub fn of(text: &str, dict: &mut Dict) -> Sig {
        let t = tokens(text);
        let content: Box<[u32]> = t
            .content()
            .take(MAX_TOKENS)
            .map(|w| dict.intern(w))
            .collect();
        if !content.is_empty() {
            return Sig {
                toks: content,
                exact: false,
            };
        }
        Sig {
            toks: t.all().map(|w| dict.intern(w)).collect(),
            exact: true,
        }
    }

    /// Whether two questions ask the same thing.
    pub fn same(&self, other: &Sig, dict: &Dict) -> bool {
        if self.exact || other.exact {
            return self == other;
        }
        similarity(&self.toks, &other.toks, dict) >= THRESHOLD
    }

    /// Index keys (into `out`, sorted, without repeats): each word's prefix
    /// and suffix keys. Numbers give keys only when nothing else does.
    pub fn keys(&self, dict: &Dict, out: &mut Vec<u64>) {
        out.clear();
        if self.exact {
            let mut h = FxHasher::default();
            self.toks.hash(&mut h);
            // Apart from the affix keys, which are small integers.
            out.push(h.finish() | 1 << 63);
            return;
        }
        let words = self.toks.iter().any(|t| !dict.tok(*t).number);
        for t in self.toks.iter().map(|t| dict.tok(*t)) {
            if !words || !t.number {
                out.extend(t.keys);
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Heap bytes this signature holds.
    pub fn heap_bytes(&self) -> usize {
        self.toks.len() * size_of::<u32>()
    }
}

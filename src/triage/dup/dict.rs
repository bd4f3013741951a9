//! The token dictionary: every token duplicates are matched on, once, as a
//! small integer, with what matching asks of it precomputed (its index
//! keys, length, first letter, whether it is a number or a negation), so
//! signatures are short integer arrays and comparing them compares
//! integers. Tokens are few next to questions (a vocabulary), so they stay.

use super::normalize::is_number;
use super::words::is_negation;
use rustc_hash::FxHashMap;

/// Characters of a token's prefix and suffix keys.
const AFFIX: usize = 4;

/// What matching needs of a token.
#[derive(Debug)]
pub struct Tok {
    pub text: Box<str>,
    /// Characters (saturating).
    pub chars: u16,
    pub first: Option<char>,
    /// Its first byte (0 for none).
    pub head: u8,
    pub number: bool,
    pub negation: bool,
    /// Index keys of its first and last four characters (a typo leaves
    /// one of them, and "road" finds "roadmap").
    pub keys: [u64; 2],
}

#[derive(Debug, Default)]
pub struct Dict {
    ids: FxHashMap<Box<str>, u32>,
    toks: Vec<Tok>,
    affixes: FxHashMap<Box<str>, u32>,
}

impl Dict {
    /// The id of a token, added if new.
    pub fn intern(&mut self, token: &str) -> u32 {
        if let Some(id) = self.ids.get(token) {
            return *id;
        }
        let id = self.toks.len() as u32;
        let n = token.chars().count();
        let prefix_end = token
            .char_indices()
            .nth(AFFIX)
            .map_or(token.len(), |(i, _)| i);
        let suffix_start = token
            .char_indices()
            .nth(n.saturating_sub(AFFIX))
            .map_or(0, |(i, _)| i);
        let keys = [
            self.affix(&token[..prefix_end]),
            self.affix(&token[suffix_start..]),
        ];
        self.toks.push(Tok {
            text: token.into(),
            chars: u16::try_from(n).unwrap_or(u16::MAX),
            first: token.chars().next(),
            head: token.as_bytes().first().copied().unwrap_or(0),
            number: is_number(token),
            negation: is_negation(token),
            keys,
        });
        self.ids.insert(token.into(), id);
        id
    }

    fn affix(&mut self, a: &str) -> u64 {
        let next = self.affixes.len() as u32;
        u64::from(*self.affixes.entry(a.into()).or_insert(next))
    }

    pub fn tok(&self, id: u32) -> &Tok {
        &self.toks[id as usize]
    }

    pub fn text(&self, id: u32) -> &str {
        &self.tok(id).text
    }

    /// Heap bytes, roughly.
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.toks.iter().map(|t| t.text.len() * 2).sum();
        let affixes: usize = self.affixes.keys().map(|a| a.len()).sum();
        let entry = size_of::<(Box<str>, u32)>() + 1;
        strings
            + affixes
            + self.toks.capacity() * size_of::<Tok>()
            + (self.ids.capacity() + self.affixes.capacity()) * entry
    }
}

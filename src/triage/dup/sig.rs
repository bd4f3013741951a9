//! A question's compact signature: its content tokens as dictionary ids,
//! in text order, and the keys that find its likely duplicates in the index.
//! Packed as a few bytes: ids are variable-length integers (LEB128), and
//! the frequent tokens, met early, have the small ids of one byte.

use super::dict::Dict;
use super::normalize::tokens;
use super::similarity::{THRESHOLD, similarity};
use rustc_hash::FxHasher;
use std::hash::Hasher;

/// Tokens kept per question: a longer text says what it asks early on.
pub const MAX_TOKENS: usize = 24;

/// Content token ids, or, for a question without content, every word
/// (matched only exactly), as packed: a header (the ids' byte length << 1,
/// then 1 if exact), then the ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sig<'a> {
    ids: &'a [u8],
    exact: bool,
}

impl<'a> Sig<'a> {
    /// Packs the signature of `text` onto the end of `out`.
    pub fn pack(text: &str, dict: &mut Dict, out: &mut Vec<u8>) {
        let t = tokens(text);
        let mut ids: Vec<u32> = t
            .content()
            .take(MAX_TOKENS)
            .map(|w| dict.intern(w))
            .collect();
        let exact = ids.is_empty();
        if exact {
            ids = t.all().map(|w| dict.intern(w)).collect();
        }
        let len: u64 = ids.iter().map(|id| varint_len(u64::from(*id))).sum();
        put(out, len << 1 | u64::from(exact));
        for id in ids {
            put(out, u64::from(id));
        }
    }

    /// The signature packed at the start of `bytes`, and its packed length.
    pub fn read(bytes: &'a [u8]) -> (Sig<'a>, usize) {
        let mut at = 0;
        let header = take(bytes, &mut at);
        let end = at + (header >> 1) as usize;
        let sig = Sig {
            ids: &bytes[at..end],
            exact: header & 1 == 1,
        };
        (sig, end)
    }

    /// Its token ids, in text order.
    pub fn ids(self) -> impl Iterator<Item = u32> + 'a {
        let mut at = 0;
        std::iter::from_fn(move || (at < self.ids.len()).then(|| take(self.ids, &mut at) as u32))
    }

    /// Whether two questions ask the same thing.
    pub fn same(self, other: Sig, dict: &Dict) -> bool {
        if self.exact || other.exact {
            return self == other;
        }
        let (mut a, mut b) = ([0; MAX_TOKENS], [0; MAX_TOKENS]);
        let (a, b) = (self.unpack(&mut a), other.unpack(&mut b));
        similarity(a, b, dict) >= THRESHOLD
    }

    /// A content signature's ids in `buf` (it holds at most `MAX_TOKENS`).
    fn unpack(self, buf: &mut [u32; MAX_TOKENS]) -> &[u32] {
        let mut n = 0;
        for (slot, id) in buf.iter_mut().zip(self.ids()) {
            *slot = id;
            n += 1;
        }
        &buf[..n]
    }

    /// Index keys (into `out`, sorted, without repeats): each word's prefix
    /// and suffix keys. Numbers give keys only when nothing else does.
    pub fn keys(self, dict: &Dict, out: &mut Vec<u64>) {
        out.clear();
        if self.exact {
            let mut h = FxHasher::default();
            h.write(self.ids);
            // Apart from the affix keys, which are small integers.
            out.push(h.finish() | 1 << 63);
            return;
        }
        let words = self.ids().any(|t| !dict.tok(t).number);
        for t in self.ids().map(|t| dict.tok(t)) {
            if !words || !t.number {
                out.extend(t.keys);
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// Bytes of `v` as LEB128.
fn varint_len(v: u64) -> u64 {
    u64::from((64 - (v | 1).leading_zeros()).div_ceil(7))
}

/// Appends `v` as LEB128: seven bits a byte, the high bit set on all but
/// the last.
fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads the LEB128 integer at `bytes[*at..]`, moving `at` past it.
fn take(bytes: &[u8], at: &mut usize) -> u64 {
    let (mut v, mut shift) = (0, 0);
    loop {
        let b = bytes[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_every_width_read_back() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX)] {
            let mut out = Vec::new();
            put(&mut out, v);
            assert_eq!(out.len() as u64, varint_len(v), "{v}");
            let mut at = 0;
            assert_eq!(take(&out, &mut at), v);
            assert_eq!(at, out.len());
        }
    }

    #[test]
    fn a_packed_signature_reads_back_its_ids() {
        let mut dict = Dict::default();
        // Push ids past one byte, so the signature mixes widths.
        for i in 0..300 {
            dict.intern(&format!("filler{i}"));
        }
        let mut out = vec![7];
        Sig::pack("What is the roadmap for the keynote?", &mut dict, &mut out);
        let (sig, n) = Sig::read(&out[1..]);
        assert_eq!(n, out.len() - 1);
        assert!(!sig.exact);
        let words: Vec<&str> = sig.ids().map(|id| dict.text(id)).collect();
        assert_eq!(words, ["roadmap", "keynote"]);
        assert!(sig.ids().all(|id| id >= 300));
    }
}

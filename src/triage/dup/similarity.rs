//! Whether two questions ask the same thing: weighted overlap of their
//! content tokens, robust to word order, small typos, spacing ("road map"
//! is "roadmap") and numbers, but not to a different subject. Tokens are
//! dictionary ids: the overlap compares integers, and only the tokens it
//! leaves over are looked at as text (joins, typos).

use super::dict::Dict;
use super::normalize::is_number;
use super::sig::MAX_TOKENS;

/// Overlap from which two questions are duplicates.
pub const THRESHOLD: f32 = 0.6;

/// Numbers say little about what is asked ("the roadmap for 2025" is
/// still the roadmap question).
const NUMBER_WEIGHT: f32 = 0.25;

/// Up to `MAX_TOKENS` ids on the stack.
struct Few {
    n: usize,
    v: [u32; MAX_TOKENS],
}

impl Few {
    fn new() -> Few {
        Few {
            n: 0,
            v: [0; MAX_TOKENS],
        }
    }

    fn push(&mut self, t: u32) {
        if self.n < MAX_TOKENS {
            self.v[self.n] = t;
            self.n += 1;
        }
    }

    fn as_slice(&self) -> &[u32] {
        &self.v[..self.n]
    }
}

/// Matched weight over union weight of two content token lists (at most
/// `MAX_TOKENS` each, as signatures keep), 0 to 1. Empty lists match
/// nothing here (see `Sig::same`); neither do a question and its negation,
/// nor two that name different numbers ("in 2024" is not "in 2025",
/// though "in 2025" may be left out).
pub fn similarity(a: &[u32], b: &[u32], dict: &Dict) -> f32 {
    let (a, b) = (&a[..a.len().min(MAX_TOKENS)], &b[..b.len().min(MAX_TOKENS)]);
    let (sa, sb) = (Side::of(a, dict), Side::of(b, dict));
    if sa.negates != sb.negates {
        return 0.0;
    }
    if sa.numbers && sb.numbers && !a.iter().any(|n| dict.tok(*n).number && sb.contains(*n)) {
        return 0.0;
    }
    let (ja, jb) = (
        dedup(&joined(&sa, &sb, dict)),
        dedup(&joined(&sb, &sa, dict)),
    );
    let (a, b) = (ja.as_slice(), jb.as_slice());
    let b_members = Bloom::of(b);
    let weight = |t: u32| weight(dict, t);
    let total: f32 = a.iter().chain(b).map(|t| weight(*t)).sum();
    if total == 0.0 {
        return 0.0;
    }
    let mut free = [true; MAX_TOKENS];
    let mut matched = 0.0;
    let mut left = Few::new();
    for &t in a {
        let at = b_members
            .may(t)
            .then(|| b.iter().position(|u| *u == t))
            .flatten();
        match at {
            Some(i) => {
                free[i] = false;
                matched += weight(t);
            }
            None => left.push(t),
        }
    }
    // Even if every word left matched with a typo, too little overlap:
    // no need to look for typos.
    let left_a: f32 = left.as_slice().iter().map(|t| weight(*t)).sum();
    let left_b: f32 = (0..b.len())
        .filter(|&i| free[i])
        .map(|i| weight(b[i]))
        .sum();
    let best = matched + left_a.min(left_b);
    if best / (total - best) < THRESHOLD {
        return matched / (total - matched);
    }
    for &t in left.as_slice() {
        if let Some(i) = (0..b.len()).find(|&i| free[i] && typo(dict, t, b[i])) {
            free[i] = false;
            matched += weight(t).min(weight(b[i]));
        }
    }
    matched / (total - matched)
}

fn weight(dict: &Dict, t: u32) -> f32 {
    if dict.tok(t).number {
        NUMBER_WEIGHT
    } else {
        1.0
    }
}

/// [`near`] of two tokens, its cheap conditions first from the dictionary.
fn typo(dict: &Dict, a: u32, b: u32) -> bool {
    let (x, y) = (dict.tok(a), dict.tok(b));
    x.first == y.first
        && !x.number
        && !y.number
        && x.chars.min(y.chars) >= 4
        && x.chars.abs_diff(y.chars) <= 2
        && near(&x.text, &y.text)
}

/// One side of a comparison, with cheap filters: which ids it may hold,
/// and which (first byte, length) its tokens may have.
struct Side<'a> {
    ids: &'a [u32],
    members: Bloom,
    shapes: u64,
    negates: bool,
    numbers: bool,
}

impl Side<'_> {
    fn of<'a>(ids: &'a [u32], dict: &Dict) -> Side<'a> {
        let mut side = Side {
            ids,
            members: Bloom::of(ids),
            shapes: 0,
            negates: false,
            numbers: false,
        };
        for t in ids.iter().map(|t| dict.tok(*t)) {
            side.shapes |= shape(t.head, t.text.len());
            side.negates |= t.negation;
            side.numbers |= t.number;
        }
        side
    }

    fn contains(&self, t: u32) -> bool {
        self.members.may(t) && self.ids.contains(&t)
    }
}

/// Which ids a short list may hold (256 bits: few false hits for the
/// `MAX_TOKENS` of a signature).
#[derive(Default)]
struct Bloom([u64; 4]);

impl Bloom {
    fn of(ids: &[u32]) -> Bloom {
        let mut b = Bloom::default();
        for t in ids {
            b.add(*t);
        }
        b
    }

    fn at(t: u32) -> (usize, u64) {
        let h = t.wrapping_mul(0x9e37_79b1) >> 24;
        ((h >> 6) as usize, 1 << (h & 63))
    }

    fn add(&mut self, t: u32) {
        let (i, bit) = Bloom::at(t);
        self.0[i] |= bit;
    }

    fn may(&self, t: u32) -> bool {
        let (i, bit) = Bloom::at(t);
        self.0[i] & bit != 0
    }
}

/// A token's (first byte, length) as one bit.
fn shape(head: u8, len: usize) -> u64 {
    1 << ((head as usize).wrapping_mul(31).wrapping_add(len) & 63)
}

/// `a` with adjacent tokens joined where the join is a token of `other`
/// and the parts are not ("road map" against "roadmap").
fn joined(a: &Side, other: &Side, dict: &Dict) -> Few {
    let (ids, mut out, mut i) = (a.ids, Few::new(), 0);
    // Bit i: `ids[i]` is a token of `other`.
    let inside = ids
        .iter()
        .enumerate()
        .filter(|(_, t)| other.contains(**t))
        .fold(0u32, |m, (i, _)| m | 1 << i);
    let outside = |i: usize| inside & (1 << i) == 0;
    while i < ids.len() {
        if i + 1 < ids.len() && outside(i) && outside(i + 1) {
            let (x, y) = (dict.text(ids[i]), dict.text(ids[i + 1]));
            let head = dict.tok(ids[i]).head;
            let join = (other.shapes & shape(head, x.len() + y.len()) != 0)
                .then(|| {
                    other.ids.iter().find(|o| {
                        let o = dict.text(**o);
                        o.len() == x.len() + y.len() && o.starts_with(x) && o.ends_with(y)
                    })
                })
                .flatten();
            if let Some(o) = join {
                out.push(*o);
                i += 2;
                continue;
            }
        }
        out.push(ids[i]);
        i += 1;
    }
    out
}

fn dedup(v: &Few) -> Few {
    let (mut out, mut seen) = (Few::new(), Bloom::default());
    for &t in v.as_slice() {
        if !seen.may(t) || !out.as_slice().contains(&t) {
            out.push(t);
            seen.add(t);
        }
    }
    out
}

/// A small typo: edit distance 1 for words of 4 letters or more, 2 from 8,
/// with the first letter the same (a typo seldom hits it, and "rate" is
/// not "date"). Numbers match only exactly.
pub fn near(a: &str, b: &str) -> bool {
    // Cheap first: two characters apart are at most eight bytes apart.
    if a.len().abs_diff(b.len()) > 8 || a.chars().next() != b.chars().next() {
        return false;
    }
    if is_number(a) || is_number(b) {
        return false;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let shorter = la.min(lb);
    let max = match shorter {
        0..=3 => return false,
        4..=7 => 1,
        _ => 2,
    };
    if la.abs_diff(lb) > max || a.chars().next() != b.chars().next() {
        return false;
    }
    edit_distance(a, b, max) <= max
}

/// Edit distance with a swap of neighbours counting one ("raodmap"),
/// stopping early once over `max`. Plain ASCII words are compared as bytes.
fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    if a.is_ascii() && b.is_ascii() {
        return distance(a.as_bytes(), b.as_bytes(), max);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance(&a, &b, max)
}

/// Rows kept on the stack for words up to this length.
const SHORT: usize = 40;

fn distance<T: PartialEq>(a: &[T], b: &[T], max: usize) -> usize {
    let n = b.len() + 1;
    let (mut r0, mut r1, mut r2) = (
        [0usize; SHORT + 1],
        [0usize; SHORT + 1],
        [0usize; SHORT + 1],
    );
    let (mut v0, mut v1, mut v2);
    let (mut before, mut prev, mut cur): (&mut [usize], &mut [usize], &mut [usize]) =
        if n <= SHORT + 1 {
            (&mut r0[..n], &mut r1[..n], &mut r2[..n])
        } else {
            v0 = vec![0; n];
            v1 = vec![0; n];
            v2 = vec![0; n];
            (&mut v0[..], &mut v1[..], &mut v2[..])
        };
    for (j, p) in prev.iter_mut().enumerate() {
        *p = j;
    }
    for i in 0..a.len() {
        cur[0] = i + 1;
        let mut best = cur[0];
        for j in 0..b.len() {
            let cost = usize::from(a[i] != b[j]);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(before[j - 1] + 1);
            }
            cur[j + 1] = d;
            best = best.min(d);
        }
        if best > max {
            return best;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_within_the_allowed_distance() {
        assert!(near("roadmap", "raodmap"));
        assert!(near("recording", "recordign"));
        assert!(near("slides", "slide"));
        assert!(!near("rate", "date"));
        assert!(!near("cat", "cut"));
        assert!(!near("2024", "2025"));
        assert_eq!(edit_distance("kitten", "sitting", 5), 3);
        assert_eq!(edit_distance("ab", "ba", 5), 1);
    }

    /// The similarity of two token lists, through a dictionary.
    fn sim(a: &[&str], b: &[&str]) -> f32 {
        let mut dict = Dict::default();
        let a: Vec<u32> = a.iter().map(|t| dict.intern(t)).collect();
        let b: Vec<u32> = b.iter().map(|t| dict.intern(t)).collect();
        similarity(&a, &b, &dict)
    }

    #[test]
    fn spacing_joins_tokens() {
        assert_eq!(sim(&["road", "map"], &["roadmap"]), 1.0);
        assert_eq!(sim(&["roadmap"], &["road", "map"]), 1.0);
    }

    #[test]
    fn numbers_weigh_little() {
        let s = sim(&["roadmap", "2025"], &["roadmap"]);
        assert!(s > THRESHOLD, "{s}");
        assert!(sim(&["roadmap", "city", "council"], &["roadmap"]) < THRESHOLD);
    }
}

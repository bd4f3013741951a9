//! Whether two questions ask the same thing: weighted overlap of their
//! content tokens, robust to word order, small typos, spacing ("road map"
//! is "roadmap") and numbers, but not to a different subject.

use super::normalize::is_number;
use super::words::is_negation;

/// Overlap from which two questions are duplicates.
pub const THRESHOLD: f32 = 0.6;

/// Numbers say little about what is asked ("the roadmap for 2025" is
/// still the roadmap question).
const NUMBER_WEIGHT: f32 = 0.25;

/// Matched weight over union weight of two content token lists, 0 to 1.
/// Empty lists match nothing here (see `Sig::same`); neither do a
/// question and its negation, nor two that name different numbers
/// ("in 2024" is not "in 2025", though "in 2025" may be left out).
pub fn similarity(a: &[&str], b: &[&str]) -> f32 {
    if a.iter().any(|t| is_negation(t)) != b.iter().any(|t| is_negation(t)) {
        return 0.0;
    }
    let numbers = |v: &[&str]| -> Vec<String> {
        v.iter()
            .filter(|t| is_number(t))
            .map(|t| t.to_string())
            .collect()
    };
    let (na, nb) = (numbers(a), numbers(b));
    if !na.is_empty() && !nb.is_empty() && !na.iter().any(|n| nb.contains(n)) {
        return 0.0;
    }
    let (ja, jb) = (joined(a, b), joined(b, a));
    let (a, b) = (dedup(&ja), dedup(&jb));
    let total: f32 = a.iter().chain(&b).map(|t| weight(t)).sum();
    if total == 0.0 {
        return 0.0;
    }
    let mut free: Vec<bool> = vec![true; b.len()];
    let mut matched = 0.0;
    let mut left = Vec::new();
    for t in &a {
        match b.iter().enumerate().position(|(i, u)| free[i] && u == t) {
            Some(i) => {
                free[i] = false;
                matched += weight(t);
            }
            None => left.push(*t),
        }
    }
    for t in left {
        if let Some(i) = (0..b.len()).find(|&i| free[i] && near(t, b[i])) {
            free[i] = false;
            matched += weight(t).min(weight(b[i]));
        }
    }
    matched / (total - matched)
}

fn weight(t: &str) -> f32 {
    if is_number(t) { NUMBER_WEIGHT } else { 1.0 }
}

/// `a` with adjacent tokens joined where the join is a token of `other`
/// and the parts are not ("road map" against "roadmap").
fn joined<'s>(a: &[&'s str], other: &[&str]) -> Vec<std::borrow::Cow<'s, str>> {
    let mut out = Vec::with_capacity(a.len());
    let mut i = 0;
    while i < a.len() {
        if i + 1 < a.len() && !other.contains(&a[i]) && !other.contains(&a[i + 1]) {
            // Equal or near words start alike: only then is the join worth
            // building.
            let first = a[i].chars().next().or_else(|| a[i + 1].chars().next());
            if other.iter().any(|o| o.chars().next() == first) {
                let join = format!("{}{}", a[i], a[i + 1]);
                if other.iter().any(|o| *o == join || near(&join, o)) {
                    out.push(join.into());
                    i += 2;
                    continue;
                }
            }
        }
        out.push(a[i].into());
        i += 1;
    }
    out
}

fn dedup<'s>(v: &'s [std::borrow::Cow<'_, str>]) -> Vec<&'s str> {
    let mut out: Vec<&str> = Vec::with_capacity(v.len());
    for t in v {
        if !out.contains(&t.as_ref()) {
            out.push(t);
        }
    }
    out
}

/// A small typo: edit distance 1 for words of 4 letters or more, 2 from 8,
/// with the first letter the same (a typo seldom hits it, and "rate" is
/// not "date"). Numbers match only exactly.
pub fn near(a: &str, b: &str) -> bool {
    // The first letter first: it rejects most pairs before any counting.
    if a.chars().next() != b.chars().next() || is_number(a) || is_number(b) {
        return false;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let shorter = la.min(lb);
    let max = match shorter {
        0..=3 => return false,
        4..=7 => 1,
        _ => 2,
    };
    if la.abs_diff(lb) > max {
        return false;
    }
    edit_distance(a, b, max) <= max
}

/// Edit distance with a swap of neighbours counting one ("raodmap"),
/// stopping early once over `max`.
fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
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

    #[test]
    fn spacing_joins_tokens() {
        assert_eq!(similarity(&["road", "map"], &["roadmap"]), 1.0);
        assert_eq!(similarity(&["roadmap"], &["road", "map"]), 1.0);
    }

    #[test]
    fn numbers_weigh_little() {
        let s = similarity(&["roadmap", "2025"], &["roadmap"]);
        assert!(s > THRESHOLD, "{s}");
        assert!(similarity(&["roadmap", "city", "council"], &["roadmap"]) < THRESHOLD);
    }
}

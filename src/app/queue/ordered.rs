//! One status list's order keys, sorted, in chunks of at most [`CAP`]: a
//! chunk is found by binary search over the chunks' first keys, then the
//! key inside it. Arrivals in order (a listing, time order) fill each chunk
//! to the brim, where a `BTreeSet` splits its nodes in half and keeps them
//! half empty; a key put in between splits a full chunk in two.

use super::OrderKey;

/// Keys a chunk holds at most.
const CAP: usize = 512;

#[derive(Debug, Default)]
pub(super) struct Ordered {
    chunks: Vec<Vec<OrderKey>>,
    len: usize,
}

impl Ordered {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    /// The chunk where `k` belongs: the last one starting at or before it.
    fn chunk_of(&self, k: &OrderKey) -> usize {
        self.chunks
            .partition_point(|c| c.first().is_some_and(|f| f <= k))
            .saturating_sub(1)
    }

    /// Where the first key at or after `k` is (chunk, place; the place may
    /// be the chunk's end).
    fn at_or_after(&self, k: &OrderKey) -> (usize, usize) {
        let ci = self.chunk_of(k);
        let i = self
            .chunks
            .get(ci)
            .map_or(0, |c| c.partition_point(|x| x < k));
        (ci, i)
    }

    pub(super) fn insert(&mut self, k: OrderKey) {
        if self.chunks.is_empty() {
            self.chunks.push(Vec::with_capacity(CAP));
        }
        let (ci, i) = self.at_or_after(&k);
        let last = self.chunks.len() - 1;
        let c = &mut self.chunks[ci];
        if c.get(i) == Some(&k) {
            return;
        }
        self.len += 1;
        if c.len() < CAP {
            c.insert(i, k);
        } else if ci == last && i == c.len() {
            let mut next = Vec::with_capacity(CAP);
            next.push(k);
            self.chunks.push(next);
        } else {
            let mut right = Vec::with_capacity(CAP);
            right.extend(c.drain(CAP / 2..));
            if i <= CAP / 2 {
                c.insert(i, k);
            } else {
                right.insert(i - CAP / 2, k);
            }
            self.chunks.insert(ci + 1, right);
        }
    }

    pub(super) fn remove(&mut self, k: &OrderKey) {
        let (ci, i) = self.at_or_after(k);
        let Some(c) = self.chunks.get_mut(ci) else {
            return;
        };
        if c.get(i) != Some(k) {
            return;
        }
        c.remove(i);
        self.len -= 1;
        if c.is_empty() {
            self.chunks.remove(ci);
        }
    }

    pub(super) fn last(&self) -> Option<&OrderKey> {
        self.chunks.last()?.last()
    }

    /// Keys from `k` on (inclusive; every key when `None`), in order.
    pub(super) fn from<'s>(
        &'s self,
        k: Option<&OrderKey>,
    ) -> impl Iterator<Item = &'s OrderKey> + use<'s> {
        let (ci, i) = k.map_or((0, 0), |k| self.at_or_after(k));
        let head = self.chunks.get(ci).map_or(&[][..], |c| &c[i..]);
        head.iter().chain(self.chunks.iter().skip(ci + 1).flatten())
    }

    /// Keys strictly after `k`, in order.
    pub(super) fn after<'s>(
        &'s self,
        k: &OrderKey,
    ) -> impl Iterator<Item = &'s OrderKey> + use<'s> {
        let k = *k;
        self.from(Some(&k)).skip_while(move |x| **x == k)
    }

    /// Keys strictly before `k`, nearest first.
    pub(super) fn before<'s>(
        &'s self,
        k: &OrderKey,
    ) -> impl Iterator<Item = &'s OrderKey> + use<'s> {
        let (ci, i) = self.at_or_after(k);
        let head = self.chunks.get(ci).map_or(&[][..], |c| &c[..i]);
        head.iter().rev().chain(
            self.chunks[..ci.min(self.chunks.len())]
                .iter()
                .rev()
                .flat_map(|c| c.iter().rev()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn key(n: u32) -> OrderKey {
        OrderKey::new(0, i64::from(n / 3), n, n)
    }

    /// Any mix of insertions and removals reads as a `BTreeSet` does.
    #[test]
    fn reads_as_a_sorted_set() {
        let mut ours = Ordered::default();
        let mut set = BTreeSet::new();
        let mut x: u32 = 7;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let n = if step < 3_000 { step } else { (x >> 8) % 6_000 };
            if x.is_multiple_of(5) {
                ours.remove(&key(n));
                set.remove(&key(n));
            } else {
                ours.insert(key(n));
                set.insert(key(n));
            }
        }
        assert_eq!(ours.len(), set.len());
        assert!(ours.from(None).eq(set.iter()));
        assert_eq!(ours.from(None).next(), set.first());
        assert_eq!(ours.last(), set.last());
        for n in [0, 1, 511, 512, 2_999, 3_001, 5_999, 7_000] {
            let k = key(n);
            assert!(ours.from(Some(&k)).eq(set.range(k..)), "from {n}");
            assert!(
                ours.after(&k).eq(set.range(k..).filter(|x| **x != k)),
                "after {n}"
            );
            assert!(ours.before(&k).eq(set.range(..k).rev()), "before {n}");
        }
        ours.clear();
        assert_eq!((ours.len(), ours.from(None).next()), (0, None));
    }

    #[test]
    fn arrivals_in_order_fill_their_chunks() {
        let mut ours = Ordered::default();
        for n in 0..(CAP * 4) as u32 {
            ours.insert(key(n));
        }
        assert_eq!(ours.chunks.len(), 4);
        assert!(
            ours.chunks
                .iter()
                .all(|c| c.len() == CAP && c.capacity() == CAP)
        );
    }
}

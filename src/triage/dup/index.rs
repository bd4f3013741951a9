//! The incremental duplicate index. Each arrival looks up a few short
//! posting lists (capped, so the cost does not grow with the number of
//! questions), measures only the best few candidates, and joins their
//! groups: groups are the connected components of "asks the same thing".

use super::dict::Dict;
use super::posts::Posts;
use super::sigs::Sigs;
use rustc_hash::FxHashMap;

/// Candidates measured exactly per arrival.
const MEASURED: usize = 8;
/// Largest group a removal splits: working out which members still ask
/// the same thing compares every pair, so a bigger group (a flood of one
/// question) only loses the member that left and stays one group.
const SPLIT_MAX: usize = 64;

/// What an insertion or removal changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regroup {
    /// Groups that no longer exist (merged into another, or split).
    pub gone: Vec<u32>,
    /// Groups that are new or have other members now.
    pub changed: Vec<u32>,
    /// Slots that were in a group of two or more and are alone now.
    pub slots: Vec<u32>,
}

/// Buffers an arrival reuses, so it allocates nothing of its own.
#[derive(Debug, Default)]
struct Scratch {
    keys: Vec<u64>,
    /// Posting lists a slot is on, of the keys looked up (by slot).
    counts: Vec<u8>,
    touched: Vec<u32>,
    /// Candidates as (255 − count) << 32 | slot: sorted, the most keys
    /// shared first, then the lowest slot.
    cands: Vec<u64>,
}

/// Duplicate groups over questions numbered by the caller (`slot`, small
/// dense integers: the caller reuses freed ones).
#[derive(Debug, Default)]
pub struct Index {
    dict: Dict,
    sigs: Sigs,
    /// By slot: its group's id, a member's slot (the slot itself while
    /// alone); meaningless for a slot without a signature.
    group: Vec<u32>,
    posts: Posts,
    /// Members of every group of two or more, by group id, in slot order.
    groups: FxHashMap<u32, Vec<u32>>,
    held: usize,
    scratch: Scratch,
}

impl Index {
    pub fn new() -> Index {
        Index::default()
    }

    /// Adds (or replaces) a question's text.
    pub fn insert(&mut self, slot: u32, text: &str) -> Regroup {
        let mut out = self.remove(slot);
        let mut keys = std::mem::take(&mut self.scratch.keys);
        let sig = self.sigs.insert(slot, text, &mut self.dict);
        sig.keys(&self.dict, &mut keys);
        let at = slot as usize;
        if self.group.len() <= at {
            self.group.resize(at + 1, 0);
        }
        self.group[at] = slot;
        self.held += 1;
        let mut cands = self.candidates(&keys);
        let (mut measured, mut sorted, mut i) = (0, 0, 0);
        while measured < MEASURED && i < cands.len() {
            if i == sorted {
                sorted = sort_next(&mut cands, sorted);
            }
            let cand = cands[i] as u32;
            i += 1;
            let (Some(mine), Some(theirs)) = (self.group_of_any(slot), self.group_of_any(cand))
            else {
                continue;
            };
            if mine == theirs {
                continue;
            }
            measured += 1;
            if self.same(slot, cand) {
                let (kept, gone) = self.union(mine, theirs);
                out.gone.retain(|g| *g != kept);
                out.gone.push(gone);
                out.changed.retain(|g| *g != gone);
                if !out.changed.contains(&kept) {
                    out.changed.push(kept);
                }
            }
        }
        self.scratch.cands = cands;
        for k in &keys {
            self.posts.push(*k, slot);
        }
        self.scratch.keys = keys;
        out.gone.retain(|g| !self.groups.contains_key(g));
        out
    }

    /// The slots on the posting lists of `keys` (unsorted; `sort_next`
    /// puts the most lists shared, then the lowest slot, first).
    fn candidates(&mut self, keys: &[u64]) -> Vec<u64> {
        let Scratch {
            counts,
            touched,
            cands,
            ..
        } = &mut self.scratch;
        if counts.len() < self.sigs.slots() {
            counts.resize(self.sigs.slots(), 0);
        }
        touched.clear();
        for k in keys {
            for s in self.posts.slots(*k) {
                let c = &mut counts[*s as usize];
                if *c == 0 {
                    touched.push(*s);
                }
                *c = c.saturating_add(1);
            }
        }
        let mut out = std::mem::take(cands);
        out.clear();
        for s in touched.iter() {
            let c = &mut counts[*s as usize];
            out.push(u64::from(255 - *c) << 32 | u64::from(*s));
            *c = 0;
        }
        out
    }

    /// Takes a question out (deleted, or its text is about to change); its
    /// group is worked out again without it, which may split it (up to
    /// [`SPLIT_MAX`] members).
    pub fn remove(&mut self, slot: u32) -> Regroup {
        let Some(sig) = self.sigs.get(slot) else {
            return Regroup::default();
        };
        let mut keys = std::mem::take(&mut self.scratch.keys);
        sig.keys(&self.dict, &mut keys);
        self.sigs.remove(slot);
        self.held -= 1;
        let group = self.group[slot as usize];
        for k in &keys {
            self.posts.remove(*k, slot);
        }
        self.scratch.keys = keys;
        let Some(mut members) = self.groups.remove(&group) else {
            return Regroup::default();
        };
        members.retain(|s| *s != slot);
        let mut out = Regroup {
            gone: vec![group],
            ..Regroup::default()
        };
        let parts = if members.len() > SPLIT_MAX {
            vec![members]
        } else {
            self.components(&members)
        };
        for part in parts {
            let id = part[0];
            for s in &part {
                self.group[*s as usize] = id;
            }
            if part.len() > 1 {
                self.groups.insert(id, part);
                out.changed.push(id);
            } else {
                out.slots.push(id);
            }
        }
        out.gone.retain(|g| !self.groups.contains_key(g));
        out.slots.push(slot);
        out
    }

    /// The group of a slot, if it has duplicates.
    pub fn group_of(&self, slot: u32) -> Option<u32> {
        let g = self.group_of_any(slot)?;
        self.groups.contains_key(&g).then_some(g)
    }

    /// Members of a group (empty for an unknown one), in slot order.
    pub fn members(&self, group: u32) -> &[u32] {
        self.groups.get(&group).map_or(&[], Vec::as_slice)
    }

    /// Questions held.
    pub fn len(&self) -> usize {
        self.held
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the index holds on the heap, roughly (for the benchmark).
    pub fn heap_bytes(&self) -> usize {
        let recs = self.sigs.heap_bytes() + self.group.capacity() * size_of::<u32>();
        let dict = self.dict.heap_bytes() + self.scratch.counts.capacity();
        let posts = self.posts.heap_bytes();
        let groups = self.groups.capacity() * size_of::<(u32, Vec<u32>)>()
            + self
                .groups
                .values()
                .map(|v| v.capacity() * 4)
                .sum::<usize>();
        recs + posts + groups + dict
    }

    fn group_of_any(&self, slot: u32) -> Option<u32> {
        self.sigs.get(slot).map(|_| self.group[slot as usize])
    }

    fn same(&self, a: u32, b: u32) -> bool {
        match (self.sigs.get(a), self.sigs.get(b)) {
            (Some(x), Some(y)) => x.same(y, &self.dict),
            _ => false,
        }
    }

    /// Joins two groups (ids); the larger one's id stays. Returns (kept, gone).
    fn union(&mut self, a: u32, b: u32) -> (u32, u32) {
        let ma = self.groups.remove(&a).unwrap_or_else(|| vec![a]);
        let mb = self.groups.remove(&b).unwrap_or_else(|| vec![b]);
        let (kept, gone, mut big, small) = if ma.len() >= mb.len() {
            (a, b, ma, mb)
        } else {
            (b, a, mb, ma)
        };
        for s in &small {
            self.group[*s as usize] = kept;
        }
        let members = match small[..] {
            [one] => {
                let at = big.binary_search(&one).unwrap_or_else(|at| at);
                big.insert(at, one);
                big
            }
            _ => merged(&big, &small),
        };
        self.groups.insert(kept, members);
        (kept, gone)
    }

    /// The connected components of `members` under `same` (a removal's
    /// regrouping: a group's size, not the index's).
    fn components(&self, members: &[u32]) -> Vec<Vec<u32>> {
        let n = members.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for i in 0..n {
            for j in i + 1..n {
                if root(&mut parent, i) != root(&mut parent, j) && self.same(members[i], members[j])
                {
                    let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
        let mut parts: FxHashMap<usize, Vec<u32>> = FxHashMap::default();
        for (i, m) in members.iter().enumerate() {
            let r = root(&mut parent, i);
            parts.entry(r).or_default().push(*m);
        }
        let mut v: Vec<Vec<u32>> = parts.into_values().collect();
        v.sort_unstable();
        v
    }
}

/// Candidates sorted a few at a time.
const SORTED_STEP: usize = 32;

/// Sorts the smallest few of `c[from..]` into place: an arrival sorts only
/// the candidates it looks at. Returns where the sorted part ends now.
fn sort_next(c: &mut [u64], from: usize) -> usize {
    let rest = &mut c[from..];
    let k = rest.len().min(SORTED_STEP);
    if rest.len() > k {
        rest.select_nth_unstable(k - 1);
    }
    rest[..k].sort_unstable();
    from + k
}

/// Two sorted slot lists as one.
fn merged(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

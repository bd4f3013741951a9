//! The incremental duplicate index. Each arrival looks up a few short
//! posting lists (capped, so the cost does not grow with the number of
//! questions), measures only the best few candidates, and joins their
//! groups: groups are the connected components of "asks the same thing".

use super::sig::Sig;
use std::collections::HashMap;

/// Slots a posting list keeps (the most recent; an older question is
/// still found through any later member of its group).
const POSTING_CAP: usize = 32;
/// Candidates measured exactly per arrival.
const MEASURED: usize = 8;

/// What an insertion or removal changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regroup {
    /// Groups that no longer exist (merged into another, or split).
    pub gone: Vec<u32>,
    /// Groups that are new or have other members now.
    pub changed: Vec<u32>,
    /// Every slot whose group or group size is different now.
    pub slots: Vec<u32>,
}

#[derive(Debug)]
struct Rec {
    sig: Sig,
    /// The group's id: a member's slot (the slot itself while alone).
    group: u32,
}

/// Duplicate groups over questions numbered by the caller (`slot`, small
/// dense integers: the caller reuses freed ones).
#[derive(Debug, Default)]
pub struct Index {
    recs: Vec<Option<Rec>>,
    posts: HashMap<u64, Vec<u32>>,
    /// Members of every group of two or more, by group id.
    groups: HashMap<u32, Vec<u32>>,
    held: usize,
}

impl Index {
    pub fn new() -> Index {
        Index::default()
    }

    /// Adds (or replaces) a question's text.
    pub fn insert(&mut self, slot: u32, text: &str) -> Regroup {
        let mut out = self.remove(slot);
        let sig = Sig::of(text);
        let keys = sig.keys();
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for k in &keys {
            for s in self.posts.get(k).into_iter().flatten() {
                *counts.entry(*s).or_default() += 1;
            }
        }
        let mut cands: Vec<(u32, u32)> = counts.into_iter().collect();
        cands.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let at = slot as usize;
        if self.recs.len() <= at {
            self.recs.resize_with(at + 1, || None);
        }
        self.recs[at] = Some(Rec { sig, group: slot });
        self.held += 1;
        let mut measured = 0;
        for (cand, _) in cands {
            if measured == MEASURED {
                break;
            }
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
        for k in keys {
            let list = self.posts.entry(k).or_default();
            if list.len() == POSTING_CAP {
                list.remove(0);
            }
            list.push(slot);
        }
        out.gone.retain(|g| !self.groups.contains_key(g));
        for g in &out.changed {
            out.slots.extend(self.members(*g).iter().copied());
        }
        out.slots.push(slot);
        out.slots.sort_unstable();
        out.slots.dedup();
        out
    }

    /// Takes a question out (deleted, or its text is about to change); its
    /// group is worked out again without it, which may split it.
    pub fn remove(&mut self, slot: u32) -> Regroup {
        let Some(rec) = self.recs.get_mut(slot as usize).and_then(Option::take) else {
            return Regroup::default();
        };
        self.held -= 1;
        for k in rec.sig.keys() {
            if let Some(list) = self.posts.get_mut(&k) {
                list.retain(|s| *s != slot);
                if list.is_empty() {
                    self.posts.remove(&k);
                }
            }
        }
        let Some(mut members) = self.groups.remove(&rec.group) else {
            return Regroup::default();
        };
        members.retain(|s| *s != slot);
        let mut out = Regroup {
            gone: vec![rec.group],
            slots: members.clone(),
            ..Regroup::default()
        };
        for part in self.components(&members) {
            let id = part[0];
            for s in &part {
                if let Some(r) = self.rec_mut(*s) {
                    r.group = id;
                }
            }
            if part.len() > 1 {
                self.groups.insert(id, part);
                out.changed.push(id);
            }
        }
        out.gone.retain(|g| !self.groups.contains_key(g));
        out.slots.push(slot);
        out
    }

    /// The group of a slot, if it has duplicates.
    pub fn group_of(&self, slot: u32) -> Option<u32> {
        let g = self.rec(slot)?.group;
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
        let slot = size_of::<Option<Rec>>();
        let recs: usize = self.recs.capacity() * slot
            + self
                .recs
                .iter()
                .flatten()
                .map(|r| r.sig.heap_bytes())
                .sum::<usize>();
        let entry = size_of::<(u64, Vec<u32>)>() + 1;
        let posts = self.posts.capacity() * entry
            + self.posts.values().map(|v| v.capacity() * 4).sum::<usize>();
        let groups = self.groups.capacity() * size_of::<(u32, Vec<u32>)>()
            + self
                .groups
                .values()
                .map(|v| v.capacity() * 4)
                .sum::<usize>();
        recs + posts + groups
    }

    fn rec(&self, slot: u32) -> Option<&Rec> {
        self.recs.get(slot as usize)?.as_ref()
    }

    fn rec_mut(&mut self, slot: u32) -> Option<&mut Rec> {
        self.recs.get_mut(slot as usize)?.as_mut()
    }

    fn group_of_any(&self, slot: u32) -> Option<u32> {
        self.rec(slot).map(|r| r.group)
    }

    fn same(&self, a: u32, b: u32) -> bool {
        match (self.rec(a), self.rec(b)) {
            (Some(x), Some(y)) => x.sig.same(&y.sig),
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
            if let Some(r) = self.rec_mut(*s) {
                r.group = kept;
            }
        }
        big.extend(small);
        big.sort_unstable();
        self.groups.insert(kept, big);
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
        let mut parts: HashMap<usize, Vec<u32>> = HashMap::new();
        for (i, m) in members.iter().enumerate() {
            let r = root(&mut parent, i);
            parts.entry(r).or_default().push(*m);
        }
        let mut v: Vec<Vec<u32>> = parts.into_values().collect();
        v.sort_unstable();
        v
    }
}

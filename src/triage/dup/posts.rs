//! Posting lists: for each index key, the slots of the most recent
//! [`CAP`] questions that have it (an older question is still found
//! through any later member of its group). A list lives in a block of 2,
//! 4, 8, 16 or 32 slots taken from one pool per size, so a list costs no
//! allocation and no header of its own; a full list is a ring whose
//! oldest slot the next arrival overwrites.

use rustc_hash::FxHashMap;

/// Slots a list keeps.
pub const CAP: usize = 32;
/// Block sizes: 2 << class.
const CLASSES: usize = 5;

/// One key's list: `len` slots at the start of its block, oldest first
/// from `head` on (`head` moves only in a full list).
#[derive(Debug, Clone, Copy, Default)]
struct List {
    block: u32,
    class: u8,
    head: u8,
    /// 0 for a list without a block.
    len: u8,
}

/// Blocks of one size, one after another.
#[derive(Debug, Default)]
struct Pool {
    slots: Vec<u32>,
    /// Blocks no list holds.
    free: Vec<u32>,
}

#[derive(Debug, Default)]
pub struct Posts {
    /// By affix key: those are small dense integers.
    affix: Vec<List>,
    /// The keys of questions without content (hashes, high bit set).
    exact: FxHashMap<u64, List>,
    pools: [Pool; CLASSES],
}

impl Posts {
    /// The slots on a key's list, in no particular order.
    pub fn slots(&self, key: u64) -> &[u32] {
        match self.list(key) {
            Some(l) if l.len > 0 => &self.block(l)[..usize::from(l.len)],
            _ => &[],
        }
    }

    /// Puts a slot on a key's list, dropping the oldest of a full one.
    pub fn push(&mut self, key: u64, slot: u32) {
        let mut l = self.get(key);
        let size = 2 << l.class;
        if l.len == 0 {
            l = List {
                block: self.pools[0].alloc(2),
                ..List::default()
            };
        } else if usize::from(l.len) == size && size < CAP {
            // Into a block twice the size, from the next pool.
            let c = usize::from(l.class);
            let block = self.pools[c + 1].alloc(size * 2);
            let (from, to) = (self.start(l), start(l.class + 1, block));
            let (small, big) = self.pools.split_at_mut(c + 1);
            big[0].slots[to..to + size].copy_from_slice(&small[c].slots[from..from + size]);
            small[c].free.push(l.block);
            l = List {
                block,
                class: l.class + 1,
                ..l
            };
        }
        let at = self.start(l);
        let pool = &mut self.pools[usize::from(l.class)];
        if usize::from(l.len) == CAP {
            pool.slots[at + usize::from(l.head)] = slot;
            l.head = (l.head + 1) % CAP as u8;
        } else {
            pool.slots[at + usize::from(l.len)] = slot;
            l.len += 1;
        }
        self.put(key, l);
    }

    /// Takes a slot off a key's list (the others keep their order).
    pub fn remove(&mut self, key: u64, slot: u32) {
        let mut l = self.get(key);
        if l.len == 0 {
            return;
        }
        let at = self.start(l);
        let pool = &mut self.pools[usize::from(l.class)];
        let list = &mut pool.slots[at..at + usize::from(l.len)];
        list.rotate_left(usize::from(l.head));
        l.head = 0;
        if let Some(i) = list.iter().position(|s| *s == slot) {
            list.copy_within(i + 1.., i);
            l.len -= 1;
        }
        if l.len == 0 {
            pool.free.push(l.block);
            l = List::default();
        }
        self.put(key, l);
    }

    /// Heap bytes, capacity included.
    pub fn heap_bytes(&self) -> usize {
        let pools: usize = self
            .pools
            .iter()
            .map(|p| (p.slots.capacity() + p.free.capacity()) * size_of::<u32>())
            .sum();
        let entry = size_of::<(u64, List)>() + 1;
        pools + self.affix.capacity() * size_of::<List>() + self.exact.capacity() * entry
    }

    fn list(&self, key: u64) -> Option<List> {
        match usize::try_from(key) {
            Ok(k) if key >> 63 == 0 => self.affix.get(k).copied(),
            _ => self.exact.get(&key).copied(),
        }
    }

    /// A key's list (an empty one if it has none).
    fn get(&self, key: u64) -> List {
        self.list(key).unwrap_or_default()
    }

    fn put(&mut self, key: u64, l: List) {
        match usize::try_from(key) {
            Ok(k) if key >> 63 == 0 => {
                if self.affix.len() <= k {
                    self.affix.resize(k + 1, List::default());
                }
                self.affix[k] = l;
            }
            _ if l.len == 0 => {
                self.exact.remove(&key);
            }
            _ => {
                self.exact.insert(key, l);
            }
        }
    }

    fn start(&self, l: List) -> usize {
        start(l.class, l.block)
    }

    fn block(&self, l: List) -> &[u32] {
        let at = self.start(l);
        &self.pools[usize::from(l.class)].slots[at..at + (2 << l.class)]
    }
}

/// Where a block starts in its pool.
fn start(class: u8, block: u32) -> usize {
    block as usize * (2 << class)
}

impl Pool {
    /// A block of `size` slots no list holds.
    fn alloc(&mut self, size: usize) -> u32 {
        if let Some(b) = self.free.pop() {
            return b;
        }
        let b = (self.slots.len() / size) as u32;
        self.slots.resize(self.slots.len() + size, 0);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(posts: &Posts, key: u64) -> Vec<u32> {
        let mut v = posts.slots(key).to_vec();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_full_list_keeps_the_newest() {
        let mut posts = Posts::default();
        for s in 0..40 {
            posts.push(5, s);
        }
        assert_eq!(sorted(&posts, 5), (8..40).collect::<Vec<_>>());
        // A removal from the wrapped ring keeps the others' order.
        posts.remove(5, 20);
        posts.push(5, 100);
        posts.push(5, 101);
        let want: Vec<u32> = (9..40).filter(|s| *s != 20).chain([100, 101]).collect();
        assert_eq!(sorted(&posts, 5), want);
        for s in 102..110 {
            posts.push(5, s);
        }
        let want: Vec<u32> = (17..40).filter(|s| *s != 20).chain(100..110).collect();
        assert_eq!(sorted(&posts, 5), want);
    }

    #[test]
    fn an_emptied_list_gives_its_block_back() {
        let mut posts = Posts::default();
        for s in 0..5 {
            posts.push(1, s);
        }
        let pooled: Vec<usize> = posts.pools.iter().map(|p| p.slots.len()).collect();
        for s in 0..5 {
            posts.remove(1, s);
        }
        assert!(posts.slots(1).is_empty());
        for s in 0..5 {
            posts.push(2, s);
        }
        let again: Vec<usize> = posts.pools.iter().map(|p| p.slots.len()).collect();
        assert_eq!(pooled, again);
        assert_eq!(sorted(&posts, 2), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn hashed_keys_go_when_emptied() {
        let mut posts = Posts::default();
        let key = 1 << 63 | 12345;
        posts.push(key, 7);
        posts.push(key, 9);
        assert_eq!(sorted(&posts, key), [7, 9]);
        posts.remove(key, 7);
        posts.remove(key, 9);
        assert!(posts.slots(key).is_empty());
        assert!(posts.exact.is_empty());
    }

    proptest! {
        /// The same lists as a plain vector per key, oldest first, that
        /// drops its first slot when full.
        #[test]
        fn lists_are_the_most_recent_slots(
            ops in proptest::collection::vec((0..3u64, 0..60u32, proptest::bool::weighted(0.7)), 0..600),
        ) {
            let mut posts = Posts::default();
            let mut model: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
            for (key, slot, push) in ops {
                let key = if key == 2 { 1 << 63 } else { key };
                let list = model.entry(key).or_default();
                // A slot is on a key's list at most once, as in the index.
                if push && !list.contains(&slot) {
                    if list.len() == CAP {
                        list.remove(0);
                    }
                    list.push(slot);
                    posts.push(key, slot);
                } else if !push {
                    list.retain(|s| *s != slot);
                    posts.remove(key, slot);
                }
                let mut want = list.clone();
                want.sort_unstable();
                prop_assert_eq!(sorted(&posts, key), want);
            }
        }
    }
}

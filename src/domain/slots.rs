//! [`Slots`]: a table of values in fixed-size chunks, for the tables that
//! hold one row per question (the queue's entries, PostoBox's merge base):
//! it grows one chunk at a time, so it never holds a doubled table's spare
//! half nor copies what it holds to grow, and a slot's number never changes
//! while it is used. [`KeyedSlots`] finds those rows by the key each holds.

use hashbrown::HashTable;
use std::hash::RandomState;

/// Slots a chunk holds.
const CHUNK: usize = 1024;

/// Values by slot number; a removed one's slot is taken again first.
#[derive(Debug)]
pub struct Slots<T> {
    chunks: Vec<Box<[Option<T>]>>,
    /// Slots handed out so far (used or free).
    len: u32,
    /// Freed slots, taken again before a new one.
    free: Vec<u32>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            chunks: Vec::new(),
            len: 0,
            free: Vec::new(),
        }
    }
}

fn place(slot: u32) -> (usize, usize) {
    (slot as usize / CHUNK, slot as usize % CHUNK)
}

impl<T> Slots<T> {
    pub fn get(&self, slot: u32) -> Option<&T> {
        let (c, i) = place(slot);
        self.chunks.get(c)?.get(i)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        let (c, i) = place(slot);
        self.chunks.get_mut(c)?.get_mut(i)?.as_mut()
    }

    /// Puts `value` in a free slot (or a new one) and names it.
    pub fn insert(&mut self, value: T) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let s = self.len;
                self.len += 1;
                if place(s).0 == self.chunks.len() {
                    self.chunks
                        .push(std::iter::repeat_with(|| None).take(CHUNK).collect());
                }
                s
            }
        };
        let (c, i) = place(slot);
        self.chunks[c][i] = Some(value);
        slot
    }

    pub fn remove(&mut self, slot: u32) -> Option<T> {
        let (c, i) = place(slot);
        let value = self.chunks.get_mut(c)?.get_mut(i)?.take()?;
        self.free.push(slot);
        Some(value)
    }

    /// Slot numbers handed out so far: every used slot is below it.
    pub fn end(&self) -> u32 {
        self.len
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter().flatten())
    }
}

/// A row that holds its own key, hashed with the table's hasher.
pub trait Keyed {
    fn key_hash(&self, hasher: &RandomState) -> u64;
}

/// [`Slots`] whose rows are found by the key each row holds: the map keeps
/// only slot numbers (4 bytes a row) and hashes and compares through the
/// rows, so no key is held twice.
#[derive(Debug)]
pub struct KeyedSlots<T> {
    rows: Slots<T>,
    map: HashTable<u32>,
    hasher: RandomState,
}

impl<T> Default for KeyedSlots<T> {
    fn default() -> Self {
        KeyedSlots {
            rows: Slots::default(),
            map: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl<T: Keyed> KeyedSlots<T> {
    /// The hasher a key is hashed with before [`KeyedSlots::find`].
    pub fn hasher(&self) -> &RandomState {
        &self.hasher
    }

    /// The slot of the row whose key hashes to `hash` and that `is` accepts.
    pub fn find(&self, hash: u64, is: impl Fn(&T) -> bool) -> Option<u32> {
        let rows = &self.rows;
        self.map
            .find(hash, |&s| rows.get(s).is_some_and(&is))
            .copied()
    }

    pub fn get(&self, slot: u32) -> Option<&T> {
        self.rows.get(slot)
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.rows.get_mut(slot)
    }

    /// Adds a row whose key is not held yet; names its slot.
    pub fn insert(&mut self, row: T) -> u32 {
        let hash = row.key_hash(&self.hasher);
        let slot = self.rows.insert(row);
        let KeyedSlots { rows, map, hasher } = self;
        map.insert_unique(hash, slot, |&s| {
            rows.get(s).map_or(0, |r| r.key_hash(hasher))
        });
        slot
    }

    pub fn remove(&mut self, slot: u32) -> Option<T> {
        let row = self.rows.remove(slot)?;
        if let Ok(found) = self
            .map
            .find_entry(row.key_hash(&self.hasher), |&s| s == slot)
        {
            found.remove();
        }
        Some(row)
    }

    /// Room for `n` more rows in the map.
    pub fn reserve(&mut self, n: usize) {
        let KeyedSlots { rows, map, hasher } = self;
        map.reserve(n, |&s| rows.get(s).map_or(0, |r| r.key_hash(hasher)));
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Slot numbers handed out so far: every used slot is below it.
    pub fn end(&self) -> u32 {
        self.rows.end()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_keep_their_numbers_and_are_taken_again() {
        let mut slots = Slots::default();
        let names: Vec<u32> = (0..CHUNK as u32 + 5).map(|i| slots.insert(i)).collect();
        assert_eq!(names, (0..CHUNK as u32 + 5).collect::<Vec<_>>());
        assert_eq!(slots.get(CHUNK as u32 + 1), Some(&(CHUNK as u32 + 1)));
        assert_eq!(slots.remove(3), Some(3));
        assert_eq!(slots.get(3), None);
        assert_eq!(slots.remove(3), None);
        assert_eq!(slots.insert(99), 3);
        *slots.get_mut(3).unwrap() += 1;
        assert_eq!(slots.get(3), Some(&100));
        assert_eq!(slots.iter().count(), CHUNK + 5);
        assert_eq!(slots.end(), CHUNK as u32 + 5);
        assert_eq!(slots.get(CHUNK as u32 * 3), None);
    }

    impl Keyed for (String, u32) {
        fn key_hash(&self, hasher: &RandomState) -> u64 {
            use std::hash::BuildHasher;
            hasher.hash_one(&self.0)
        }
    }

    #[test]
    fn keyed_slots_find_rows_by_their_own_key_and_forget_removed_ones() {
        use std::hash::BuildHasher;
        let mut t = KeyedSlots::default();
        let find =
            |t: &KeyedSlots<(String, u32)>, k: &str| t.find(t.hasher().hash_one(k), |r| r.0 == k);
        t.reserve(3);
        let a = t.insert(("a".to_string(), 1));
        let b = t.insert(("b".to_string(), 2));
        assert_eq!(
            (find(&t, "a"), find(&t, "b"), find(&t, "c")),
            (Some(a), Some(b), None)
        );
        t.get_mut(b).unwrap().1 = 20;
        assert_eq!(t.remove(a), Some(("a".to_string(), 1)));
        assert_eq!((find(&t, "a"), t.len()), (None, 1));
        let c = t.insert(("c".to_string(), 3));
        assert_eq!(c, a, "the freed slot is taken again");
        assert_eq!(find(&t, "c"), Some(c));
        assert_eq!(t.get(find(&t, "b").unwrap()), Some(&("b".to_string(), 20)));
        assert_eq!(t.iter().count(), 2);
        assert_eq!(t.end(), 2);
    }
}

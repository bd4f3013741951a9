//! [`Slots`]: a table of values in fixed-size chunks, for the tables that
//! hold one row per question (the queue's entries, PostoBox's merge base):
//! it grows one chunk at a time, so it never holds a doubled table's spare
//! half nor copies what it holds to grow, and a slot's number never changes
//! while it is used.

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
}

//! Every held question's signature, by slot, packed one after another in
//! one byte arena: no allocation and no pointer per question. A removed
//! signature leaves a hole; once the holes outgrow the live signatures,
//! these are copied together (each removal pays for a copy of its own
//! size, so amortised O(1)).

use super::dict::Dict;
use super::sig::Sig;

/// `at` of a slot without a signature.
const NONE: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct Sigs {
    bytes: Vec<u8>,
    /// By slot: where its signature starts in `bytes`, or `NONE`.
    at: Vec<u32>,
    /// Bytes of removed signatures still in `bytes`.
    dead: usize,
}

impl Sigs {
    /// Packs the signature of a slot's text (a slot that holds one is
    /// taken out first).
    pub fn insert(&mut self, slot: u32, text: &str, dict: &mut Dict) -> Sig<'_> {
        self.remove(slot);
        let i = slot as usize;
        if self.at.len() <= i {
            self.at.resize(i + 1, NONE);
        }
        let Ok(at) = u32::try_from(self.bytes.len()) else {
            panic!("duplicate signatures past 4 GiB");
        };
        self.at[i] = at;
        Sig::pack(text, dict, &mut self.bytes);
        Sig::read(&self.bytes[at as usize..]).0
    }

    /// Takes a slot's signature out, if it holds one.
    pub fn remove(&mut self, slot: u32) {
        let Some(at) = self.at.get_mut(slot as usize) else {
            return;
        };
        if *at == NONE {
            return;
        }
        self.dead += Sig::read(&self.bytes[*at as usize..]).1;
        *at = NONE;
        if self.dead > self.bytes.len() - self.dead {
            self.compact();
        }
    }

    pub fn get(&self, slot: u32) -> Option<Sig<'_>> {
        let at = *self.at.get(slot as usize)?;
        (at != NONE).then(|| Sig::read(&self.bytes[at as usize..]).0)
    }

    /// One more than the highest slot that ever held a signature.
    pub fn slots(&self) -> usize {
        self.at.len()
    }

    /// Copies the live signatures together, in slot order.
    fn compact(&mut self) {
        let mut bytes = Vec::with_capacity(self.bytes.len() - self.dead);
        for at in self.at.iter_mut().filter(|at| **at != NONE) {
            let from = *at as usize;
            let n = Sig::read(&self.bytes[from..]).1;
            // No larger than the old offset, which fitted.
            *at = bytes.len() as u32;
            bytes.extend_from_slice(&self.bytes[from..from + n]);
        }
        self.bytes = bytes;
        self.dead = 0;
    }

    /// Heap bytes, capacity included.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.at.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(sigs: &Sigs, dict: &Dict, slot: u32) -> Option<Vec<String>> {
        let sig = sigs.get(slot)?;
        Some(sig.ids().map(|id| dict.text(id).to_string()).collect())
    }

    #[test]
    fn removals_leave_holes_that_compaction_takes_back() {
        let (mut sigs, mut dict) = (Sigs::default(), Dict::default());
        let text = |i: u32| format!("Will talk {i} about rockets be recorded?");
        for slot in 0..100 {
            sigs.insert(slot, &text(slot), &mut dict);
        }
        let full = sigs.bytes.len();
        // Half of them go: not yet more holes than live signatures.
        for slot in (0..100).step_by(2) {
            sigs.remove(slot);
        }
        assert_eq!(sigs.bytes.len(), full);
        assert!(sigs.dead > 0);
        // One more, and the live ones are copied together.
        sigs.remove(1);
        assert_eq!(sigs.dead, 0);
        assert!(sigs.bytes.len() < full / 2);
        for slot in 0..100 {
            let want = (slot % 2 == 1 && slot != 1).then(|| {
                let mut x = Vec::new();
                Sig::pack(&text(slot), &mut dict, &mut x);
                let ids = Sig::read(&x).0.ids();
                ids.map(|id| dict.text(id).to_string()).collect::<Vec<_>>()
            });
            assert_eq!(words(&sigs, &dict, slot), want, "slot {slot}");
        }
        for slot in 0..100 {
            sigs.remove(slot);
        }
        assert!(sigs.bytes.is_empty());
    }

    #[test]
    fn a_reused_slot_holds_its_new_text_only() {
        let (mut sigs, mut dict) = (Sigs::default(), Dict::default());
        sigs.insert(0, "Can you share the slides?", &mut dict);
        sigs.insert(1, "When does the keynote start?", &mut dict);
        sigs.insert(0, "Is the session recorded?", &mut dict);
        assert_eq!(
            words(&sigs, &dict, 0),
            Some(vec!["session".into(), "recorded".into()])
        );
        sigs.remove(0);
        assert_eq!(words(&sigs, &dict, 0), None);
        sigs.insert(0, "What is it?", &mut dict);
        let sig = sigs.get(0).expect("a signature");
        assert_eq!(sig.ids().count(), 3);
        assert!(words(&sigs, &dict, 1).is_some());
        assert_eq!(sigs.get(7), None);
    }
}

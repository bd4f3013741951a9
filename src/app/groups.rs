//! Duplicate groups as the core shows them: the index of `triage::dup`
//! fed as questions arrive, change text or go, and what each group shows
//! (one row per pane, its size and votes).
//!
//! Each group's totals are kept as it changes: an arrival joining a group,
//! or a member's votes or status changing, costs the same in a group of 2
//! as in one of 5,000. Only a change that could put another member first
//! (the kept or first-shown question leaves, loses votes or leaves
//! Pending, a member leaves the group) looks at the group's members again.
//! Which members fold into the group's row is worked out when asked (per
//! drawn row), never stored per member.
//!
//! Finding an arrival's duplicates is the costly part (tens of µs a
//! question), so it is not done on arrival: the question shows at once and
//! waits (a bit by its slot), worked off [`GROUP_STEP`] at a time whenever the
//! runtime hands the core an [`Event::Work`](super::Event::Work) (it asks
//! [`App::has_work`]). Until then it shows as a question of its own (or, for
//! a changed text, in the group of its old text).

use super::App;
use super::queue::{Entry, OrderKey};
use crate::domain::{QKey, Question, Status, votes32};
use crate::triage::dup::{Index, Regroup};
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::HashSet;

/// Questions grouped in one step: a few milliseconds at most, so a key
/// press never waits long behind a backlog.
pub const GROUP_STEP: usize = 64;

/// A question's group of duplicates (two or more members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The question the group keeps (the moderator's pick, else the
    /// best-voted, then the oldest).
    pub kept: QKey,
    pub size: usize,
    /// Votes of all members together.
    pub votes: i64,
}

/// How a grouped question's row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRow {
    /// The group's row in this pane: its size and votes go on it.
    Head { size: usize, votes: i64 },
    /// A member shown because its group is expanded (`z`).
    Member,
}

/// A group's running totals.
#[derive(Debug, Clone)]
struct Tally {
    info: GroupInfo,
    /// What made the kept question the kept one (picked, then votes: see
    /// [`Tally::kept_rank`]): when it has less of it, another member may be
    /// kept now.
    kept_picked: bool,
    kept_votes: i64,
    kept_pending: bool,
    /// The pending member first in the pending pane's order, and that
    /// order: the group's row there while the kept one is not pending.
    first: Option<(QKey, OrderKey)>,
}

impl Tally {
    fn kept_rank(&self) -> (bool, i64) {
        (self.kept_picked, self.kept_votes)
    }

    fn set_kept_rank(&mut self, (picked, votes): (bool, i64)) {
        (self.kept_picked, self.kept_votes) = (picked, votes);
    }

    /// The member that shows as the group's row in Pending.
    fn pending_row(&self) -> Option<&QKey> {
        if self.kept_pending {
            Some(&self.info.kept)
        } else {
            self.first.as_ref().map(|(k, _)| k)
        }
    }
}

/// The core's side of duplicate grouping. Questions are named by the
/// queue's slot numbers (the index's too), so no map of its own finds them.
#[derive(Debug, Default)]
pub struct Groups {
    index: Index,
    /// The votes each member counts in its group's total, by slot
    /// (saturated at `i32`'s bounds, as the queue holds a platform's count).
    votes: Vec<i32>,
    /// By the index's group id.
    tallies: FxHashMap<u32, Tally>,
    /// A member of the group `z` expanded, if any.
    expanded: Option<QKey>,
    /// Questions the moderator kept in a merge.
    picked: HashSet<QKey>,
    /// By slot, one bit each: its text waits to be grouped. Work steps take
    /// them in slot order from where the last one stopped (a first sync's
    /// order of arrival), so no list of them is kept beside the bits.
    due: Vec<u64>,
    /// The slot the next work step looks at first.
    cursor: u32,
    /// Slots with their `due` bit set.
    waiting: usize,
}

impl Groups {
    pub(super) fn pick(&mut self, key: QKey) {
        self.picked.insert(key);
    }

    pub(super) fn unpick(&mut self, key: &QKey) {
        self.picked.remove(key);
    }

    /// Closes the expanded group; returns a member of it.
    pub(super) fn close(&mut self) -> Option<QKey> {
        self.expanded.take()
    }

    /// Marks a slot's text as waiting to be grouped.
    fn queue_text(&mut self, slot: u32) {
        let at = slot as usize;
        if self.votes.len() <= at {
            self.votes.resize(at + 1, 0);
        }
        let (word, bit) = (at / 64, 1u64 << (at % 64));
        if self.due.len() <= word {
            self.due.resize(word + 1, 0);
        }
        if self.due[word] & bit == 0 {
            self.due[word] |= bit;
            self.waiting += 1;
        }
    }

    /// Takes a slot off the waiting list; whether it was on it.
    fn unqueue(&mut self, slot: u32) -> bool {
        let at = slot as usize;
        let bit = 1u64 << (at % 64);
        let was = self
            .due
            .get_mut(at / 64)
            .is_some_and(|w| std::mem::replace(w, *w & !bit) & bit != 0);
        if was {
            self.waiting -= 1;
        }
        was
    }

    /// The next slot whose text waits, if any: the first at or after the
    /// cursor, else the first before it.
    fn next_due(&mut self) -> Option<u32> {
        if self.waiting == 0 {
            return None;
        }
        let from = self.cursor as usize;
        let slot = first_set(&self.due, from).or_else(|| first_set(&self.due, 0))?;
        let slot = u32::try_from(slot).ok()?;
        self.unqueue(slot);
        self.cursor = slot + 1;
        Some(slot)
    }

    /// Groups of two or more.
    pub fn count(&self) -> usize {
        self.tallies.len()
    }

    /// Questions whose duplicates are still to be looked for.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Bytes the duplicate index holds (for the benchmark).
    pub fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }
}

impl App {
    fn group_id(&self, key: &QKey) -> Option<u32> {
        self.groups.index.group_of(self.queue.slot_of(key)?)
    }

    fn tally(&self, key: &QKey) -> Option<(u32, &Tally)> {
        let g = self.group_id(key)?;
        Some((g, self.groups.tallies.get(&g)?))
    }

    fn expanded_group(&self) -> Option<u32> {
        self.group_id(self.groups.expanded.as_ref()?)
    }

    /// Whether a question is folded into its group's row.
    pub(super) fn group_hides(&self, q: &Question) -> bool {
        if self.groups.tallies.is_empty() || q.status != Status::Pending {
            return false;
        }
        let key = q.key();
        let Some((g, t)) = self.tally(&key) else {
            return false;
        };
        t.pending_row() != Some(&key)
            && self.expanded_group() != Some(g)
            && self.stand_in(g, t).as_ref() != Some(&key)
    }

    /// While a search is on and a group's row in Pending does not pass it,
    /// the member that shows for the group: the first of its members (in
    /// the index's order) that is pending and passes, so a search finds a
    /// group through any member. Stops at that member.
    fn stand_in(&self, g: u32, t: &Tally) -> Option<QKey> {
        self.query.as_ref()?;
        let row = t.pending_row()?;
        if self.queue.get(row).is_some_and(|e| self.searched(&e.view)) {
            return None;
        }
        self.groups
            .index
            .members(g)
            .iter()
            .filter_map(|s| self.queue.in_slot(*s))
            .find(|e| e.view.status == Status::Pending && self.searched(&e.view))
            .map(|e| e.view.key())
    }

    /// The group `key` belongs to, if it has duplicates.
    pub fn group_of(&self, key: &QKey) -> Option<GroupInfo> {
        self.tally(key).map(|(_, t)| t.info.clone())
    }

    /// The first `limit` members of `key`'s group (none when it has no
    /// duplicates), in arrival order of their slots.
    pub fn group_members(&self, key: &QKey, limit: usize) -> Vec<QKey> {
        let Some(g) = self.group_id(key) else {
            return Vec::new();
        };
        let slots = self.groups.index.members(g);
        slots
            .iter()
            .take(limit)
            .filter_map(|s| self.queue.key_in(*s))
            .collect()
    }

    /// How a question's row shows its group, if it has one. Only Pending
    /// folds a group into one row: every selected, answered or rejected
    /// question is a decision of its own and shows as a row of the group.
    pub fn group_row(&self, key: &QKey) -> Option<GroupRow> {
        let (g, t) = self.tally(key)?;
        let pending = self
            .queue
            .get(key)
            .is_some_and(|e| e.view.status == Status::Pending);
        let row =
            !pending || t.pending_row() == Some(key) || self.stand_in(g, t).as_ref() == Some(key);
        Some(if row {
            GroupRow::Head {
                size: t.info.size,
                votes: t.info.votes,
            }
        } else {
            GroupRow::Member
        })
    }

    /// Whether the group of `key` is the expanded one.
    pub fn group_expanded(&self, key: &QKey) -> bool {
        let g = self.expanded_group();
        g.is_some() && g == self.group_id(key)
    }

    /// Whether grouping work waits for [`Event::Work`](super::Event::Work).
    pub fn has_work(&self) -> bool {
        self.groups.waiting > 0
    }

    /// A question arrived or its text changed: it may join or leave
    /// groups, which the next work steps find out.
    pub(super) fn group_text(&mut self, key: &QKey) {
        if let Some(slot) = self.queue.slot_of(key) {
            self.groups.queue_text(slot);
        }
    }

    /// One step of grouping: up to [`GROUP_STEP`] waiting questions meet
    /// the index with the text they have now.
    pub(super) fn group_step(&mut self) {
        for _ in 0..GROUP_STEP {
            let Some(slot) = self.groups.next_due() else {
                return;
            };
            let Some(text) = self.queue.in_slot(slot).map(|e| e.view.text.clone()) else {
                continue;
            };
            self.index_text(slot, &text);
        }
    }

    /// A slot's text into the index: out of its old group first (which
    /// may split it), then into the groups it joins.
    fn index_text(&mut self, slot: u32, text: &str) {
        if self.groups.index.group_of(slot).is_some() {
            // A new text: out of its group first (which may split it).
            let r = self.groups.index.remove(slot);
            self.regrouped(r);
        }
        let r = self.groups.index.insert(slot, text);
        self.joined(r);
    }

    /// A question is gone from `slot` (which the next arrival may take).
    pub(super) fn group_forget(&mut self, key: &QKey, slot: u32) {
        self.groups.unqueue(slot);
        let r = self.groups.index.remove(slot);
        self.groups.picked.remove(key);
        self.regrouped(r);
    }

    /// An insertion's unions: the groups (and lone questions) it joined
    /// become one, their totals added up.
    fn joined(&mut self, r: Regroup) {
        let Some(&g) = r.changed.first() else {
            return;
        };
        let old = self.groups.tallies.get(&g).map(|t| t.info.clone());
        let mut parts = r.gone.iter().chain([&g]);
        let mut sum = parts.next().and_then(|p| self.part(*p));
        for p in parts {
            sum = match (sum, self.part(*p)) {
                (Some(a), Some(b)) => Some(self.combined(a, b)),
                (a, b) => a.or(b),
            };
        }
        let Some(t) = sum else { return };
        let new = t.info.clone();
        self.groups.tallies.insert(g, t);
        self.announce(g, old.as_ref(), &new, true);
    }

    /// A group's totals taken out of the map, or a lone question's.
    fn part(&mut self, id: u32) -> Option<Tally> {
        match self.groups.tallies.remove(&id) {
            Some(t) => Some(t),
            None => self.solo(id),
        }
    }

    /// A question's own totals, as if it were alone.
    fn solo(&mut self, id: u32) -> Option<Tally> {
        let e = self.queue.in_slot(id)?;
        let key = e.view.key();
        let counted = votes32(e.view.votes);
        let votes = e.view.votes;
        let t = Tally {
            kept_picked: self.groups.picked.contains(&key),
            kept_votes: votes,
            kept_pending: e.view.status == Status::Pending,
            first: self.pending_order(&key, e).map(|o| (key.clone(), o)),
            info: GroupInfo {
                kept: key,
                size: 1,
                votes: counted.into(),
            },
        };
        self.groups.votes[id as usize] = counted;
        Some(t)
    }

    fn combined(&self, a: Tally, b: Tally) -> Tally {
        let a_kept = self.ranks_before(&a.info.kept, &b.info.kept);
        let first = match (a.first, b.first) {
            (Some(x), Some(y)) => Some(if x.1 <= y.1 { x } else { y }),
            (x, y) => x.or(y),
        };
        let size = a.info.size + b.info.size;
        let votes = a.info.votes.saturating_add(b.info.votes);
        let (kept, (kept_picked, kept_votes), kept_pending) = if a_kept {
            (a.info.kept, (a.kept_picked, a.kept_votes), a.kept_pending)
        } else {
            (b.info.kept, (b.kept_picked, b.kept_votes), b.kept_pending)
        };
        Tally {
            info: GroupInfo { kept, size, votes },
            kept_picked,
            kept_votes,
            kept_pending,
            first,
        }
    }

    /// A removal's regrouping: the groups it split or shrank are counted
    /// again (a group's size, not the list's).
    fn regrouped(&mut self, r: Regroup) {
        for g in &r.gone {
            self.groups.tallies.remove(g);
        }
        for s in &r.slots {
            if let Some(k) = self.queue.key_in(*s) {
                self.changed(&k);
            }
        }
        for g in r.changed {
            self.recount(g, true);
        }
    }

    /// Counts a group's totals from its members.
    fn recount(&mut self, g: u32, membership: bool) {
        let old = self.groups.tallies.remove(&g).map(|t| t.info);
        let members = self.groups.index.members(g).to_vec();
        let mut sum: Option<Tally> = None;
        for s in members {
            if let Some(t) = self.solo(s) {
                sum = Some(match sum {
                    Some(acc) => self.combined(acc, t),
                    None => t,
                });
            }
        }
        let Some(t) = sum else { return };
        let new = t.info.clone();
        self.groups.tallies.insert(g, t);
        self.announce(g, old.as_ref(), &new, membership);
    }

    /// Tells the headless output. Every member's line names the kept
    /// question, so all of them go out again when it changes; a new size
    /// alone is said on the kept question's line (the arrival's own line
    /// says it too), which keeps an arrival's cost independent of the
    /// group's size in the output.
    fn announce(&mut self, g: u32, old: Option<&GroupInfo>, new: &GroupInfo, membership: bool) {
        match old {
            Some(o) if o.kept == new.kept => {
                let said = !membership && o.size == new.size;
                if !said {
                    self.changed(&new.kept);
                }
            }
            _ if self.changes.is_some() => {
                let members: Vec<QKey> = self
                    .groups
                    .index
                    .members(g)
                    .iter()
                    .filter_map(|s| self.queue.key_in(*s))
                    .collect();
                for k in &members {
                    self.changed(k);
                }
            }
            _ => {}
        }
    }

    /// A question moved, changed votes or status: its group's totals, kept
    /// question and row follow, in O(1) unless another member may have to
    /// take the kept or first place (then the group is counted again).
    pub(super) fn group_moved(&mut self, key: &QKey) {
        let Some(slot) = self.queue.slot_of(key) else {
            return;
        };
        let Some(g) = self.groups.index.group_of(slot) else {
            return;
        };
        let (Some(mut t), Some(e)) = (self.groups.tallies.remove(&g), self.queue.get(key)) else {
            return;
        };
        let old = t.info.clone();
        let votes = e.view.votes;
        let now = votes32(votes);
        let before = std::mem::replace(&mut self.groups.votes[slot as usize], now);
        t.info.votes = (t.info.votes - i64::from(before)) + i64::from(now);
        let rank = (self.groups.picked.contains(key), votes);
        let order = self.pending_order(key, e);
        let mut again = false;
        if t.info.kept == *key {
            again |= rank < t.kept_rank();
            t.set_kept_rank(rank);
            t.kept_pending = e.view.status == Status::Pending;
        } else if self.ranks_before(key, &t.info.kept) {
            t.info.kept = key.clone();
            t.set_kept_rank(rank);
            t.kept_pending = e.view.status == Status::Pending;
        }
        match (&mut t.first, order) {
            (Some((f, at)), Some(o)) if f == key => {
                again |= o > *at;
                *at = o;
            }
            (Some((f, _)), None) if f == key => again = true,
            (Some((_, at)), Some(o)) if o < *at => t.first = Some((key.clone(), o)),
            (None, Some(o)) => t.first = Some((key.clone(), o)),
            _ => {}
        }
        if again {
            // Counted again against what was last said.
            t.info = old;
            self.groups.tallies.insert(g, t);
            self.recount(g, false);
        } else {
            let new = t.info.clone();
            self.groups.tallies.insert(g, t);
            self.announce(g, Some(&old), &new, false);
        }
    }

    /// Every group counted again (the order changed: `s`).
    pub(super) fn recount_groups(&mut self) {
        let ids: Vec<u32> = self.groups.tallies.keys().copied().collect();
        for g in ids {
            self.recount(g, false);
        }
    }

    /// Its place in the pending pane's order, if it is pending.
    fn pending_order(&self, key: &QKey, e: &Entry) -> Option<OrderKey> {
        (e.view.status == Status::Pending)
            .then(|| self.queue.order_of(key))
            .flatten()
    }

    /// Whether `a` is kept before `b`: the moderator's pick, else the most
    /// votes, then the oldest, then the key.
    fn ranks_before(&self, a: &QKey, b: &QKey) -> bool {
        let (Some(x), Some(y)) = (self.queue.get(a), self.queue.get(b)) else {
            return self.queue.get(a).is_some();
        };
        let picked = |k: &QKey| self.groups.picked.contains(k);
        let o = picked(b)
            .cmp(&picked(a))
            .then(y.view.votes.cmp(&x.view.votes))
            .then(x.view.created.cmp(&y.view.created))
            .then(a.cmp(b));
        o == Ordering::Less
    }

    /// `z`: opens the group under the cursor (its members show, indented),
    /// or closes it (the cursor goes to the group's row).
    pub(super) fn toggle_group(&mut self) {
        let Some(key) = self.current().map(|e| e.view.key()) else {
            self.toast("nothing selected");
            return;
        };
        let Some(g) = self.group_id(&key) else {
            self.toast("no duplicates of this question");
            return;
        };
        let was = self.groups.expanded.take();
        let was_g = was.as_ref().and_then(|k| self.group_id(k));
        if was_g == Some(g) {
            let status = self.current().map(|e| e.view.status);
            let head = self.group_members(&key, usize::MAX).into_iter().find(|k| {
                matches!(self.group_row(k), Some(GroupRow::Head { .. }))
                    && self.queue.get(k).map(|e| e.view.status) == status
            });
            if let (Some(h), Some(p)) = (head, self.panes.get_mut(&self.focus)) {
                p.cursor = Some(h);
            }
            return;
        }
        self.groups.expanded = Some(key);
    }
}

/// The first set bit at or after `from` in `bits` (64 a word).
fn first_set(bits: &[u64], from: usize) -> Option<usize> {
    let start = from / 64;
    let first = bits.get(start)? & (u64::MAX << (from % 64));
    std::iter::once(first)
        .chain(bits[start + 1..].iter().copied())
        .enumerate()
        .find(|(_, w)| *w != 0)
        .map(|(i, w)| (start + i) * 64 + w.trailing_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::{Groups, Tally, first_set};

    #[test]
    fn the_first_set_bit_is_found_from_any_place() {
        let bits = [0b1001u64, 0, 1 << 63, 1];
        assert_eq!(first_set(&bits, 0), Some(0));
        assert_eq!(first_set(&bits, 1), Some(3));
        assert_eq!(first_set(&bits, 4), Some(191));
        assert_eq!(first_set(&bits, 192), Some(192));
        assert_eq!(first_set(&bits, 193), None);
        assert_eq!(first_set(&bits, 1_000), None);
    }

    #[test]
    fn waiting_slots_are_taken_from_the_cursor_on_then_from_the_start() {
        let mut g = Groups::default();
        for slot in [5, 70, 200] {
            g.queue_text(slot);
        }
        g.queue_text(70);
        assert_eq!(g.waiting(), 3, "a slot waits once");
        assert_eq!(g.next_due(), Some(5));
        // Arrived in a freed slot behind the cursor: taken after the rest.
        g.queue_text(1);
        assert!(g.unqueue(200), "forgotten before its turn");
        assert_eq!(g.next_due(), Some(70));
        assert_eq!(g.next_due(), Some(1));
        assert_eq!(g.next_due(), None);
        assert_eq!(g.waiting(), 0);
        assert!(!g.unqueue(1));
    }

    /// The totals of every group sit in one map: no padding in its slots.
    #[test]
    fn a_group_s_totals_take_80_bytes() {
        assert_eq!(size_of::<Tally>(), 80);
        assert_eq!(size_of::<(u32, Tally)>(), 88);
    }
}

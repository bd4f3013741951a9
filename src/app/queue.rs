//! The questions the session holds, indexed per status in display order so
//! that every list operation costs O(log n) and drawing a pane costs
//! O(visible rows), however many questions arrive.
//!
//! Each question has three layers: what the platform last said (`server`),
//! what this machine keeps for it (`local`, in a map of its own: few
//! questions have any), and the moderator's in-flight actions (`patches`,
//! removed on confirmation or failure). The effective view is computed
//! when a layer changes, never while drawing.
//!
//! Lean at 100,000 questions: entries live in a table of slots (in chunks,
//! `domain::KeyedSlots`), whose id map holds only slot numbers (the id is
//! the entry's own), and the status lists hold small fixed-size order keys naming a
//! slot; an entry's place is computed from the entry itself, so it is never
//! stored twice.

mod ordered;

use crate::domain::{
    Keyed, KeyedSlots, LocalState, Millis, MyVote, Pool, QKey, Question, SourceId, Status, votes32,
};
use ordered::Ordered;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};

/// Display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Oldest first: new arrivals join at the bottom and nothing moves.
    #[default]
    Time,
    /// Most votes first.
    Votes,
}

/// Position of a question in its status list, packed into 16 bytes that
/// compare as the order does (every list holds one per question). From
/// the top: the [`lead`] (33 bits), the creation time (44 bits of
/// milliseconds: 1691 to 2248, a time outside clamped), the low 19 bits of
/// the arrival number (ties of the same millisecond keep their arrival
/// order unless half a million questions came between them), then the slot
/// where the entry is held (32 bits, which also keeps every key its own).
/// Two words, high first, rather than a `u128`: 8-byte aligned, so the
/// groups' totals that hold one need no padding to 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderKey {
    hi: u64,
    lo: u64,
}

impl OrderKey {
    const TIME_BITS: u32 = 44;
    const SEQ_BITS: u32 = 19;

    fn new(lead: u64, created: Millis, seq: u32, slot: u32) -> OrderKey {
        let half = 1i64 << (OrderKey::TIME_BITS - 1);
        let time = (created.clamp(-half, half - 1) + half) as u128;
        let seq = u128::from(seq) & ((1 << OrderKey::SEQ_BITS) - 1);
        let v = u128::from(lead) << (OrderKey::TIME_BITS + OrderKey::SEQ_BITS + 32)
            | time << (OrderKey::SEQ_BITS + 32)
            | seq << 32
            | u128::from(slot);
        OrderKey {
            hi: (v >> 64) as u64,
            lo: v as u64,
        }
    }

    /// Where the entry is held.
    fn slot(self) -> u32 {
        self.lo as u32
    }
}

/// An optimistic change from an action not yet confirmed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Patch {
    pub status: Option<Status>,
    pub on_air: Option<bool>,
    pub my_vote: Option<MyVote>,
}

/// What the platform last said where it may differ from the view; the
/// rest (id, text, author, times) is the view's own, held once. The count
/// is saturated ([`votes32`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Server {
    pub status: Status,
    pub on_air: bool,
    pub my_vote: MyVote,
    pub votes: i32,
}

impl Server {
    fn of(q: &Question) -> Server {
        Server {
            status: q.status,
            on_air: q.on_air,
            my_vote: q.my_vote,
            votes: votes32(q.votes),
        }
    }
}

/// Bits of [`Entry`]'s `packed` word below the arrival number.
const SEQ_SHIFT: u32 = 5;

/// One held question: 64 bytes, the view and one word beside it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The effective question: server, then local, then patches.
    pub view: Question,
    /// The platform's count ([`Server::votes`]).
    server_votes: i32,
    /// The platform's status (2 bits), on-air flag (1 bit) and the
    /// moderator's vote (2 bits), then the arrival number for ties in the
    /// lists (the low 27 bits: the order keys use 19).
    packed: u32,
}

impl Entry {
    fn new(q: Question, seq: u32) -> Entry {
        let mut e = Entry {
            server_votes: 0,
            packed: seq << SEQ_SHIFT,
            view: q,
        };
        e.set_said(Server::of(&e.view));
        e
    }

    /// What the platform last said.
    pub fn said(&self) -> Server {
        let p = self.packed;
        Server {
            status: Status::of_bits(p),
            on_air: p & 4 != 0,
            my_vote: MyVote::of_bits(p >> 3),
            votes: self.server_votes,
        }
    }

    fn set_said(&mut self, s: Server) {
        let seq = self.packed & !((1 << SEQ_SHIFT) - 1);
        self.packed = seq | s.status.bits() | u32::from(s.on_air) << 2 | s.my_vote.bits() << 3;
        self.server_votes = s.votes;
    }

    /// Arrival order, for ties in the lists.
    fn seq(&self) -> u32 {
        self.packed >> SEQ_SHIFT
    }

    /// The question as the platform last said it.
    pub fn server(&self) -> Question {
        let s = self.said();
        Question {
            status: s.status,
            on_air: s.on_air,
            votes: s.votes.into(),
            my_vote: s.my_vote,
            ..self.view.clone()
        }
    }

    /// Whether `q` says exactly what the platform last said.
    fn same_as_server(&self, q: &Question) -> bool {
        let v = &self.view;
        Server::of(q) == self.said()
            && q.updated == v.updated
            && q.created == v.created
            && q.source == v.source
            && q.id == v.id
            && q.author == v.author
            && q.text == v.text
    }
}

/// What happened to the entry's place in the lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub key: QKey,
    /// Where the entry is (or was, for a removal) held.
    pub slot: u32,
    /// Where it was before (status and order), if it existed.
    pub from: Option<(Status, OrderKey)>,
    pub to: Option<Status>,
}

#[derive(Debug, Default)]
pub struct Queue {
    /// The entries, found by source and id; a removed one leaves its slot
    /// free for the next.
    slots: KeyedSlots<Entry>,
    index: [Ordered; 4],
    /// The selected questions on air (normally one), so the header finds
    /// the on-air question without walking the selected list each frame.
    on_air: BTreeSet<OrderKey>,
    /// Patches by question, kept even before the question arrives (replayed
    /// actions after a restart can precede the first sync).
    patches: HashMap<QKey, Vec<(String, Patch)>>,
    /// Local states that are not the default, loaded or not (yet).
    local: HashMap<QKey, LocalState>,
    sort: SortBy,
    /// One copy of each author name.
    names: Pool,
    next_seq: u32,
}

fn status_slot(status: Status) -> usize {
    match status {
        Status::Pending => 0,
        Status::Selected => 1,
        Status::Answered => 2,
        Status::Rejected => 3,
    }
}

/// The hash of a question's identity, as the id map files it.
fn hash_of(hasher: &RandomState, source: SourceId, id: &str) -> u64 {
    hasher.hash_one((source, id))
}

impl Keyed for Entry {
    fn key_hash(&self, hasher: &RandomState) -> u64 {
        hash_of(hasher, self.view.source, &self.view.id)
    }
}

impl Queue {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn count(&self, status: Status) -> usize {
        self.index[status_slot(status)].len()
    }

    pub fn get(&self, key: &QKey) -> Option<&Entry> {
        self.in_slot(self.slot_of(key)?)
    }

    /// Actions in flight touching the question of `key`.
    pub fn inflight(&self, key: &QKey) -> usize {
        if self.patches.is_empty() {
            return 0;
        }
        self.patches.get(key).map_or(0, Vec::len)
    }

    /// Where the question of `key` is held: a number that stays its own
    /// while it is held (the duplicate groups name questions by it).
    pub(super) fn slot_of(&self, key: &QKey) -> Option<u32> {
        let hash = hash_of(self.slots.hasher(), key.source, &key.id);
        self.slots
            .find(hash, |e| e.view.source == key.source && e.view.id == key.id)
    }

    /// The entry held in `slot`.
    pub(super) fn in_slot(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot)
    }

    /// The key of the question held in `slot`.
    pub(super) fn key_in(&self, slot: u32) -> Option<QKey> {
        self.in_slot(slot).map(|e| e.view.key())
    }

    /// The entry an order key names.
    pub fn at(&self, order: &OrderKey) -> Option<&Entry> {
        self.in_slot(order.slot())
    }

    pub fn sort(&self) -> SortBy {
        self.sort
    }

    pub fn all(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter()
    }

    /// Where the entry in `slot` sits in its list, as it is now.
    fn place(&self, slot: u32) -> Option<(Status, OrderKey)> {
        let e = self.in_slot(slot)?;
        let local = self.local_of(&e.view);
        Some((e.view.status, order_key(self.sort, e, local, slot)))
    }

    fn local_of(&self, q: &Question) -> LocalState {
        if self.local.is_empty() {
            return LocalState::default();
        }
        self.local.get(&q.key()).copied().unwrap_or_default()
    }

    /// Rebuilds the indexes for another order (a keypress, not a hot path).
    pub fn set_sort(&mut self, sort: SortBy) {
        self.sort = sort;
        for set in &mut self.index {
            set.clear();
        }
        self.on_air.clear();
        for slot in 0..self.slots.end() {
            if let Some((status, order)) = self.place(slot) {
                self.index[status_slot(status)].insert(order);
                if self.in_slot(slot).is_some_and(|e| on_air_selected(&e.view)) {
                    self.on_air.insert(order);
                }
            }
        }
    }

    /// Merges a question from the platform. A copy older than the one held
    /// (by `updated`) is ignored, so out-of-order stream and poll answers
    /// never roll anything back. Returns the move, or `None` if unchanged.
    pub fn upsert(&mut self, mut q: Question) -> Option<Moved> {
        let key = q.key();
        if let Some(e) = self.get(&key) {
            if q.updated < e.view.updated {
                return None;
            }
            // Platforms that cannot tell whose vote it is leave ours alone.
            if q.my_vote == MyVote::None {
                q.my_vote = e.said().my_vote;
            }
            if e.same_as_server(&q) {
                return None;
            }
        }
        self.set_server(key, q)
    }

    /// Takes a question as the platform's confirmed truth (an action's
    /// answer), whatever its `updated`. A platform that cannot tell whose
    /// vote it is leaves the moderator's own vote as held.
    pub fn confirm(&mut self, mut q: Question) -> Option<Moved> {
        if q.my_vote == MyVote::None
            && let Some(e) = self.get(&q.key())
        {
            q.my_vote = e.said().my_vote;
        }
        self.set_server(q.key(), q)
    }

    /// Sets the moderator's vote as the platform confirmed it.
    pub fn confirm_vote(&mut self, key: &QKey, my_vote: MyVote, votes: i64) -> Option<Moved> {
        let mut q = self.get(key)?.server();
        q.my_vote = my_vote;
        q.votes = votes;
        self.set_server(key.clone(), q)
    }

    /// Room for `n` more questions at once (a snapshot), rather than
    /// growing step by step with a copy of the table at each step.
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
    }

    fn set_server(&mut self, key: QKey, mut q: Question) -> Option<Moved> {
        // One allocation per text and per name, however many copies arrive.
        q.author = q.author.map(|a| self.names.share(a));
        let Some(slot) = self.slot_of(&key) else {
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1) & (u32::MAX >> SEQ_SHIFT);
            let slot = self.slots.insert(Entry::new(q, seq));
            return self.refresh(&key, slot, None);
        };
        let from = self.place(slot);
        let e = self.slots.get_mut(slot)?;
        if e.view.text == q.text {
            q.text = e.view.text.clone();
        }
        e.set_said(Server::of(&q));
        e.view = q;
        self.refresh(&key, slot, from)
    }

    /// Recomputes the view of one entry and moves it in the index. `from`
    /// is where it was (computed before its layers changed).
    fn refresh(
        &mut self,
        key: &QKey,
        slot: u32,
        from: Option<(Status, OrderKey)>,
    ) -> Option<Moved> {
        let patches = self.patches.get(key);
        let local = self.local.get(key).copied().unwrap_or_default();
        let e = self.slots.get_mut(slot)?;
        let mut view = e.server();
        if let Some(s) = local.status {
            view.status = s;
        }
        view.on_air = local.on_air;
        for (_, p) in patches.into_iter().flatten() {
            if let Some(s) = p.status {
                view.status = s;
            }
            if let Some(a) = p.on_air {
                view.on_air = a;
            }
            if let Some(v) = p.my_vote
                && v != view.my_vote
            {
                // Saturating: a platform may send any count, even i64::MAX.
                view.votes = view
                    .votes
                    .saturating_add(vote_value(v) - vote_value(view.my_vote));
                view.my_vote = v;
            }
        }
        e.view = view;
        if let Some((st, ok)) = &from {
            self.index[status_slot(*st)].remove(ok);
            self.on_air.remove(ok);
        }
        let e = self.slots.get(slot)?;
        let order = order_key(self.sort, e, local, slot);
        let to = e.view.status;
        self.index[status_slot(to)].insert(order);
        if on_air_selected(&e.view) {
            self.on_air.insert(order);
        }
        Some(Moved {
            key: key.clone(),
            slot,
            from,
            to: Some(to),
        })
    }

    fn current_place(&self, key: &QKey) -> Option<(Status, OrderKey)> {
        self.place(self.slot_of(key)?)
    }

    /// Removes a question (deleted on the platform), with its local state.
    pub fn remove(&mut self, key: &QKey) -> Option<Moved> {
        let slot = self.slot_of(key)?;
        let from = self.place(slot)?;
        self.local.remove(key);
        self.slots.remove(slot);
        self.index[status_slot(from.0)].remove(&from.1);
        self.on_air.remove(&from.1);
        Some(Moved {
            key: key.clone(),
            slot,
            from: Some(from),
            to: None,
        })
    }

    pub fn set_local(&mut self, key: &QKey, local: LocalState) -> Option<Moved> {
        let Some(slot) = self.slot_of(key) else {
            self.local.insert(key.clone(), local);
            return None;
        };
        let from = self.place(slot);
        if local.is_empty() {
            self.local.remove(key);
        } else {
            self.local.insert(key.clone(), local);
        }
        self.refresh(key, slot, from)
    }

    pub fn local(&self, key: &QKey) -> LocalState {
        self.local.get(key).copied().unwrap_or_default()
    }

    pub fn add_patch(&mut self, key: &QKey, op_id: &str, patch: Patch) -> Option<Moved> {
        let from = self.current_place(key);
        self.patches
            .entry(key.clone())
            .or_default()
            .push((op_id.to_string(), patch));
        let slot = self.slot_of(key)?;
        self.refresh(key, slot, from)
    }

    /// Drops an action's patch (confirmed or failed).
    pub fn drop_patch(&mut self, key: &QKey, op_id: &str) -> Option<Moved> {
        if let Some(list) = self.patches.get_mut(key) {
            list.retain(|(id, _)| id != op_id);
            if list.is_empty() {
                self.patches.remove(key);
            }
        }
        let from = self.current_place(key);
        let slot = self.slot_of(key)?;
        self.refresh(key, slot, from)
    }

    /// The first question of a status list at or after `from`.
    pub fn first_from(&self, status: Status, from: Option<&OrderKey>) -> Option<&OrderKey> {
        self.index[status_slot(status)].from(from).next()
    }

    /// Questions of a status list from `from` on (inclusive), in order.
    pub fn iter_from<'a>(
        &'a self,
        status: Status,
        from: Option<&OrderKey>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.index[status_slot(status)]
            .from(from)
            .filter_map(|k| self.in_slot(k.slot()))
    }

    /// Questions strictly before `before`, nearest first.
    pub fn iter_before<'a>(
        &'a self,
        status: Status,
        before: &OrderKey,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.index[status_slot(status)]
            .before(before)
            .filter_map(|k| self.in_slot(k.slot()))
    }

    /// Questions strictly after `after`, in order.
    pub fn iter_after<'a>(
        &'a self,
        status: Status,
        after: &OrderKey,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.index[status_slot(status)]
            .after(after)
            .filter_map(|k| self.in_slot(k.slot()))
    }

    pub fn last(&self, status: Status) -> Option<&Entry> {
        self.index[status_slot(status)]
            .last()
            .and_then(|k| self.in_slot(k.slot()))
    }

    /// Where a question sits in its list.
    pub fn order_of(&self, key: &QKey) -> Option<OrderKey> {
        self.current_place(key).map(|(_, order)| order)
    }

    /// The question on air, if any (few are ever selected, so a scan of the
    /// selected list is cheap).
    pub fn on_air(&self) -> Option<&Entry> {
        self.on_air.first().and_then(|k| self.in_slot(k.slot()))
    }

    /// New local states that move a selected question `delta` places (up
    /// when negative) in the selected queue: the whole queue is numbered
    /// afresh, so the order is the moderator's from then on. Empty when it
    /// cannot move.
    pub fn reorder_selected(&self, key: &QKey, delta: i64) -> Vec<(QKey, LocalState)> {
        let mut keys: Vec<QKey> = self
            .iter_from(Status::Selected, None)
            .map(|e| e.view.key())
            .collect();
        let Some(at) = keys.iter().position(|k| k == key) else {
            return Vec::new();
        };
        let to = (at as i64 + delta).clamp(0, keys.len() as i64 - 1) as usize;
        if to == at {
            return Vec::new();
        }
        let moving = keys.remove(at);
        keys.insert(to, moving);
        keys.into_iter()
            .enumerate()
            .filter_map(|(i, k)| {
                let mut local = self.local(&k);
                (local.rank != Some(i as i64)).then(|| {
                    local.rank = Some(i as i64);
                    (k, local)
                })
            })
            .collect()
    }

    /// Every question of one source whose local state is not the default,
    /// loaded or not (to compare with another console's copy in the store).
    pub fn locals_of(&self, source: SourceId) -> Vec<(QKey, LocalState)> {
        self.local
            .iter()
            .filter(|(k, l)| k.source == source && !l.is_empty())
            .map(|(k, l)| (k.clone(), *l))
            .collect()
    }

    /// Questions not (yet) loaded whose local state has them on air (a
    /// headless run that loaded only the question it acts on).
    pub fn on_air_unloaded(&self) -> Vec<QKey> {
        self.local
            .iter()
            .filter(|(k, l)| l.on_air && self.slot_of(k).is_none())
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// Whether a view belongs in the on-air index.
fn on_air_selected(q: &Question) -> bool {
    q.on_air && q.status == Status::Selected
}

fn vote_value(v: MyVote) -> i64 {
    match v {
        MyVote::None => 0,
        MyVote::Up => 1,
        MyVote::Down => -1,
    }
}

/// Room below every display order for the moderator's places.
const RANKS: u64 = 1 << 32;

/// One number (33 bits) for what orders a list before its times: a
/// selected question the moderator placed comes first, by its place (below
/// `RANKS`); the others follow in display order (by time: all the same; by
/// votes: most first, the count saturated at `i32`'s bounds).
fn lead(sort: SortBy, q: &Question, local: LocalState) -> u64 {
    match (q.status, local.rank) {
        (Status::Selected, Some(r)) => r.clamp(0, RANKS as i64 - 1) as u64,
        _ => match sort {
            SortBy::Time => RANKS,
            SortBy::Votes => RANKS + (i64::from(i32::MAX) - i64::from(votes32(q.votes))) as u64,
        },
    }
}

fn order_key(sort: SortBy, e: &Entry, local: LocalState, slot: u32) -> OrderKey {
    OrderKey::new(lead(sort, &e.view, local), e.view.created, e.seq(), slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SourceId;

    fn q(id: &str, created: Millis, votes: i64) -> Question {
        Question {
            source: SourceId(0),
            id: id.into(),
            text: id.into(),
            author: None,
            votes,
            my_vote: MyVote::None,
            status: Status::Pending,
            on_air: false,
            created,
            updated: created,
        }
    }

    fn ids(queue: &Queue, s: Status) -> Vec<String> {
        queue
            .iter_from(s, None)
            .map(|e| e.view.id.to_string())
            .collect()
    }

    #[test]
    fn order_by_time_and_votes() {
        let mut queue = Queue::default();
        queue.upsert(q("a", 1, 5));
        queue.upsert(q("b", 2, 9));
        queue.upsert(q("c", 3, 1));
        assert_eq!(ids(&queue, Status::Pending), ["a", "b", "c"]);
        queue.set_sort(SortBy::Votes);
        assert_eq!(ids(&queue, Status::Pending), ["b", "a", "c"]);
    }

    #[test]
    fn stale_copy_is_ignored() {
        let mut queue = Queue::default();
        let mut newer = q("a", 1, 5);
        newer.updated = 10;
        queue.upsert(newer);
        assert!(queue.upsert(q("a", 1, 2)).is_none());
        assert_eq!(queue.get(&q("a", 1, 0).key()).unwrap().view.votes, 5);
    }

    #[test]
    fn patches_layer_and_roll_back() {
        let mut queue = Queue::default();
        let key = q("a", 1, 0).key();
        queue.upsert(q("a", 1, 3));
        let p = Patch {
            status: Some(Status::Selected),
            my_vote: Some(MyVote::Up),
            ..Patch::default()
        };
        queue.add_patch(&key, "op1", p);
        let v = &queue.get(&key).unwrap().view;
        assert_eq!(
            (v.status, v.votes, v.my_vote),
            (Status::Selected, 4, MyVote::Up)
        );
        assert_eq!(ids(&queue, Status::Selected), ["a"]);
        queue.drop_patch(&key, "op1");
        let v = &queue.get(&key).unwrap().view;
        assert_eq!((v.status, v.votes), (Status::Pending, 3));
        assert!(ids(&queue, Status::Selected).is_empty());
    }

    #[test]
    fn the_moderator_orders_the_selected_queue() {
        let mut queue = Queue::default();
        for (id, t) in [("a", 1), ("b", 2), ("c", 3)] {
            let mut x = q(id, t, 0);
            x.status = Status::Selected;
            queue.upsert(x);
        }
        let c = q("c", 3, 0).key();
        let moves = queue.reorder_selected(&c, -1);
        for (k, l) in moves {
            queue.set_local(&k, l);
        }
        assert_eq!(ids(&queue, Status::Selected), ["a", "c", "b"]);
        let mut d = q("d", 4, 0);
        d.status = Status::Selected;
        queue.upsert(d);
        assert_eq!(ids(&queue, Status::Selected), ["a", "c", "b", "d"]);
        assert!(queue.reorder_selected(&q("a", 1, 0).key(), -1).is_empty());
        queue.set_sort(SortBy::Votes);
        assert_eq!(ids(&queue, Status::Selected), ["a", "c", "b", "d"]);
    }

    #[test]
    fn placed_questions_lead_whatever_the_votes() {
        let mut queue = Queue::default();
        queue.set_sort(SortBy::Votes);
        for (id, t, votes) in [
            ("a", 1, 0),
            ("b", 2, i64::MAX),
            ("c", 3, 7),
            ("d", 4, i64::MIN),
        ] {
            let mut x = q(id, t, votes);
            x.status = Status::Selected;
            queue.upsert(x);
        }
        assert_eq!(ids(&queue, Status::Selected), ["b", "c", "a", "d"]);
        let placed = LocalState {
            status: None,
            on_air: false,
            rank: Some(0),
        };
        queue.set_local(&q("d", 4, 0).key(), placed);
        assert_eq!(ids(&queue, Status::Selected), ["d", "b", "c", "a"]);
        assert_eq!((size_of::<OrderKey>(), align_of::<OrderKey>()), (16, 8));
        assert_eq!(size_of::<Entry>(), 64);
    }

    #[test]
    fn an_entry_keeps_every_server_state_beside_its_arrival() {
        for (n, status) in Status::ALL.into_iter().enumerate() {
            for on_air in [false, true] {
                for my_vote in [MyVote::None, MyVote::Up, MyVote::Down] {
                    let seq = (u32::MAX >> SEQ_SHIFT) - n as u32;
                    let mut x = q("a", 1, -3);
                    (x.status, x.on_air, x.my_vote) = (status, on_air, my_vote);
                    let mut e = Entry::new(x.clone(), seq);
                    assert_eq!(e.said(), Server::of(&x));
                    assert_eq!(e.seq(), seq);
                    x.votes = i64::MAX;
                    e.set_said(Server::of(&x));
                    assert_eq!((e.said().votes, e.seq()), (i32::MAX, seq));
                    assert_eq!(
                        e.server(),
                        Question {
                            votes: i32::MAX.into(),
                            ..x
                        }
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// Packed keys order as their parts do, and give back their slot.
        #[test]
        fn packed_keys_compare_as_their_parts(
            a in (0..1u64 << 33, -(1i64 << 43)..(1i64 << 43), 0..1u32 << 19, proptest::num::u32::ANY),
            b in (0..1u64 << 33, -(1i64 << 43)..(1i64 << 43), 0..1u32 << 19, proptest::num::u32::ANY),
        ) {
            let key = |(l, c, q, s)| OrderKey::new(l, c, q, s);
            proptest::prop_assert_eq!(key(a).cmp(&key(b)), a.cmp(&b));
            proptest::prop_assert_eq!(key(a).slot(), a.3);
        }
    }

    #[test]
    fn times_beyond_the_key_s_range_sort_at_its_ends() {
        let at = |t| OrderKey::new(RANKS, t, 0, 0);
        assert!(at(i64::MIN) < at(-(1 << 40)) && at(-(1 << 40)) < at(0));
        assert!(at(1_780_000_000_000) < at(i64::MAX));
        assert_eq!(at(i64::MAX), at(1 << 50));
    }

    #[test]
    fn local_state_waits_for_its_question() {
        let mut queue = Queue::default();
        let key = q("a", 1, 0).key();
        queue.set_local(
            &key,
            LocalState {
                status: Some(Status::Answered),
                on_air: false,
                rank: None,
            },
        );
        queue.upsert(q("a", 1, 0));
        assert_eq!(queue.get(&key).unwrap().view.status, Status::Answered);
    }
}

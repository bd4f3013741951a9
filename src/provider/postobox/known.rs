//! The merge base: the last known copy of every question, as compact as
//! the merge allows. A partial stream item falls back on any of these
//! fields, so all are kept, but the id and text are the allocations the
//! core holds too (shared, never copied), an author is a number into one
//! table of names sharing a word with the status and the vote (a row is 40
//! bytes), and the rows sit in chunks found by their ids ([`KeyedSlots`]:
//! the id map holds only row numbers).

use crate::domain::{Keyed, KeyedSlots, Millis, MyVote, Question, SourceId, Status, Str, votes32};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// One question as last known, without its source.
#[derive(Debug, Clone)]
struct Known {
    id: Str,
    text: Str,
    created: Millis,
    updated: Millis,
    /// Saturated ([`votes32`]).
    votes: i32,
    who: Who,
}

/// The author (0: anonymous; else 1 + the place in [`KnownMap::names`]) in
/// the low 28 bits, then the status and the moderator's vote (2 bits each).
#[derive(Debug, Clone, Copy)]
struct Who(u32);

impl Who {
    const AUTHOR: u32 = (1 << 28) - 1;

    fn new(author: u32, status: Status, my_vote: MyVote) -> Who {
        Who(author.min(Who::AUTHOR) | status.bits() << 28 | my_vote.bits() << 30)
    }

    fn author(self) -> u32 {
        self.0 & Who::AUTHOR
    }

    fn status(self) -> Status {
        Status::of_bits(self.0 >> 28)
    }

    fn my_vote(self) -> MyVote {
        MyVote::of_bits(self.0 >> 30)
    }

    fn with_vote(self, my_vote: MyVote) -> Who {
        Who(self.0 & !(3 << 30) | my_vote.bits() << 30)
    }
}

impl Keyed for Known {
    fn key_hash(&self, hasher: &RandomState) -> u64 {
        hasher.hash_one(&*self.id)
    }
}

/// Every known question of one source, by id.
#[derive(Debug, Default)]
pub(super) struct KnownMap {
    rows: KeyedSlots<Known>,
    names: Vec<Str>,
    name_ids: HashMap<Str, u32>,
}

impl KnownMap {
    fn row_of(&self, id: &str) -> Option<u32> {
        let hash = self.rows.hasher().hash_one(id);
        self.rows.find(hash, |k| &*k.id == id)
    }

    fn known(&self, id: &str) -> Option<&Known> {
        self.rows.get(self.row_of(id)?)
    }

    fn known_mut(&mut self, id: &str) -> Option<&mut Known> {
        let row = self.row_of(id)?;
        self.rows.get_mut(row)
    }

    /// The known copy, rebuilt as a question of `source`.
    pub(super) fn get(&self, source: SourceId, id: &str) -> Option<Question> {
        let k = self.known(id)?;
        Some(Question {
            source,
            id: k.id.clone(),
            text: k.text.clone(),
            author: k
                .who
                .author()
                .checked_sub(1)
                .and_then(|i| self.names.get(i as usize).cloned()),
            votes: k.votes.into(),
            my_vote: k.who.my_vote(),
            status: k.who.status(),
            on_air: false,
            created: k.created,
            updated: k.updated,
        })
    }

    pub(super) fn status(&self, id: &str) -> Option<Status> {
        self.known(id).map(|k| k.who.status())
    }

    /// The one copy of an author's name.
    pub(super) fn share_name(&mut self, name: Str) -> Str {
        match self.name_ids.get(&name) {
            Some(&i) => self.names[i as usize].clone(),
            None => {
                self.name_ids.insert(name.clone(), self.names.len() as u32);
                self.names.push(name.clone());
                name
            }
        }
    }

    pub(super) fn insert(&mut self, q: &Question) {
        let author = match &q.author {
            None => 0,
            Some(a) => {
                let shared = self.share_name(a.clone());
                self.name_ids.get(&shared).map_or(0, |i| i + 1)
            }
        };
        let known = Known {
            id: q.id.clone(),
            text: q.text.clone(),
            created: q.created,
            updated: q.updated,
            votes: votes32(q.votes),
            who: Who::new(author, q.status, q.my_vote),
        };
        match self.known_mut(&q.id) {
            // The row keeps the id allocation already held.
            Some(k) => {
                *k = Known {
                    id: k.id.clone(),
                    ..known
                }
            }
            None => {
                self.rows.insert(known);
            }
        }
    }

    pub(super) fn remove(&mut self, id: &str) {
        if let Some(row) = self.row_of(id) {
            self.rows.remove(row);
        }
    }

    /// The moderator's vote as a vote call answered it; the votes known
    /// before when the answer had no count.
    pub(super) fn set_vote(&mut self, id: &str, my_vote: MyVote, votes: Option<i64>) -> i64 {
        match self.known_mut(id) {
            Some(k) => {
                k.who = k.who.with_vote(my_vote);
                k.votes = votes.map_or(k.votes, votes32);
                k.votes.into()
            }
            None => votes.unwrap_or(0),
        }
    }

    pub(super) fn ids(&self) -> impl Iterator<Item = &Str> {
        self.rows.iter().map(|k| &k.id)
    }

    /// Ids and statuses of every known question.
    pub(super) fn statuses(&self) -> impl Iterator<Item = (&Str, Status)> {
        self.rows.iter().map(|k| (&k.id, k.who.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, author: Option<&str>) -> Question {
        Question {
            source: SourceId(2),
            id: id.into(),
            text: "How?".into(),
            author: author.map(Str::from),
            votes: 3,
            my_vote: MyVote::Up,
            status: Status::Answered,
            on_air: false,
            created: 10,
            updated: 20,
        }
    }

    #[test]
    fn gives_back_what_it_was_told_sharing_texts_and_names() {
        let mut known = KnownMap::default();
        let a = q("a", Some("Zoë"));
        known.insert(&a);
        known.insert(&q("b", Some("Zoë")));
        known.insert(&q("c", None));
        assert_eq!(known.get(SourceId(2), "a"), Some(a.clone()));
        assert_eq!(known.get(SourceId(2), "c").unwrap().author, None);
        let b = known.get(SourceId(2), "b").unwrap();
        assert!(
            b.author
                .unwrap()
                .same(&known.get(SourceId(2), "a").unwrap().author.unwrap())
        );
        assert!(known.get(SourceId(2), "a").unwrap().text.same(&a.text));
        assert_eq!(known.set_vote("a", MyVote::None, None), 3);
        assert_eq!(known.get(SourceId(2), "a").unwrap().my_vote, MyVote::None);
        assert_eq!(known.set_vote("a", MyVote::Up, Some(4)), 4);
        known.remove("a");
        assert_eq!(known.get(SourceId(2), "a"), None);
        assert_eq!(known.status("b"), Some(Status::Answered));
        assert_eq!(known.ids().count(), 2);
        // A removed row is taken again; removing twice is harmless.
        known.remove("a");
        let d = q("d", None);
        known.insert(&d);
        assert_eq!(known.get(SourceId(2), "d"), Some(d));
        assert_eq!(known.get(SourceId(2), "b").unwrap().id, "b");
        assert_eq!(known.statuses().count(), 3);
    }

    #[test]
    fn a_row_keeps_every_status_vote_and_count_it_is_given() {
        let mut known = KnownMap::default();
        for (n, status) in Status::ALL.into_iter().enumerate() {
            for my_vote in [MyVote::None, MyVote::Up, MyVote::Down] {
                let mut x = q(&format!("{n}{my_vote:?}"), Some(&format!("a{n}")));
                (x.status, x.my_vote, x.votes) = (status, my_vote, -7);
                known.insert(&x);
                assert_eq!(known.get(SourceId(2), &x.id), Some(x));
            }
        }
        let mut big = q("big", None);
        big.votes = i64::MAX;
        known.insert(&big);
        assert_eq!(
            known.get(SourceId(2), "big").unwrap().votes,
            i64::from(i32::MAX)
        );
        assert_eq!(
            known.set_vote("big", MyVote::Down, Some(i64::MIN)),
            i64::from(i32::MIN)
        );
        let back = known.get(SourceId(2), "big").unwrap();
        assert_eq!(
            (back.my_vote, back.status, back.author),
            (MyVote::Down, Status::Answered, None)
        );
        assert_eq!(size_of::<Known>(), 40);
    }
}

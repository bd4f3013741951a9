//! Changes that did not come from this console: another moderator on the
//! platform (or the platform itself) moved a question, deleted it or changed
//! the moderator account's vote, or another console on this machine changed
//! its local state. The row shows `✎` for [`CHANGED_MS`], the detail says
//! what changed and when. Transient: kept in the core, never stored.
//!
//! Not a change: the first sync of a question, audience votes moving, and
//! whatever this console's own actions explain (one in flight, or one the
//! platform confirmed lately that set the value now seen).

use super::App;
use crate::domain::{Millis, MyVote, Op, QKey, Status};

/// How long a change from elsewhere is marked.
pub const CHANGED_MS: Millis = 60_000;
/// How long a confirmed action of ours explains what the feed shows.
const OURS_MS: Millis = 30_000;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The platform: another moderator, or the platform itself.
    Platform,
    /// Another console sharing this machine's store.
    OtherConsole,
}

impl Origin {
    pub fn phrase(self) -> &'static str {
        match self {
            Origin::Platform => "on the platform",
            Origin::OtherConsole => "on another console",
        }
    }
}

/// One change from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: Millis,
    pub origin: Origin,
    /// "selected → answered", "vote: up → none", "deleted".
    pub what: String,
}

/// A confirmed action of this console, for a while.
#[derive(Debug, Clone)]
pub(super) struct Ours {
    at: Millis,
    op: Op,
}

/// What a change is compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    status: Status,
    on_air: bool,
    my_vote: MyVote,
    /// Actions of ours in flight on it: they explain any change.
    inflight: bool,
}

fn vote_name(v: MyVote) -> &'static str {
    match v {
        MyVote::None => "none",
        MyVote::Up => "up",
        MyVote::Down => "down",
    }
}

impl App {
    /// The question's change from elsewhere, while it is marked.
    pub fn changed_elsewhere(&self, key: &QKey) -> Option<&Change> {
        self.elsewhere
            .get(key)
            .filter(|c| self.now.saturating_sub(c.at) < CHANGED_MS)
    }

    /// The question as a change is judged, before something arrives.
    pub(super) fn seen(&self, key: &QKey) -> Option<Seen> {
        let e = self.queue.get(key)?;
        Some(Seen {
            status: e.view.status,
            on_air: e.view.on_air,
            my_vote: e.view.my_vote,
            inflight: self.queue.inflight(key) > 0,
        })
    }

    /// An action of ours the platform confirmed.
    pub(super) fn note_ours(&mut self, key: QKey, op: Op) {
        self.ours.insert(key, Ours { at: self.now, op });
    }

    fn explained(&self, key: &QKey, check: impl Fn(&Op) -> bool) -> bool {
        self.ours
            .get(key)
            .is_some_and(|o| self.now.saturating_sub(o.at) < OURS_MS && check(&o.op))
    }

    /// Compares the question with how it was `before` an arrival from
    /// `origin`, and marks what changed that this console did not do.
    pub(super) fn judge(&mut self, key: &QKey, before: Option<Seen>, origin: Origin) {
        let (Some(b), Some(now)) = (before, self.seen(key)) else {
            return;
        };
        if b.inflight || now.inflight {
            return;
        }
        let mut what = Vec::new();
        if b.status != now.status
            && !self.explained(
                key,
                |op| matches!(op, Op::SetStatus { status, .. } if *status == now.status),
            )
        {
            what.push(format!("{} → {}", b.status.as_str(), now.status.as_str()));
        }
        if b.on_air != now.on_air {
            what.push(
                if now.on_air {
                    "put on air"
                } else {
                    "taken off air"
                }
                .to_string(),
            );
        }
        if b.my_vote != now.my_vote
            && !self.explained(
                key,
                |op| matches!(op, Op::Vote { want, .. } if *want == now.my_vote),
            )
        {
            what.push(format!(
                "the account's vote: {} → {}",
                vote_name(b.my_vote),
                vote_name(now.my_vote)
            ));
        }
        if !what.is_empty() {
            self.mark_elsewhere(key.clone(), origin, what.join(", "));
        }
    }

    /// A held question is gone: marked (for the machine format) and said
    /// unless this console deleted it.
    pub(super) fn judge_gone(&mut self, key: &QKey, before: Option<Seen>) -> bool {
        let Some(b) = before else { return false };
        if b.inflight || self.explained(key, |op| matches!(op, Op::Delete { .. })) {
            return false;
        }
        self.mark_elsewhere(key.clone(), Origin::Platform, "deleted".into());
        true
    }

    fn mark_elsewhere(&mut self, key: QKey, origin: Origin, what: String) {
        self.elsewhere.insert(
            key,
            Change {
                at: self.now,
                origin,
                what,
            },
        );
    }

    /// Forgets what no longer counts (on every tick).
    pub(super) fn expire_elsewhere(&mut self) {
        let now = self.now;
        self.elsewhere
            .retain(|_, c| now.saturating_sub(c.at) < CHANGED_MS);
        self.ours.retain(|_, o| now.saturating_sub(o.at) < OURS_MS);
    }
}

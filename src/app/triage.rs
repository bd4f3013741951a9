//! Triage in the core: the `[[rule]]`s meet every new arrival (hold,
//! reject or approve, each with its reason), `u` takes a rule's decision
//! back, and the search (`/`, saved searches on the number keys) filters
//! the panes through facts the core knows.

use super::{App, Command};
use crate::domain::{Hold, QKey, Question, Ruled, Status};
use crate::triage::rules::{self, Arrival, Rule, RuleAction, Verdict};
use crate::triage::search::{self, Facts, SavedSearch};

impl App {
    /// The config's rules and saved searches.
    pub fn set_triage(&mut self, rules: Vec<Rule>, searches: Vec<SavedSearch>) {
        self.rules = rules;
        self.searches = searches;
    }

    /// Notes a question the core has not held before, for the rules.
    pub(super) fn arrived(&mut self, q: &Question) {
        if !self.rules.is_empty() && self.queue.get(&q.key()).is_none() {
            self.arrived.push(q.key());
        }
    }

    /// Notes a held question that left Pending, whoever moved it.
    pub(super) fn left_pending(&mut self, m: &super::queue::Moved) {
        let left = m.from.as_ref().is_some_and(|(s, _)| *s == Status::Pending)
            && m.to != Some(Status::Pending);
        if left && !self.marks.is_empty() && self.held_by(&m.key).is_some() {
            self.unheld.push(m.key.clone());
        }
    }

    /// Runs the rules over what arrived in this update. Only a question
    /// still undecided meets them: pending, with no action of this machine
    /// on it (a local state, an action in flight, a hold kept from before).
    pub(super) fn apply_rules(&mut self, cmds: &mut Vec<Command>) {
        for key in std::mem::take(&mut self.unheld) {
            let pending = self
                .queue
                .get(&key)
                .is_some_and(|e| e.view.status == Status::Pending);
            if !pending {
                self.release_hold(&key, cmds);
            }
        }
        for key in std::mem::take(&mut self.arrived) {
            let Some(e) = self.queue.get(&key) else {
                continue;
            };
            let undecided = e.view.status == Status::Pending
                && self.queue.inflight(&key) == 0
                && self.queue.local(&key).status.is_none()
                && self
                    .marks
                    .get(&key)
                    .is_none_or(|m| m.held.is_none() && m.ruled.is_none() && !m.reviewed);
            if !undecided {
                continue;
            }
            let author = e
                .view
                .author
                .as_deref()
                .map(|a| format!("{}\u{1f}{}", key.source.0, crate::triage::fold::fold(a)));
            // The platform's time where it has one; a question from the
            // future counts as now.
            let at = match e.view.created {
                c if c > 0 => c.min(self.now),
                _ => self.now,
            };
            let arrival = Arrival {
                text: &e.view.text,
                author: author.as_deref(),
                at,
            };
            if let Some(verdict) = rules::check(&self.rules, arrival, &mut self.flood) {
                self.decide(key, verdict, cmds);
            }
        }
    }

    fn decide(&mut self, key: QKey, verdict: Verdict, cmds: &mut Vec<Command>) {
        match verdict.action {
            RuleAction::Hold => {
                let marks = self.marks.entry(key.clone()).or_default();
                marks.held = Some(Hold {
                    rule: verdict.rule,
                    matched: verdict.matched,
                });
                cmds.push(Command::SaveMarks {
                    key: key.clone(),
                    marks: marks.clone(),
                });
            }
            RuleAction::Reject | RuleAction::Approve => {
                let target = match verdict.action {
                    RuleAction::Reject => Status::Rejected,
                    _ => Status::Selected,
                };
                self.acting = Some(format!("rule:{}", verdict.rule));
                self.set_status(key.clone(), target, false, cmds);
                self.acting = None;
                let mut marks = self.marks.get(&key).cloned().unwrap_or_default();
                marks.ruled = Some(Ruled {
                    why: Hold {
                        rule: verdict.rule,
                        matched: verdict.matched,
                    },
                    to: target,
                });
                self.set_marks(key.clone(), marks, cmds);
            }
        }
        self.changed(&key);
    }

    /// Why a rule decided this question, for the detail view: "held by
    /// rule profanity — matched word 'darn'".
    pub fn decision_note(&self, key: &QKey) -> Option<String> {
        if let Some(h) = self.marks.get(key).and_then(|m| m.held.as_ref()) {
            return Some(format!("held by rule {} — matched {}", h.rule, h.matched));
        }
        let r = self.marks.get(key)?.ruled.as_ref()?;
        // Another moderator moved it on since: the rule's word is history.
        if self.queue.get(key).is_none_or(|e| e.view.status != r.to) {
            return None;
        }
        Some(format!(
            "{} by rule {} — matched {} ({} undoes)",
            ruled_words(r.to).1,
            r.why.rule,
            r.why.matched,
            self.keymap.key_for(super::Action::Undo)
        ))
    }

    /// The rule holding a question, for its row (`⚑ name`).
    pub fn held_by(&self, key: &QKey) -> Option<&str> {
        self.marks.get(key)?.held.as_ref().map(|h| h.rule.as_str())
    }

    /// The moderator decided the question: a rule's hold and decision on
    /// it are over, and the rules leave it alone from then on.
    pub(super) fn moderator_decided(&mut self, key: &QKey, cmds: &mut Vec<Command>) {
        if self.acting.is_some() {
            return;
        }
        if let Some(m) = self.marks.get(key).filter(|m| m.ruled.is_some()) {
            let mut m = m.clone();
            m.ruled = None;
            m.reviewed = true;
            self.set_marks(key.clone(), m, cmds);
        }
        self.release_hold(key, cmds);
    }

    fn release_hold(&mut self, key: &QKey, cmds: &mut Vec<Command>) -> Option<Hold> {
        let marks = self.marks.get_mut(key)?;
        let hold = marks.held.take()?;
        marks.reviewed = true;
        cmds.push(Command::SaveMarks {
            key: key.clone(),
            marks: marks.clone(),
        });
        self.changed(key);
        Some(hold)
    }

    /// `u` on a question a rule decided takes that decision back, as the
    /// moderator's own action: a hold is released, a rejected or approved
    /// question goes back to pending (where the platform allows it).
    /// False when the question under the cursor carries no such decision.
    pub(super) fn undo_decision(&mut self, cmds: &mut Vec<Command>) -> bool {
        let Some(key) = self.current().map(|e| e.view.key()) else {
            return false;
        };
        if let Some(hold) = self.release_hold(&key, cmds) {
            self.toast(format!(
                "released “{}” (held by rule {})",
                self.preview(&key),
                hold.rule
            ));
            return true;
        }
        let Some(r) = self.marks.get(&key).and_then(|m| m.ruled.clone()) else {
            return false;
        };
        // Moved on since (elsewhere): the rule's decision is not what
        // stands any more, so `u` undoes something else.
        if self.queue.get(&key).is_none_or(|e| e.view.status != r.to) {
            return false;
        }
        // The moderator's own action: it ends the rule's decision and
        // marks the question reviewed (`moderator_decided`).
        self.set_status(key.clone(), Status::Pending, false, cmds);
        self.toast(format!(
            "undone: rule {}'s {} of “{}”",
            r.why.rule,
            ruled_words(r.to).0,
            self.preview(&key)
        ));
        true
    }

    /// What the search can ask about a question.
    pub fn facts<'a>(&'a self, q: &'a Question, with_marks: bool) -> Facts<'a> {
        let key = with_marks.then(|| q.key());
        let marks = key.as_ref().and_then(|k| self.marks.get(k));
        Facts {
            text: &q.text,
            author: q.author.as_deref(),
            source: self.source_name(q.source),
            status: q.status,
            on_air: q.on_air,
            votes: q.votes,
            age_ms: self.now.saturating_sub(q.created),
            starred: marks.is_some_and(|m| m.starred),
            held: marks.is_some_and(|m| m.held.is_some()),
            dup: key.as_ref().is_some_and(|k| self.group_of(k).is_some()),
            labels: marks.map_or(&[], |m| m.labels.as_slice()),
        }
    }

    /// Sets the search from typed text (or a saved search's); an error
    /// leaves the search as it was.
    pub(super) fn set_search(&mut self, text: &str, name: Option<String>) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            self.clear_search();
            return Ok(());
        }
        let query = search::parse(text)?;
        self.filter = Some(text.to_string());
        self.query = Some(query);
        self.search_name = name;
        Ok(())
    }

    pub(super) fn clear_search(&mut self) {
        self.filter = None;
        self.query = None;
        self.search_name = None;
    }

    /// Number key `n` (1-based): that saved search, or off again when it
    /// is the one filtering.
    pub(super) fn saved_search(&mut self, n: usize) {
        let Some(s) = self.searches.get(n - 1).cloned() else {
            self.toast(format!(
                "no saved search {n}: add it under [searches] in the config"
            ));
            return;
        };
        if self.search_name.as_deref() == Some(s.name.as_str()) {
            self.clear_search();
            self.toast(format!("search {} off", s.name));
            return;
        }
        self.filter = Some(s.text.clone());
        self.query = Some(s.query.clone());
        self.search_name = Some(s.name.clone());
        self.toast(format!("search {}: {}", s.name, s.text));
    }
}

/// A rule's decision in words: the action ("reject") and what it did
/// ("rejected").
fn ruled_words(to: Status) -> (&'static str, &'static str) {
    if to == Status::Rejected {
        ("reject", "rejected")
    } else {
        ("approve", "approved")
    }
}

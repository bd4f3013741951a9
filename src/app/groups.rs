//! Duplicate groups as the core shows them: the index of `triage::dup`
//! fed as questions arrive, change text or go, and what each group shows
//! (one row per pane, its size and votes), kept indexed so drawing never
//! scans a group or the list.

use super::App;
use crate::domain::{QKey, Question, Status};
use crate::triage::dup::{Index, Regroup};
use std::collections::{HashMap, HashSet};

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

/// The core's side of duplicate grouping.
#[derive(Debug, Default)]
pub struct Groups {
    index: Index,
    slots: HashMap<QKey, u32>,
    keys: Vec<Option<QKey>>,
    free: Vec<u32>,
    /// By the index's group id.
    info: HashMap<u32, GroupInfo>,
    /// Members that show as their group's row in their pane.
    heads: HashSet<QKey>,
    /// Members folded into their group's row.
    hidden: HashSet<QKey>,
    /// A member of the group `z` expanded, if any.
    expanded: Option<QKey>,
    /// Questions the moderator kept in a merge.
    picked: HashSet<QKey>,
}

impl Groups {
    fn slot(&mut self, key: &QKey) -> u32 {
        if let Some(s) = self.slots.get(key) {
            return *s;
        }
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.keys.push(None);
                (self.keys.len() - 1) as u32
            }
        };
        self.keys[s as usize] = Some(key.clone());
        self.slots.insert(key.clone(), s);
        s
    }

    fn key(&self, slot: u32) -> Option<&QKey> {
        self.keys.get(slot as usize)?.as_ref()
    }

    fn group_id(&self, key: &QKey) -> Option<u32> {
        self.index.group_of(*self.slots.get(key)?)
    }

    fn member_keys(&self, group: u32) -> Vec<QKey> {
        self.index
            .members(group)
            .iter()
            .filter_map(|s| self.key(*s).cloned())
            .collect()
    }

    /// Whether a question is folded into its group's row.
    pub fn hides(&self, q: &Question) -> bool {
        !self.hidden.is_empty() && self.hidden.contains(&q.key())
    }

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

    /// Bytes the duplicate index holds (for the benchmark).
    pub fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }
}

impl App {
    /// The group `key` belongs to, if it has duplicates.
    pub fn group_of(&self, key: &QKey) -> Option<GroupInfo> {
        let g = self.groups.group_id(key)?;
        self.groups.info.get(&g).cloned()
    }

    /// The first `limit` members of `key`'s group (none when it has no
    /// duplicates), in arrival order of their slots.
    pub fn group_members(&self, key: &QKey, limit: usize) -> Vec<QKey> {
        let Some(g) = self.groups.group_id(key) else {
            return Vec::new();
        };
        let slots = self.groups.index.members(g);
        slots
            .iter()
            .take(limit)
            .filter_map(|s| self.groups.key(*s).cloned())
            .collect()
    }

    /// How a question's row shows its group, if it has one.
    pub fn group_row(&self, key: &QKey) -> Option<GroupRow> {
        let g = self.groups.group_id(key)?;
        let info = self.groups.info.get(&g)?;
        Some(if self.groups.heads.contains(key) {
            GroupRow::Head {
                size: info.size,
                votes: info.votes,
            }
        } else {
            GroupRow::Member
        })
    }

    /// Whether the group of `key` is the expanded one.
    pub fn group_expanded(&self, key: &QKey) -> bool {
        let open = self.groups.expanded.as_ref();
        open.is_some_and(|k| {
            self.groups.group_id(k).is_some()
                && self.groups.group_id(k) == self.groups.group_id(key)
        })
    }

    /// A question arrived or its text changed: it may join or leave groups.
    pub(super) fn group_text(&mut self, key: &QKey, text: &str) {
        let slot = self.groups.slot(key);
        let r = self.groups.index.insert(slot, text);
        self.regrouped(r);
    }

    /// A question is gone.
    pub(super) fn group_forget(&mut self, key: &QKey) {
        let Some(slot) = self.groups.slots.remove(key) else {
            return;
        };
        let r = self.groups.index.remove(slot);
        self.groups.keys[slot as usize] = None;
        self.groups.free.push(slot);
        self.groups.picked.remove(key);
        self.groups.heads.remove(key);
        self.groups.hidden.remove(key);
        self.regrouped(r);
    }

    fn regrouped(&mut self, r: Regroup) {
        for g in &r.gone {
            self.groups.info.remove(g);
        }
        for s in &r.slots {
            let Some(k) = self.groups.key(*s).cloned() else {
                continue;
            };
            if self.groups.group_id(&k).is_none() {
                self.groups.heads.remove(&k);
                self.groups.hidden.remove(&k);
                self.changed(&k);
            }
        }
        for g in r.changed {
            self.refresh_group(g, true);
        }
    }

    /// A question moved, changed votes or status: its group's row, kept
    /// question and totals follow.
    pub(super) fn group_moved(&mut self, key: &QKey) {
        if let Some(g) = self.groups.group_id(key) {
            self.refresh_group(g, false);
        }
    }

    /// Works out a group's kept question, totals and rows (a group's size,
    /// not the list's). Membership changes are reported to the headless
    /// output, as are changes of the kept question.
    fn refresh_group(&mut self, g: u32, membership: bool) {
        let members = self.groups.member_keys(g);
        let entries: Vec<_> = members
            .iter()
            .filter_map(|k| self.queue.get(k).map(|e| (k, e)))
            .collect();
        let order = |k: &QKey| self.queue.order_of(k);
        let Some(kept) = self.pick_kept(&entries) else {
            return;
        };
        let votes = entries
            .iter()
            .fold(0i64, |a, (_, e)| a.saturating_add(e.view.votes));
        let open = self.group_expanded(&kept);
        let mut heads: HashMap<Status, (&QKey, super::queue::OrderKey)> = HashMap::new();
        // Only Pending folds a group into one row: every selected,
        // answered or rejected question is a decision of its own and shows.
        for (k, e) in entries
            .iter()
            .filter(|(_, e)| e.view.status == Status::Pending)
        {
            let st = e.view.status;
            let better = match heads.get(&st) {
                None => true,
                Some((hk, ho)) => *hk != &kept && (*k == &kept || order(k) < Some(*ho)),
            };
            if better && let Some(o) = order(k) {
                heads.insert(st, (k, o));
            }
        }
        let heads: HashSet<QKey> = heads.values().map(|(k, _)| (*k).clone()).collect();
        let info = GroupInfo {
            kept,
            size: members.len(),
            votes,
        };
        let old = self.groups.info.insert(g, info.clone());
        for k in &members {
            self.groups.heads.remove(k);
            self.groups.hidden.remove(k);
            let pending = self
                .queue
                .get(k)
                .is_some_and(|e| e.view.status == Status::Pending);
            if heads.contains(k) || !pending {
                self.groups.heads.insert(k.clone());
            } else if !open {
                self.groups.hidden.insert(k.clone());
            }
        }
        // Every member's line names the kept question, so all of them go
        // out again when it changes; a new size alone is said on the kept
        // question's line (the arrival's own line says it too), which keeps
        // an arrival's cost independent of the group's size in the output.
        match old {
            Some(o) if o.kept == info.kept => {
                if membership || o.size != info.size {
                    self.changed(&info.kept);
                }
            }
            _ => {
                for k in &members {
                    self.changed(k);
                }
            }
        }
    }

    /// The moderator's pick, else the most votes, then the oldest, then
    /// the key.
    fn pick_kept(&self, entries: &[(&QKey, &super::queue::Entry)]) -> Option<QKey> {
        entries
            .iter()
            .min_by(|(ka, a), (kb, b)| {
                let pa = self.groups.picked.contains(*ka);
                let pb = self.groups.picked.contains(*kb);
                pb.cmp(&pa)
                    .then(b.view.votes.cmp(&a.view.votes))
                    .then(a.view.created.cmp(&b.view.created))
                    .then(ka.cmp(kb))
            })
            .map(|(k, _)| (*k).clone())
    }

    /// `z`: opens the group under the cursor (its members show, indented),
    /// or closes it (the cursor goes to the group's row).
    pub(super) fn toggle_group(&mut self) {
        let Some(key) = self.current().map(|e| e.view.key()) else {
            self.toast("nothing selected");
            return;
        };
        let Some(g) = self.groups.group_id(&key) else {
            self.toast("no duplicates of this question");
            return;
        };
        let was = self.groups.expanded.take();
        let was_g = was.as_ref().and_then(|k| self.groups.group_id(k));
        if let Some(old) = was_g {
            self.refresh_group(old, false);
        }
        if was_g == Some(g) {
            let status = self.current().map(|e| e.view.status);
            let head = self.group_members(&key, usize::MAX).into_iter().find(|k| {
                self.groups.heads.contains(k) && self.queue.get(k).map(|e| e.view.status) == status
            });
            if let (Some(h), Some(p)) = (head, self.panes.get_mut(&self.focus)) {
                p.cursor = Some(h);
            }
            return;
        }
        self.groups.expanded = Some(key);
        self.refresh_group(g, false);
    }
}

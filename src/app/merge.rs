//! `M`: a duplicate group is merged into one question. The kept one stays;
//! every other member is rejected on its own platform (deleted where the
//! platform cannot reject, or rejected on this machine where it can do
//! neither), and `u` undoes what the platforms allow.

use super::queue::Patch;
use super::{Action, App, Command, UndoEntry};
use crate::domain::{Op, QKey, Status};

impl App {
    pub(super) fn merge_group(&mut self, cmds: &mut Vec<Command>) {
        let Some(key) = self.current().map(|e| e.view.key()) else {
            self.toast("nothing selected");
            return;
        };
        let Some(info) = self.group_of(&key) else {
            self.toast("no duplicates of this question to merge");
            return;
        };
        // In an open group the member under the cursor is the moderator's pick.
        let kept = if self.group_expanded(&key) {
            key
        } else {
            info.kept
        };
        let members = self.group_members(&kept, usize::MAX);
        let note = format!("merge: kept {}/{}", self.source_name(kept.source), kept.id);
        let mut steps = Vec::new();
        let mut merged = 0;
        let mut deleted = 0;
        for k in members.iter().filter(|k| **k != kept) {
            self.groups_unpick(k);
            let Some(status) = self.queue.get(k).map(|e| e.view.status) else {
                continue;
            };
            if status == Status::Rejected {
                continue;
            }
            let caps = self.source(k.source).map(|s| s.caps.clone());
            let Some(caps) = caps else { continue };
            merged += 1;
            if !caps.stores(Status::Rejected) && caps.delete {
                deleted += 1;
                let op = Op::Delete {
                    id: k.id.to_string(),
                };
                let why = Some(note.clone());
                self.send_noted(k.source, op, Some(k.clone()), Patch::default(), why, cmds);
            } else {
                steps.extend(self.snapshot(k));
                let from = cmds.len();
                self.set_status(k.clone(), Status::Rejected, false, cmds);
                // The rejection just queued is journaled as part of the merge.
                for c in &mut cmds[from..] {
                    if let Command::Send(q) = c {
                        q.note = Some(note.clone());
                    }
                }
            }
        }
        self.groups_pick(&kept);
        self.groups_close();
        if merged == 0 {
            self.toast(format!(
                "kept “{}”; no other duplicate left to merge",
                self.preview(&kept)
            ));
            return;
        }
        if let Some(p) = self.panes.get_mut(&self.focus) {
            p.cursor = Some(kept.clone());
        }
        let deleted_note = match deleted {
            0 => String::new(),
            n => format!(" ({n} deleted: their platform cannot reject)"),
        };
        self.toast(format!(
            "Merged {merged} duplicate{} into “{}”{deleted_note} — {} undoes",
            if merged == 1 { "" } else { "s" },
            self.preview(&kept),
            self.keymap.key_for(Action::Undo)
        ));
        if !steps.is_empty() {
            self.push_undo(UndoEntry {
                label: "merge".into(),
                steps,
            });
        }
    }

    fn groups_pick(&mut self, kept: &QKey) {
        self.groups.pick(kept.clone());
        self.group_moved(kept);
    }

    fn groups_unpick(&mut self, key: &QKey) {
        self.groups.unpick(key);
    }

    fn groups_close(&mut self) {
        if let Some(k) = self.groups.close() {
            self.group_moved(&k);
        }
    }
}

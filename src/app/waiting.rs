//! Retry and drop: the moderator's say over an action that waits, whether
//! the platform refused it (failed) or it is backing off (a long
//! `Retry-After`, a platform that is down). Failed actions come first, the
//! most recent one; then the action the status bar shows waiting longest.

use super::{App, Command};

impl App {
    /// Sends the waiting action again now.
    pub(super) fn retry_now(&mut self, cmds: &mut Vec<Command>) {
        if let Some(f) = self.failed.pop() {
            if self.failed.is_empty() {
                self.last_error = None;
            }
            self.toast(format!("retrying: {}", f.queued.op.label()));
            cmds.push(Command::RetryOp {
                op_id: f.queued.op_id.clone(),
            });
            self.track(f.queued, None);
            return;
        }
        let Some(op_id) = self.longest_retry().map(|f| f.queued.op_id.clone()) else {
            self.toast("no failed or waiting action to retry");
            return;
        };
        let now = self.now;
        if let Some(f) = self.inflight.get_mut(&op_id) {
            f.retry_at = Some(now);
            let label = f.queued.op.label();
            self.toast(format!("retrying now: {label}"));
        }
        cmds.push(Command::RetryOp { op_id });
    }

    /// Gives the waiting action up: it is never sent (if it is on its way
    /// right now, the platform's answer is not recorded) and its
    /// optimistic change is taken back.
    pub(super) fn drop_waiting_action(&mut self, cmds: &mut Vec<Command>) {
        if let Some(f) = self.failed.pop() {
            if self.failed.is_empty() {
                self.last_error = None;
            }
            self.toast(format!("dropped: {}", f.queued.op.label()));
            cmds.push(Command::DropOp {
                op_id: f.queued.op_id,
            });
            return;
        }
        let Some(op_id) = self.longest_retry().map(|f| f.queued.op_id.clone()) else {
            self.toast("no failed or waiting action to drop");
            return;
        };
        if let Some(gone) = self.inflight.remove(&op_id) {
            self.roll_back(&gone);
            self.toast(format!("dropped: {}", gone.queued.op.label()));
        }
        cmds.push(Command::DropOp { op_id });
    }
}

//! The runtime's own news (store trouble, a picked event's provider) taken
//! into the core's state, so that the core stays the only writer of it.

use super::{App, SessionEvent};

impl App {
    pub(super) fn on_session(&mut self, news: SessionEvent) {
        match news {
            SessionEvent::StoreFailed(message) => self.last_error = Some(message),
            SessionEvent::EventPicked { source, caps } => {
                if let Some(s) = self.sources.get_mut(source.0 as usize) {
                    s.caps = caps;
                    s.has_event = true;
                }
            }
            SessionEvent::PickFailed { source, reason } => {
                let name = self.source_name(source).to_string();
                self.last_error = Some(format!("{name}: {reason}"));
            }
            SessionEvent::Waiting { source, waiting } => {
                if let Some(s) = self.sources.get_mut(source.0 as usize) {
                    s.waiting = waiting;
                }
            }
            SessionEvent::SharedLocal { source, states, .. } => self.take_shared(source, states),
        }
    }
}

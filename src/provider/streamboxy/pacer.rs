//! The process-wide call pacer: one per (base URL, tenant), shared by every
//! call so the tenant's calls-a-second limit holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Spaces calls to stay under a calls-a-second limit; a 429 holds it.
pub struct Pacer {
    pub(super) interval: Duration,
    pub(super) state: Mutex<PacerState>,
}

pub(super) struct PacerState {
    pub(super) next: Option<Instant>,
    pub(super) held_until: Option<Instant>,
}

impl Pacer {
    /// Evenly spaced at 5 % under `per_sec`, so no one-second window (fixed
    /// or sliding) on the platform's side ever sees more than `per_sec`.
    pub fn new(per_sec: u32) -> Pacer {
        let per_sec = per_sec.max(1);
        Pacer {
            interval: Duration::from_secs_f64(1.05 / per_sec as f64),
            state: Mutex::new(PacerState {
                next: None,
                held_until: None,
            }),
        }
    }

    /// The pacer shared by every provider of one tenant on one host.
    pub fn shared(key: &str, per_sec: u32) -> Arc<Pacer> {
        static ALL: OnceLock<Mutex<HashMap<String, Weak<Pacer>>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.retain(|_, p| p.strong_count() > 0);
        let key = format!("{key}#{per_sec}");
        if let Some(p) = all.get(&key).and_then(Weak::upgrade) {
            return p;
        }
        let p = Arc::new(Pacer::new(per_sec));
        all.insert(key, Arc::downgrade(&p));
        p
    }

    /// Waits for this call's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let mut at = st.next.map_or(now, |n| n.max(now));
            if let Some(h) = st.held_until {
                at = at.max(h);
            }
            st.next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(slot).await;
    }

    /// No call starts before `d` from now (after a 429).
    pub fn hold(&self, d: Duration) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + d;
        st.held_until = Some(st.held_until.map_or(until, |h| h.max(until)));
    }
}

//! The process-wide call pacer: one per (base URL, tenant), shared by every
//! call of every source of that tenant so the tenant's calls-a-second limit
//! holds. Sources that configure different `calls_per_sec` share it at the
//! strictest of their values, never above the documented tenant limit.

use super::DEFAULT_CALLS_PER_SEC;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Spaces calls to stay under a calls-a-second limit; a 429 holds it.
pub struct Pacer {
    pub(super) state: Mutex<PacerState>,
}

pub(super) struct PacerState {
    pub(super) interval: Duration,
    pub(super) next: Option<Instant>,
    pub(super) held_until: Option<Instant>,
    /// Counts holds, so a call that took its slot before a 429 came in
    /// takes a new one after the hold instead of going out during it.
    pub(super) holds: u64,
}

impl Pacer {
    /// Evenly spaced at 5 % under `per_sec`, so no one-second window (fixed
    /// or sliding) on the platform's side ever sees more than `per_sec`.
    /// `per_sec` above the documented tenant limit is taken as the limit.
    pub fn new(per_sec: u32) -> Pacer {
        Pacer {
            state: Mutex::new(PacerState {
                interval: interval(per_sec),
                next: None,
                held_until: None,
                holds: 0,
            }),
        }
    }

    /// The pacer shared by every provider of one tenant on one host; a
    /// stricter `per_sec` than the pacer has slows it down for all.
    pub fn shared(key: &str, per_sec: u32) -> Arc<Pacer> {
        static ALL: OnceLock<Mutex<HashMap<String, Weak<Pacer>>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.retain(|_, p| p.strong_count() > 0);
        if let Some(p) = all.get(key).and_then(Weak::upgrade) {
            p.at_most(per_sec);
            return p;
        }
        let p = Arc::new(Pacer::new(per_sec));
        all.insert(key.to_string(), Arc::downgrade(&p));
        p
    }

    /// Lowers the rate to `per_sec` when that is stricter.
    fn at_most(&self, per_sec: u32) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.interval = st.interval.max(interval(per_sec));
    }

    /// The space between two calls.
    pub fn interval(&self) -> Duration {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .interval
    }

    /// Waits for this call's slot. Calls of several sources (and several
    /// actions of one, delivered side by side) wait here at once; a hold
    /// that comes in while one waits sends it back for a slot after it.
    pub async fn wait(&self) {
        loop {
            let (slot, holds) = {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let mut at = st.next.map_or(now, |n| n.max(now));
                if let Some(h) = st.held_until {
                    at = at.max(h);
                }
                st.next = Some(at + st.interval);
                (at, st.holds)
            };
            tokio::time::sleep_until(slot).await;
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if st.holds == holds {
                return;
            }
        }
    }

    /// No call starts before `d` from now (after a 429).
    pub fn hold(&self, d: Duration) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + d;
        st.held_until = Some(st.held_until.map_or(until, |h| h.max(until)));
        st.holds += 1;
    }
}

/// Evenly spaced at 5 % under `per_sec` (1 to the documented limit).
fn interval(per_sec: u32) -> Duration {
    let per_sec = per_sec.clamp(1, DEFAULT_CALLS_PER_SEC);
    Duration::from_secs_f64(1.05 / f64::from(per_sec))
}

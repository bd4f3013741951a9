//! How many actions one source may have in flight: a pure function of the
//! configured number, what the platform last said about its rate budget
//! (`X-RateLimit-*`), and how its last answers went.
//!
//! - While plenty of the budget remains, the configured number.
//! - Below a tenth of the limit, proportionally fewer, never more than the
//!   requests that remain; with none left, none until the window resets,
//!   and then never more than the limit.
//!   Actions may spend the whole budget: the feed's polls leave the last
//!   quarter of it to the moderator anyway (`provider::postobox::pacing`).
//! - A 429 or a failing platform (network error, 5xx) pauses the whole
//!   pipeline until the retry time (`Retry-After`, or the backoff), not
//!   only the action that met it; afterwards one action at a time probes
//!   until the platform answers again, so a platform that is down sees one
//!   request per backoff, as with a single worker.

use crate::domain::{Millis, RateBudget};

/// What may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// Up to this many in flight (at least one).
    Up(usize),
    /// Nothing before this time.
    At(Millis),
}

/// The pipeline's state between answers.
#[derive(Debug, Clone)]
pub struct Pace {
    max: usize,
    paused_until: Millis,
    probing: bool,
    /// Counts pauses: only an answer to a call sent since the last pause
    /// ends the probing (calls already on the wire prove nothing new).
    epoch: u64,
}

impl Pace {
    /// `max` in flight at most (taken as at least one).
    pub fn new(max: usize) -> Pace {
        Pace {
            max: max.max(1),
            paused_until: Millis::MIN,
            probing: false,
            epoch: 0,
        }
    }

    /// The epoch a call sent now belongs to (give it to [`Pace::answered`]).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// What may be in flight at `now`, given the last budget seen.
    pub fn allow(&self, now: Millis, budget: Option<RateBudget>) -> Allow {
        if self.paused_until > now {
            return Allow::At(self.paused_until);
        }
        let cap = if self.probing { 1 } else { self.max };
        match budget.map(|b| budget_cap(&b, now, cap)) {
            Some(Allow::Up(n)) => Allow::Up(n.min(cap)),
            Some(wait) => wait,
            None => Allow::Up(cap),
        }
    }

    /// When the current pause ends (in the past when there is none).
    pub fn resume_at(&self) -> Millis {
        self.paused_until
    }

    /// The platform answered (confirmed or refused) a call sent in `epoch`:
    /// full speed again, unless the call left before the last pause.
    pub fn answered(&mut self, epoch: u64) {
        if epoch == self.epoch {
            self.probing = false;
        }
    }

    /// A 429 or a transient failure: nothing new goes out before `until`,
    /// then one at a time until a call sent after it is answered.
    pub fn pause(&mut self, until: Millis) {
        self.paused_until = self.paused_until.max(until);
        self.probing = true;
        self.epoch += 1;
    }
}

/// What the budget alone allows, for a pipeline of `max`.
fn budget_cap(b: &RateBudget, now: Millis, max: usize) -> Allow {
    let reset_at = b.reset.map(|s| s.saturating_mul(1000));
    if reset_at.is_some_and(|at| at <= now) {
        // A new window began: the whole limit is there again (a limit of 0
        // says nothing).
        return Allow::Up(max.min(b.limit as usize).max(1));
    }
    let remaining = b.remaining as usize;
    if remaining == 0 {
        // Without a reset time, one request learns the wait (a 429 and its
        // `Retry-After`).
        return reset_at.map_or(Allow::Up(1), Allow::At);
    }
    let low = (b.limit as usize / 10).max(max);
    let cap = if remaining >= low {
        max
    } else {
        (max * remaining).div_ceil(low)
    };
    Allow::Up(cap.clamp(1, remaining))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: u32, remaining: u32, reset_s: Option<i64>) -> Option<RateBudget> {
        Some(RateBudget {
            limit,
            remaining,
            reset: reset_s,
        })
    }

    #[test]
    fn without_a_budget_the_configured_number_flies() {
        assert_eq!(Pace::new(8).allow(0, None), Allow::Up(8));
        assert_eq!(Pace::new(0).allow(0, None), Allow::Up(1));
    }

    #[test]
    fn a_low_budget_means_fewer_in_flight_and_none_left_waits_for_the_reset() {
        let p = Pace::new(8);
        // Enterprise, 5,000 a minute; the window resets at 60 s.
        let at = |remaining| p.allow(1_000, budget(5_000, remaining, Some(60)));
        assert_eq!(at(4_000), Allow::Up(8));
        assert_eq!(at(500), Allow::Up(8));
        assert_eq!(at(250), Allow::Up(4));
        assert_eq!(at(60), Allow::Up(1));
        assert_eq!(at(0), Allow::At(60_000));
        // Free, 60 a minute: a tenth is less than the pipeline, so it
        // shrinks with what remains and never sends more than that.
        let free = |remaining| p.allow(1_000, budget(60, remaining, Some(60)));
        assert_eq!(free(40), Allow::Up(8));
        assert_eq!(free(4), Allow::Up(4));
        assert_eq!(free(1), Allow::Up(1));
        // The window has reset since: the old figures no longer count, but
        // a fresh window of a tiny limit is not overrun either.
        assert_eq!(p.allow(60_000, budget(5_000, 0, Some(60))), Allow::Up(8));
        assert_eq!(p.allow(60_000, budget(5, 0, Some(60))), Allow::Up(5));
        assert_eq!(p.allow(60_000, budget(0, 0, Some(60))), Allow::Up(1));
        // No reset time: one request finds out how long to wait.
        assert_eq!(p.allow(1_000, budget(5_000, 0, None)), Allow::Up(1));
    }

    #[test]
    fn a_pause_holds_everything_then_one_probes_until_an_answer() {
        let mut p = Pace::new(8);
        p.pause(5_000);
        // A shorter pause never shortens a longer one.
        p.pause(2_000);
        assert_eq!(p.allow(4_999, None), Allow::At(5_000));
        assert_eq!(p.allow(5_000, None), Allow::Up(1));
        // Even with a healthy budget.
        assert_eq!(p.allow(5_000, budget(5_000, 4_000, Some(60))), Allow::Up(1));
        // An answer to a call sent before the pause proves nothing.
        p.answered(0);
        assert_eq!(p.allow(5_000, None), Allow::Up(1));
        let probe = p.epoch();
        p.answered(probe);
        assert_eq!(p.allow(5_001, None), Allow::Up(8));
    }
}

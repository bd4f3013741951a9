//! How often to poll within the rate-limit budget: a pure function of the
//! policy, the last budget the `X-RateLimit-*` headers reported, the cost of
//! one poll and whether the moderator is active.
//!
//! The cost of a poll, with or without the stream, is the pages of one
//! listing of every state (`limit=100`), plus the requests the previous poll
//! spent confirming questions its listing lacked (one `GET` each, at most
//! five, or a second listing): a poll that had to confirm pushes the next
//! one back by as much, so confirmations come out of the polls' share, not
//! out of the moderator's.
//!
//! Two bounds apply, and the slower wins:
//! - *steady state*: polls use at most `share` of the plan's per-window
//!   limit, so the rest stays free for the moderator's actions, other
//!   moderators on the same organization, resyncs and the stream;
//! - *current window*: a reserve (`reserve_share` of the limit, at least
//!   `reserve_min`) is never spent by polling; what remains above it is spread
//!   evenly until the window resets, and when nothing remains the next poll
//!   waits for the reset.

use std::time::Duration;

/// Tunables of the polling pace.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// Length of a rate-limit window (the document: per minute).
    pub window: Duration,
    /// Limit assumed before any header arrived (the Free plan).
    pub assumed_limit: u32,
    /// Share of the limit that polling may use in steady state.
    pub share: f64,
    /// Share of the limit kept for the moderator in the current window.
    pub reserve_share: f64,
    /// At least this many requests are kept for the moderator.
    pub reserve_min: u32,
    /// Wanted interval while the moderator is active.
    pub active: Duration,
    /// Wanted interval otherwise.
    pub idle: Duration,
    /// Never faster than this.
    pub min: Duration,
    /// Steady polling is never slower than this (waiting for a window reset
    /// can be).
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> PollPolicy {
        PollPolicy {
            window: Duration::from_secs(60),
            assumed_limit: 60,
            share: 0.5,
            reserve_share: 0.25,
            reserve_min: 3,
            active: Duration::from_secs(2),
            idle: Duration::from_secs(5),
            min: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// The budget as the client sees it now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetView {
    pub limit: u32,
    pub remaining: u32,
    /// Time until the window resets; `None` once it has (then `remaining` is
    /// stale and ignored).
    pub reset_in: Option<Duration>,
}

/// The wait before the next poll that costs `cost` requests.
pub fn poll_interval(
    policy: &PollPolicy,
    budget: Option<BudgetView>,
    cost: u32,
    active: bool,
) -> Duration {
    let cost = f64::from(cost.max(1));
    let window = policy.window.as_secs_f64().max(0.001);
    let limit = f64::from(
        budget
            .map(|b| b.limit)
            .filter(|&l| l > 0)
            .unwrap_or(policy.assumed_limit)
            .max(1),
    );
    let share = if policy.share.is_finite() {
        policy.share.clamp(0.01, 1.0)
    } else {
        0.5
    };
    let steady = window * cost / (limit * share).max(1.0);
    let want = if active { policy.active } else { policy.idle }.as_secs_f64();
    let floor = policy.min.as_secs_f64();
    let mut secs = want.max(steady).min(policy.max.as_secs_f64()).max(floor);
    if let Some(b) = budget
        && let Some(reset_in) = b.reset_in
    {
        // A header that claims a reset far away is not believed past 2 windows.
        let reset = reset_in.as_secs_f64().min(2.0 * window);
        let reserve_share = if policy.reserve_share.is_finite() {
            policy.reserve_share.clamp(0.0, 1.0)
        } else {
            0.25
        };
        let reserve = (limit * reserve_share)
            .ceil()
            .max(f64::from(policy.reserve_min));
        let spendable = f64::from(b.remaining) - reserve;
        let margin = (window / 20.0).min(1.0);
        if spendable < cost {
            secs = secs.max(reset + margin);
        } else {
            secs = secs.max(reset * cost / spendable);
        }
    }
    Duration::from_secs_f64(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn free_plan_without_headers_keeps_half_the_budget() {
        let p = PollPolicy::default();
        // 60/min, half for polls: one page every 2 s at most.
        assert_eq!(secs(poll_interval(&p, None, 1, true)), 2.0);
        assert_eq!(secs(poll_interval(&p, None, 1, false)), 5.0);
        // Three pages a poll: every 6 s.
        assert_eq!(secs(poll_interval(&p, None, 3, true)), 6.0);
    }

    #[test]
    fn bigger_plans_poll_at_the_wanted_pace() {
        let p = PollPolicy::default();
        let b = BudgetView {
            limit: 5000,
            remaining: 4990,
            reset_in: Some(Duration::from_secs(30)),
        };
        assert_eq!(secs(poll_interval(&p, Some(b), 1, true)), 2.0);
        assert_eq!(secs(poll_interval(&p, Some(b), 1, false)), 5.0);
    }

    #[test]
    fn low_remaining_spreads_or_waits_for_reset() {
        let p = PollPolicy::default();
        // 25 left, 15 reserved: 10 polls over 40 s → 4 s each.
        let b = BudgetView {
            limit: 60,
            remaining: 25,
            reset_in: Some(Duration::from_secs(40)),
        };
        assert_eq!(secs(poll_interval(&p, Some(b), 1, true)), 4.0);
        // Only the reserve left: wait for the reset (plus a margin).
        let b = BudgetView {
            limit: 60,
            remaining: 15,
            reset_in: Some(Duration::from_secs(10)),
        };
        assert_eq!(secs(poll_interval(&p, Some(b), 1, true)), 11.0);
        // A reset already passed: the stale remaining is ignored.
        let b = BudgetView {
            limit: 60,
            remaining: 0,
            reset_in: None,
        };
        assert_eq!(secs(poll_interval(&p, Some(b), 1, true)), 2.0);
    }

    #[test]
    fn absurd_inputs_stay_bounded() {
        let p = PollPolicy::default();
        let b = BudgetView {
            limit: 0,
            remaining: 0,
            reset_in: Some(Duration::from_secs(1_000_000)),
        };
        assert!(secs(poll_interval(&p, Some(b), 0, true)) <= 121.0 + 1e-9);
        let b = BudgetView {
            limit: u32::MAX,
            remaining: u32::MAX,
            reset_in: Some(Duration::ZERO),
        };
        assert!(secs(poll_interval(&p, Some(b), u32::MAX, false)) <= 60.0 + 1e-9);
        assert!(secs(poll_interval(&p, Some(b), 1, false)) >= 1.0);
    }

    #[test]
    fn streaming_polls_of_every_state_keep_the_wanted_pace_on_enterprise() {
        // While streaming, a poll lists every state: its pages grow with the
        // event, and only a huge one slows the pace below the wanted 2 s.
        let p = PollPolicy::default();
        let b = BudgetView {
            limit: 5000,
            remaining: 4900,
            reset_in: Some(Duration::from_secs(30)),
        };
        for pages in [1, 3, 10, 50] {
            assert_eq!(secs(poll_interval(&p, Some(b), pages, true)), 2.0);
        }
        // 10,000 questions, 100 pages: half of 5,000 a minute is one poll
        // every 2.4 s.
        assert!((secs(poll_interval(&p, Some(b), 100, true)) - 2.4).abs() < 1e-9);
        // A poll that also confirmed five missing questions pays for them
        // with the next wait: 105 requests at the same share.
        assert!((secs(poll_interval(&p, Some(b), 105, true)) - 2.52).abs() < 1e-9);
    }

    /// A fixed-window server (as the document describes) and a client that
    /// polls at `poll_interval` using the headers of its last answer, while a
    /// moderator acts. Returns (requests per window, 429s, polls per window).
    fn simulate(
        limit: u32,
        cost: u32,
        minutes: u64,
        moderator_at: &dyn Fn(u64) -> u32,
    ) -> (Vec<u32>, u32, Vec<u32>) {
        simulate_with_confirmations(limit, cost, minutes, moderator_at, &|_| 0)
    }

    /// [`simulate`] where poll number `n` also spends `confirm(n)` requests
    /// beyond its listing (fetching missing questions by id), and the client
    /// asks for the next wait with the listing's pages plus those, as the
    /// feed does.
    fn simulate_with_confirmations(
        limit: u32,
        cost: u32,
        minutes: u64,
        moderator_at: &dyn Fn(u64) -> u32,
        confirm: &dyn Fn(u32) -> u32,
    ) -> (Vec<u32>, u32, Vec<u32>) {
        let p = PollPolicy::default();
        let window_ms = 60_000u64;
        let mut used = vec![0u32; minutes as usize + 1];
        let mut polls = vec![0u32; minutes as usize + 1];
        let mut too_many = 0;
        // What the client learnt last: (limit, remaining, window end in ms).
        let mut seen: Option<(u32, u32, u64)> = None;
        let mut next_poll = 0u64;
        let mut poll_no = 0u32;
        let mut request =
            |t: u64, used: &mut Vec<u32>, seen: &mut Option<(u32, u32, u64)>| -> bool {
                let w = (t / window_ms) as usize;
                if used[w] >= limit {
                    too_many += 1;
                    return false;
                }
                used[w] += 1;
                *seen = Some((limit, limit - used[w], (w as u64 + 1) * window_ms));
                true
            };
        for t in (0..minutes * window_ms).step_by(100) {
            for _ in 0..moderator_at(t) {
                request(t, &mut used, &mut seen);
            }
            if t >= next_poll {
                let extra = confirm(poll_no);
                poll_no += 1;
                for _ in 0..cost + extra {
                    request(t, &mut used, &mut seen);
                }
                polls[(t / window_ms) as usize] += 1;
                let view = seen.map(|(l, r, end)| BudgetView {
                    limit: l,
                    remaining: r,
                    reset_in: (end > t).then(|| Duration::from_millis(end - t)),
                });
                let active = t < 5 * window_ms;
                next_poll = t + poll_interval(&p, view, cost + extra, active).as_millis() as u64;
            }
        }
        (used, too_many, polls)
    }

    #[test]
    fn free_plan_ten_minutes_never_hits_the_limit() {
        // A moderator acting every 4 s for five minutes (15 requests/min).
        let steady = |t: u64| u32::from(t < 300_000 && t.is_multiple_of(4_000));
        for cost in [1, 3] {
            let (used, too_many, polls) = simulate(60, cost, 10, &steady);
            assert_eq!(too_many, 0, "cost {cost}: {used:?}");
            assert!(used.iter().all(|&u| u <= 60), "{used:?}");
            // The pending queue stays fresh: at least 8 polls a minute.
            assert!(
                polls[..10].iter().all(|&n| n >= 8 / cost),
                "cost {cost}: {polls:?}"
            );
        }
    }

    #[test]
    fn free_plan_moderator_burst_makes_polling_yield() {
        // 40 actions in the first 10 s of every minute, two requests each
        // would be too much for anyone; one request each leaves room.
        let burst = |t: u64| u32::from(t % 60_000 < 10_000 && t.is_multiple_of(250));
        let (used, too_many, polls) = simulate(60, 1, 5, &burst);
        assert_eq!(too_many, 0, "{used:?} {polls:?}");
        assert!(polls[..5].iter().all(|&n| n >= 3), "{polls:?}");
    }

    #[test]
    fn free_plan_confirmations_come_out_of_the_polls_share() {
        // A 150-question event (two pages a poll) where another moderator
        // keeps deleting: every third poll fetches five missing questions by
        // id. A moderator acts every 4 s for five minutes.
        let steady = |t: u64| u32::from(t < 300_000 && t.is_multiple_of(4_000));
        let every_third = |n: u32| if n % 3 == 2 { 5 } else { 0 };
        let (used, too_many, polls) = simulate_with_confirmations(60, 2, 10, &steady, &every_third);
        assert_eq!(too_many, 0, "{used:?} {polls:?}");
        assert!(used.iter().all(|&u| u <= 60), "{used:?}");
        // Polls and confirmations keep to about half the limit once the
        // moderator stops...
        assert!(used[6..10].iter().all(|&u| u <= 32), "{used:?}");
        // ...and the view stays fresh: a poll every 10 s or better.
        assert!(polls[..10].iter().all(|&n| n >= 6), "{polls:?}");
    }
}

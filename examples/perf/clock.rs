//! The measuring thread's own CPU clock (`CLOCK_THREAD_CPUTIME_ID`), so a
//! busy shared machine, where the thread waits for a core, does not inflate
//! the in-process figures. Falls back to the wall clock where the kernel
//! has none.

use nix::time::{ClockId, clock_gettime};
use std::time::{Duration, Instant};

pub enum Clock {
    Cpu,
    Wall(Instant),
}

impl Clock {
    /// Measures the thread that calls [`Clock::now`].
    pub fn new() -> Clock {
        match clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID) {
            Ok(_) => Clock::Cpu,
            Err(_) => Clock::Wall(Instant::now()),
        }
    }

    /// Time so far on this clock.
    pub fn now(&self) -> Duration {
        match self {
            Clock::Cpu => clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
                .map(Duration::from)
                .unwrap_or_default(),
            Clock::Wall(origin) => origin.elapsed(),
        }
    }

    /// For the notes: which time the figures are.
    pub fn kind(&self) -> &'static str {
        match self {
            Clock::Cpu => "CPU time",
            Clock::Wall(_) => "wall time",
        }
    }
}

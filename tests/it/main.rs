//! The integration tests, one module per area, in one binary so the shared
//! support (the platform fakes, the fault proxy, the tmux driver) compiles
//! once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod support;

mod boomstream;
mod browser;
mod cli;
mod cli_people;
mod cli_tools;
mod e2e_demo;
mod e2e_dups;
mod e2e_layout;
mod e2e_people;
mod e2e_postobox;
mod e2e_show;
mod e2e_streamslive;
mod faults;
mod headless;
mod hostile;
mod outbox;
mod overload;
mod people_conflict;
mod people_import;
mod per_event;
mod pick_event;
mod pipeline;
mod postobox;
mod postobox_cli;
mod postobox_session;
mod render;
mod rules;
mod secrets;
mod show;
mod store_lock;
mod streamboxy;
mod streamslive;
mod streamslive_cli;
mod streamslive_reliable;
mod triage;
mod wire_fuzz;

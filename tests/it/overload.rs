//! Bounded under overload: a demo audience far faster than the core can
//! take is held back by the core (it makes only what fits in the loop's
//! queue), and the headless loop ends at its deadline with a summary whose
//! `generated` is exactly what the core holds. On tokio's paused clock: the
//! demo's ticks and the deadline are simulated time, so nothing is timed.

use qadeck::app::KeyMap;
use qadeck::domain::{Moderator, SourceId};
use qadeck::provider::demo::{Demo, Settings};
use qadeck::runtime::{Session, SourceInput, headless};
use qadeck::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// What one look of the demo may make at most (its queue share × chunk).
const PER_TICK: u64 = 4 * 1024;
/// The demo's tick at high rates.
const TICK: Duration = Duration::from_millis(2);

#[tokio::test(start_paused = true)]
async fn a_flood_ends_at_the_deadline_with_an_exact_count() {
    let demo = Arc::new(Demo::new(
        Settings {
            rate: 1e9,
            seed: Some(11),
            ..Settings::default()
        },
        SourceId(0),
    ));
    let generated = demo.generated();
    let input = SourceInput::Built {
        name: "demo".into(),
        event: "demo-live".into(),
        provider: demo,
    };
    let moderator = Moderator {
        identifier: "qadeck-overload-test".into(),
        name: "olga".into(),
    };
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (mut session, inbox) =
        Session::new(vec![input], store, KeyMap::default(), moderator).unwrap();
    session.start(true);
    // The feed starts once the store thread has answered the restore; a
    // paused clock would otherwise run to the deadline while it works.
    session.flush().await;
    let duration = Duration::from_millis(20);
    let opts = headless::Options {
        duration: Some(duration),
        status_lines: false,
        generated: Some(generated),
    };
    let mut out = Vec::new();
    let ended = headless::run_to(session, inbox, opts, &mut out)
        .await
        .unwrap();
    assert_eq!(ended.signal, None);
    let text = String::from_utf8(out).unwrap();
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    let made = summary["generated"].as_u64().unwrap();
    assert_eq!(summary["held"].as_u64(), Some(made), "{summary}");
    // A billion a second asked; only what the core took was made.
    let ticks = (duration.as_millis() / TICK.as_millis()) as u64 + 1;
    assert!(made > 5 && made <= 5 + ticks * PER_TICK, "{summary}");
}

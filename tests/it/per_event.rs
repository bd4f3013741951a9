//! Delivery per event, with the real binary against the PostoBox fake: an
//! action taken on event A is delivered to A (once) the next time qadeck
//! runs on A, is never sent while qadeck runs on B of the same source, is
//! shown as waiting meanwhile, and can be dropped.

use crate::postobox_cli::{Setup, writes_since};
use crate::support::postobox_fake::{DEFAULT, FakeConfig, FakePostobox, Plan, SELECTED};

#[test]
fn an_action_for_event_a_waits_through_a_run_on_b_and_reaches_a_once() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let (a, b) = (fake.add_event("Keynote"), fake.add_event("Panel"));
    let qa = fake.add_question(&a, "for the keynote");
    let qb = fake.add_question(&b, "for the panel");
    let s = Setup::new(&fake, Some(&a));

    // Approved on A while nothing is sent (as with the platform down).
    let run = s.run(&[
        "moderate",
        "--source",
        "keynote",
        "--no-wait",
        &qa,
        "approve",
    ]);
    assert!(run.ok(), "{}", run.explain());
    assert!(
        run.stderr.contains(&format!("on event {a}")),
        "{}",
        run.explain()
    );
    assert!(writes_since(&fake, 0).is_empty());

    // The config now names B: qadeck runs on B and leaves A's action alone.
    s.set_event(&fake, Some(&b));
    let run = s.run(&["watch", "--source", "keynote", "--duration", "2"]);
    assert!(run.ok(), "{}", run.explain());
    assert!(
        writes_since(&fake, 0).is_empty(),
        "sent while on B: {:?}",
        writes_since(&fake, 0)
    );
    let listed = |ev: &str| {
        fake.requests()
            .iter()
            .any(|r| r.path.contains(&format!("/events/{ev}/questions")))
    };
    assert!(listed(&b), "the run on B did not read B");
    // The journal says what waits, for people and for scripts.
    let run = s.run(&["journal"]);
    assert!(run.ok(), "{}", run.explain());
    assert!(
        run.stdout
            .contains(&format!("1 action waiting for event {a} of `keynote`")),
        "{}",
        run.explain()
    );
    let run = s.run(&["journal", "--json"]);
    let waiting: Vec<_> = run
        .json()
        .into_iter()
        .filter(|v| v["type"] == "waiting")
        .collect();
    assert_eq!(waiting.len(), 1, "{}", run.explain());
    assert_eq!(
        (
            &waiting[0]["source"],
            &waiting[0]["event"],
            &waiting[0]["count"]
        ),
        (&"keynote".into(), &a.clone().into(), &1.into())
    );

    // Back on A: delivered there, exactly once.
    s.set_event(&fake, Some(&a));
    let run = s.run(&["watch", "--source", "keynote", "--duration", "2"]);
    assert!(run.ok(), "{}", run.explain());
    let run = s.run(&["watch", "--source", "keynote", "--duration", "1"]);
    assert!(run.ok(), "{}", run.explain());
    assert_eq!(
        writes_since(&fake, 0),
        [format!("PATCH /events/{a}/questions/{qa} → 200")]
    );
    assert_eq!(fake.question(&a, &qa).unwrap().status, SELECTED);
    assert_eq!(fake.question(&b, &qb).unwrap().status, DEFAULT);
    let run = s.run(&["journal"]);
    assert!(
        !run.stdout.contains("waiting for event"),
        "{}",
        run.explain()
    );
}

#[test]
fn actions_waiting_for_an_event_can_be_dropped() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let (a, b) = (fake.add_event("Keynote"), fake.add_event("Panel"));
    let qa = fake.add_question(&a, "for the keynote");
    let s = Setup::new(&fake, Some(&a));
    let run = s.run(&[
        "moderate",
        "--source",
        "keynote",
        "--no-wait",
        &qa,
        "reject",
    ]);
    assert!(run.ok(), "{}", run.explain());
    s.set_event(&fake, Some(&b));
    let run = s.run(&["journal", "--drop-waiting", &a]);
    assert!(run.ok(), "{}", run.explain());
    assert!(
        run.stderr
            .contains(&format!("dropped 1 action waiting for event {a}")),
        "{}",
        run.explain()
    );
    let run = s.run(&["journal"]);
    assert!(run.stdout.contains("dropped"), "{}", run.explain());
    assert!(
        !run.stdout.contains("waiting for event"),
        "{}",
        run.explain()
    );
    // Never sent, even on A.
    s.set_event(&fake, Some(&a));
    let run = s.run(&["watch", "--source", "keynote", "--duration", "1"]);
    assert!(run.ok(), "{}", run.explain());
    assert!(
        writes_since(&fake, 0).is_empty(),
        "{:?}",
        writes_since(&fake, 0)
    );
    assert_eq!(fake.question(&a, &qa).unwrap().status, DEFAULT);
}

use super::client::segments;
use super::settings::parse_base;
use super::*;
use std::time::Duration;
use tokio::time::Instant;

#[test]
fn settings_reject_unknown_keys_and_hide_secret() {
    let s: Settings =
        toml::from_str("tenant = \"t1\"\nclient_id = \"c\"\nclient_secret = \"shh-very-secret\"\n")
            .unwrap();
    assert_eq!(s.base_url, DEFAULT_BASE_URL);
    assert_eq!(s.calls_per_sec, 300);
    assert!(!format!("{s:?}").contains("shh-very-secret"));
    assert!(toml::from_str::<Settings>("tenant = \"t\"\nclient_id = \"c\"\nbogus = 1\n").is_err());
}

#[test]
fn urls_escape_segments() {
    let base = parse_base("http://127.0.0.1:9/").unwrap();
    let u = segments(&base, &["tenant", "a b/c", "Session"]);
    assert_eq!(u.as_str(), "http://127.0.0.1:9/tenant/a%20b%2Fc/Session");
    let base = parse_base("https://api.example/prefix").unwrap();
    assert_eq!(
        segments(&base, &["x"]).as_str(),
        "https://api.example/prefix/x"
    );
}

#[tokio::test(start_paused = true)]
async fn pacer_spaces_calls_and_holds() {
    let p = Pacer::new(100);
    let t0 = Instant::now();
    for _ in 0..11 {
        p.wait().await;
    }
    // Ten intervals of 10.5 ms, no more (the clock is tokio's, paused).
    let spent = t0.elapsed();
    assert!(spent >= Duration::from_millis(105), "{spent:?}");
    assert!(spent < Duration::from_millis(116), "{spent:?}");
    p.hold(Duration::from_millis(200));
    let t1 = Instant::now();
    p.wait().await;
    let held = t1.elapsed();
    assert!(held >= Duration::from_millis(200), "{held:?}");
    assert!(held < Duration::from_millis(211), "{held:?}");
}

#[tokio::test(start_paused = true)]
async fn a_hold_also_stops_calls_already_waiting_for_their_slot() {
    let p = std::sync::Arc::new(Pacer::new(10));
    let t0 = Instant::now();
    // Four calls in flight at once take slots 0, 105, 210 and 315 ms out.
    let waiting: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move {
                p.wait().await;
                t0.elapsed()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The first call met a 429: nobody goes for a second.
    p.hold(Duration::from_secs(1));
    let mut went = Vec::new();
    for w in waiting {
        went.push(w.await.unwrap());
    }
    went.sort();
    assert!(went[0] < Duration::from_millis(50), "{went:?}");
    for at in &went[1..] {
        assert!(*at >= Duration::from_millis(1050), "{went:?}");
    }
    // ...and after the hold they are still spaced.
    assert!(went[3] - went[1] >= Duration::from_millis(210), "{went:?}");
}

#[test]
fn one_pacer_per_tenant_at_the_strictest_rate() {
    let a = Pacer::shared("http://x/|tenant-pace", 200);
    let b = Pacer::shared("http://x/|tenant-pace", 50);
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert_eq!(a.interval(), Duration::from_secs_f64(1.05 / 50.0));
    // A laxer source later does not speed it up.
    let c = Pacer::shared("http://x/|tenant-pace", 1000);
    assert_eq!(c.interval(), Duration::from_secs_f64(1.05 / 50.0));
    // Above the documented 300 a second, the document wins.
    let d = Pacer::shared("http://x/|tenant-other", 5000);
    assert_eq!(d.interval(), Duration::from_secs_f64(1.05 / 300.0));
}

//! The overlay page in a real browser (headless Chromium through
//! WebDriver): it shows the on-air text after `POST /next` with no reload,
//! and hostile text shows literally. The screenshot is kept under
//! `target/test-artifacts/` (not committed).

use crate::support::show_loop::{FakeLoop, item};
use crate::support::webdriver::Browser;
use qadeck::show::ShowConfig;
use std::time::{Duration, Instant};

const HOSTILE: &str = "<script>document.title='pwned'</script><img src=x onerror=alert(1)> Why?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlay_shows_the_on_air_text_without_a_reload() {
    let cfg = ShowConfig {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        token: Some("tok".into()),
        token_env: "QADECK_SHOW_TOKEN".into(),
        on_air_file: None,
    };
    let fake = FakeLoop::start(
        &cfg,
        vec![item("q1", HOSTILE), item("q2", "Second question")],
    );
    let browser = Browser::start().await;
    browser
        .goto(&format!(
            "{}/overlay?theme=dark&size=40&position=bottom",
            fake.url()
        ))
        .await;
    // Marks this page load: a reload would lose it.
    browser.eval("window.__loaded = 'once'; return true;").await;
    let connected = poll(&browser, "return document.body.dataset.live;", |v| {
        v == "yes"
    })
    .await;
    assert!(connected, "the overlay follows /events");

    let http = reqwest::Client::new();
    let started = Instant::now();
    let r = http
        .post(format!("{}/next", fake.url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shown = poll(
        &browser,
        "return document.getElementById('text').textContent;",
        |v| v.as_str() == Some(HOSTILE),
    )
    .await;
    let latency = started.elapsed();
    eprintln!("overlay showed the on-air text {latency:?} after POST /next");
    assert!(shown, "the overlay shows the hostile text literally");
    let state = browser
        .eval("return [window.__loaded, document.title, document.querySelectorAll('script,img').length, document.getElementById('card').className];")
        .await;
    assert_eq!(state[0], "once", "no reload");
    assert_eq!(state[1], "qadeck overlay", "no injected script ran");
    assert_eq!(state[2], 1, "no element made from the text: {state}");
    assert_eq!(state[3], "on");
    // The picture once the animation has finished.
    let opaque = poll(
        &browser,
        "return getComputedStyle(document.getElementById('card')).opacity;",
        |v| v == "1",
    )
    .await;
    assert!(opaque, "the card animated in");
    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("overlay.png"), &png).unwrap();

    // Clearing takes it off (the card animates out).
    http.post(format!("{}/clear", fake.url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    let off = poll(
        &browser,
        "return document.getElementById('card').className;",
        |v| v == "",
    )
    .await;
    assert!(off, "the card left");
}

/// Polls a script's answer until `ok` holds, for a few seconds.
async fn poll(browser: &Browser, script: &str, ok: impl Fn(&serde_json::Value) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ok(&browser.eval(script).await) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

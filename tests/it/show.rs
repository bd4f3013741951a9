//! The show server's endpoints against a stand-in for the event loop: reads,
//! SSE (a client that never reads), control
//! calls with and without the token, bad input.

use crate::support::show_loop::{FakeLoop, item};
use qadeck::domain::OnAir;
use qadeck::show::ShowConfig;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "s3cret-token";

fn config(token: Option<&str>) -> ShowConfig {
    ShowConfig {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        token: token.map(str::to_string),
        token_env: "QADECK_SHOW_TOKEN".into(),
        on_air_file: None,
    }
}

#[tokio::test]
async fn reads_and_control_calls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("on-air.txt");
    let mut cfg = config(Some(TOKEN));
    cfg.on_air_file = Some(file.clone());
    let fake = FakeLoop::start(&cfg, vec![item("q1", "First?"), item("q2", "Second?")]);
    let url = fake.url();
    let http = reqwest::Client::new();

    let json: serde_json::Value = http
        .get(format!("{url}/on-air.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["on_air"], serde_json::Value::Null);
    assert_eq!(json["queue_length"], 2);
    assert_eq!(json["next"]["id"], "q1");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "");

    let r = http
        .post(format!("{url}/next"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after: OnAir = r.json().await.unwrap();
    assert_eq!(after.on_air.as_ref().unwrap().text, "First?");
    assert!(after.on_air.as_ref().unwrap().since.is_some());
    let txt = http
        .get(format!("{url}/on-air.txt"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(txt, "First?");
    assert!(
        crate::support::wait_until_async(Duration::from_secs(10), || {
            std::fs::read_to_string(&file).is_ok_and(|t| t == "First?")
        })
        .await
    );

    let r = http
        .post(format!("{url}/air/demo/q2"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<OnAir>().await.unwrap().on_air.unwrap().id, "q2");

    let r = http
        .post(format!("{url}/clear"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<OnAir>().await.unwrap().on_air, None);
    let txt = http
        .get(format!("{url}/on-air.txt"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(txt, "");

    for path in ["/overlay", "/stage"] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains("textContent") && !html.contains("innerHTML"),
            "{path}"
        );
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "{path} is self-contained"
        );
    }
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_401_and_changes_nothing() {
    let fake = FakeLoop::start(&config(Some(TOKEN)), vec![item("q1", "First?")]);
    let url = fake.url();
    let http = reqwest::Client::new();
    for req in [
        http.post(format!("{url}/next")),
        http.post(format!("{url}/next")).bearer_auth("wrong"),
        http.post(format!("{url}/clear"))
            .header("Authorization", TOKEN),
        http.post(format!("{url}/air/demo/q1"))
            .bearer_auth(format!("{TOKEN}x")),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("token"));
    }
    assert_eq!(fake.requests(), 0, "nothing reached the loop");
    let json: OnAir = http
        .get(format!("{url}/on-air.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json.on_air, None);
}

#[tokio::test]
async fn without_a_token_control_is_403_and_reads_stay_open() {
    let fake = FakeLoop::start(&config(None), vec![item("q1", "First?")]);
    let url = fake.url();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url}/next"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("QADECK_SHOW_TOKEN"),
        "{body}"
    );
    assert_eq!(
        http.get(format!("{url}/on-air.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn off_loopback_reads_need_the_token_and_no_token_refuses_to_start() {
    let mut cfg = config(None);
    cfg.listen = Some("0.0.0.0:0".parse().unwrap());
    let (_tx, rx) = tokio::sync::watch::channel(OnAir::default());
    let (ctl, _ctl_rx) = tokio::sync::mpsc::channel(1);
    let err = qadeck::show::start(&cfg, rx, ctl).err().expect("refused");
    assert!(err.to_string().contains("QADECK_SHOW_TOKEN"), "{err}");

    cfg.token = Some(TOKEN.into());
    let fake = FakeLoop::start(&cfg, vec![item("q1", "First?")]);
    let url = format!("http://127.0.0.1:{}", fake.addr.port());
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{url}/on-air.json"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let ok = http
        .get(format!("{url}/on-air.json"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ok = http
        .get(format!("{url}/overlay?token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let fake = FakeLoop::start(&config(Some(TOKEN)), vec![item("q1", "First?")]);
    let url = fake.url();
    let http = reqwest::Client::new();
    let cases = [
        (http.get(format!("{url}/nope")), 404),
        (http.get(format!("{url}/next")), 405),
        (http.post(format!("{url}/on-air.json")), 405),
        (
            http.post(format!("{url}/air/demo/unknown"))
                .bearer_auth(TOKEN),
            404,
        ),
        (
            http.post(format!("{url}/air/nosuch/q1")).bearer_auth(TOKEN),
            404,
        ),
        (
            http.post(format!("{url}/air/demo/{}", "x".repeat(600)))
                .bearer_auth(TOKEN),
            400,
        ),
        (
            http.post(format!("{url}/air/demo/%20")).bearer_auth(TOKEN),
            400,
        ),
        (http.post(format!("{url}/answered")).bearer_auth(TOKEN), 409),
    ];
    for (req, status) in cases {
        let r = req.send().await.unwrap();
        let what = r.url().to_string();
        assert_eq!(r.status(), status, "{what}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("json"),
            "{what}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"].is_string(), "{what}: {body}");
    }
}

/// Reads raw bytes from an SSE response until `want` shows up.
async fn read_until(stream: &mut tokio::net::TcpStream, want: &str) -> String {
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(want) {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream closed before {want:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

async fn open_events(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    s
}

#[tokio::test]
async fn events_send_the_state_then_every_change() {
    let fake = FakeLoop::start(
        &config(Some(TOKEN)),
        vec![item("q1", "Hostile <script>alert(1)</script> & co")],
    );
    let mut s = open_events(fake.addr).await;
    let first = read_until(&mut s, "\n\n").await;
    assert!(
        first.contains("event: on_air") && first.contains("\"on_air\":null"),
        "{first}"
    );
    let r = reqwest::Client::new()
        .post(format!("{}/next", fake.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = read_until(&mut s, "alert(1)").await;
    assert!(
        seen.contains("\\u003cscript\\u003e"),
        "markup characters escaped: {seen}"
    );
    assert!(!seen.contains("<script>"), "{seen}");
}

/// A quiet stream still sends a comment every 15 s, so proxies and the
/// overlay's EventSource keep the connection; on tokio's paused clock.
#[tokio::test(start_paused = true)]
async fn a_quiet_stream_sends_a_heartbeat_every_15_s() {
    let fake = FakeLoop::start(&config(Some(TOKEN)), vec![item("q1", "first")]);
    let mut s = open_events(fake.addr).await;
    read_until(&mut s, "\n\n").await;
    for n in 1..=2 {
        let since = tokio::time::Instant::now();
        let mut seen = String::new();
        // The bytes come chunked: read on until the comment shows up.
        while !seen.contains(": heartbeat\n") {
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "no heartbeat: {seen}"
            );
            seen.push_str(&read_until(&mut s, "\n").await);
        }
        let waited = since.elapsed();
        assert!(
            (Duration::from_secs(14)..=Duration::from_secs(16)).contains(&waited),
            "heartbeat {n} after {waited:?}: {seen}"
        );
        assert!(!seen.contains("event: on_air"), "nothing changed: {seen}");
    }
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_anything_up() {
    let texts: Vec<_> = (0..400)
        .map(|i| {
            item(
                &format!("q{i}"),
                &format!("{i} {}", "long question text ".repeat(500)),
            )
        })
        .collect();
    let fake = FakeLoop::start(&config(Some(TOKEN)), texts);
    // Several clients that open the stream and never read a byte.
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(open_events(fake.addr).await);
    }
    let http = reqwest::Client::new();
    for i in 0..400 {
        let r = http
            .post(format!("{}/next", fake.url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "call {i}");
    }
    let json: OnAir = http
        .get(format!("{}/on-air.json", fake.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json.on_air.unwrap().id, "q399");
    // A reader that comes back gets to the newest state (what it reads
    // first is what the kernel's socket buffers held).
    let mut late = idle.pop().unwrap();
    read_until(&mut late, "q399").await;
}

//! The live show end to end: `qadeck demo --show` in tmux, the show server
//! read and driven over HTTP while keys are pressed in the TUI.

use crate::support::tmux::{Tmux, count};
use qadeck::domain::OnAir;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);
const TOKEN: &str = "e2e-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn state(http: &reqwest::Client, url: &str) -> OnAir {
    http.get(format!("{url}/on-air.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `/on-air.json` until `ok` holds; returns it and how long it took.
async fn wait_state(
    http: &reqwest::Client,
    url: &str,
    ok: impl Fn(&OnAir) -> bool,
) -> (OnAir, Duration) {
    let start = Instant::now();
    loop {
        let s = state(http, url).await;
        if ok(&s) {
            return (s, start.elapsed());
        }
        assert!(start.elapsed() < T, "state never came: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The SSE stream, collected in the background.
fn follow_events(url: &str) -> std::sync::Arc<std::sync::Mutex<String>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let out = seen.clone();
    let url = format!("{url}/events");
    tokio::spawn(async move {
        let mut r = reqwest::get(url).await.unwrap();
        while let Ok(Some(chunk)) = r.chunk().await {
            out.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_in_the_tui_and_post_next_drive_every_output() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("on-air.txt");
    let args = format!(
        "demo --seed 7 --rate 4 --fail-rate 0 --show 127.0.0.1:{port} --show-file {}",
        file.display()
    );
    let t = Tmux::start(&args, 80, 24, &[("QADECK_SHOW_TOKEN", TOKEN)]);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    t.wait_for("questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 3)
    });
    for n in 1..=3 {
        t.keys(&["a"]);
        t.wait_for("an approval", T, |s| count(s, "Selected") == Some(n));
    }
    let (s, _) = wait_state(&http, &url, |s| s.queue_length == 3).await;
    assert_eq!(s.on_air, None);
    let first = s.next.clone().unwrap();
    let events = follow_events(&url);

    // No token: 401, nothing changes.
    let r = http.post(format!("{url}/next")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(state(&http, &url).await.on_air, None);

    // POST /next: the top selected question on all four outputs.
    let r = http
        .post(format!("{url}/next"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: OnAir = r.json().await.unwrap();
    let aired = answer.on_air.clone().unwrap();
    assert_eq!(aired.id, first.id);
    let txt = http
        .get(format!("{url}/on-air.txt"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(txt, aired.text);
    assert!(crate::support::wait_until(T, || std::fs::read_to_string(
        &file
    )
    .is_ok_and(|f| f == aired.text)));
    let id_json = format!("\"id\":\"{}\"", aired.id);
    assert!(crate::support::wait_until(T, || events
        .lock()
        .unwrap()
        .contains(&id_json)));
    t.wait_text("ON AIR", T);

    // The moderator's order: the third selected question moves to the top
    // of the waiting ones, and the show's `next` follows.
    let second = answer.next.clone().unwrap().id;
    t.keys(&["Tab"]);
    t.keys(&["G"]);
    t.keys(&["+"]);
    let (s, _) = wait_state(&http, &url, |s| {
        s.next
            .as_ref()
            .is_some_and(|n| n.id != second && n.id != first.id)
    })
    .await;
    assert_eq!(s.queue_length, 2);
    let third = s.next.unwrap().id;

    // n in the TUI: on /on-air.json and the SSE stream promptly.
    let pressed = Instant::now();
    t.keys(&["n"]);
    let (s, _) = wait_state(&http, &url, |s| {
        s.on_air.as_ref().is_some_and(|q| q.id == third)
    })
    .await;
    let json_latency = pressed.elapsed();
    let id_json = format!(
        "\"on_air\":{{\"source\":\"{}\",\"id\":\"{third}\"",
        s.on_air.as_ref().unwrap().source
    );
    assert!(crate::support::wait_until(T, || events
        .lock()
        .unwrap()
        .contains(&id_json)));
    let sse_latency = pressed.elapsed();
    eprintln!("n → /on-air.json {json_latency:?}, → SSE {sse_latency:?}");

    // The stage view: S shows it, Esc returns.
    t.keys(&["S"]);
    t.wait_text("returns", T);
    t.wait_text("next:", T);
    t.keys(&["Escape"]);
    t.wait_for("the console again", T, |s| count(s, "Selected").is_some());

    // POST /clear empties all four.
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
    assert!(crate::support::wait_until(T, || std::fs::read_to_string(
        &file
    )
    .is_ok_and(|f| f.is_empty())));
    assert!(crate::support::wait_until(T, || {
        let seen = events.lock().unwrap();
        seen.rfind("{\"on_air\":null") > seen.rfind("{\"on_air\":{")
    }));
}

/// `qadeck stage --url` beside a console: it shows what the console puts on
/// air, says when the console is gone, and follows it again once it is back
/// on the same address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_monitor_follows_the_console_through_its_restart() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let console_args = format!("demo --seed 7 --rate 4 --fail-rate 0 --show 127.0.0.1:{port}");
    let env = [("QADECK_SHOW_TOKEN", TOKEN)];
    let console = Tmux::start(&console_args, 80, 24, &env);
    let http = reqwest::Client::new();
    console.wait_for("questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 2)
    });
    for n in 1..=2 {
        console.keys(&["a"]);
        console.wait_for("an approval", T, |s| count(s, "Selected") == Some(n));
    }
    let stage = Tmux::start(&format!("stage --url {url}"), 80, 24, &[]);
    stage.wait_text("nothing on air", T);
    stage.wait_text("following", T);

    console.keys(&["n"]);
    let (s, _) = wait_state(&http, &url, |s| s.on_air.is_some()).await;
    let aired = s.on_air.unwrap();
    let next = s.next.expect("two were selected");
    let first_word = next.text.split_whitespace().next().unwrap().to_string();
    let screen = stage.wait_for("the aired question", T, |s| {
        s.contains("ON AIR") && s.contains(&format!("next: {first_word}"))
    });
    if let Some(author) = &aired.author {
        assert!(screen.contains(&format!("— {author}")), "{screen}");
    }

    // The console goes away: the monitor says so and keeps the last state.
    let dir = console.into_dir();
    let screen = stage.wait_text("retrying", T);
    assert!(screen.contains("ON AIR"), "{screen}");
    assert!(screen.contains(&format!("next: {first_word}")), "{screen}");

    // Back on the same address (the demo's audience starts afresh, so
    // nothing is on air): followed again, and what it airs is shown.
    let console = Tmux::start_in(dir, &console_args, 80, 24, &env);
    console.wait_for("questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 1)
    });
    stage.wait_for("the console again", Duration::from_secs(30), |s| {
        s.contains("following") && s.contains("nothing on air")
    });
    console.keys(&["a"]);
    console.wait_for("an approval", T, |s| count(s, "Selected") == Some(1));
    console.keys(&["n"]);
    stage.wait_for("the new on-air question", T, |s| {
        s.contains("ON AIR") && s.contains("next: —")
    });
    stage.keys(&["q"]);
    assert!(crate::support::wait_until(T, || stage.dead()), "q leaves");
}

//! `qadeck demo --headless`: the NDJSON machine format end to end.

use std::process::{Command, Stdio};
use std::time::Duration;

fn qadeck() -> Command {
    let dir = std::env::temp_dir().join(format!("qadeck-headless-{}", std::process::id()));
    let mut c = Command::new(env!("CARGO_BIN_EXE_qadeck"));
    c.env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"));
    c
}

fn lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(out.to_vec())
        .expect("NDJSON is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn nothing_is_lost_at_a_thousand_a_second() {
    let out = qadeck()
        .args([
            "demo",
            "--headless",
            "--rate",
            "1000",
            "--duration",
            "3",
            "--seed",
            "4",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = lines(&out.stdout);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    let generated = summary["generated"].as_u64().unwrap();
    assert!(generated > 2000, "{summary}");
    assert_eq!(summary["held"].as_u64(), Some(generated), "{summary}");
    assert_eq!(summary["by_status"]["pending"].as_u64(), Some(generated));
    let questions: std::collections::HashSet<&str> = lines
        .iter()
        .filter(|l| l["type"] == "question")
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        questions.len() as u64,
        generated,
        "one line per new question at least"
    );
    for l in &lines[..lines.len() - 1] {
        for f in [
            "source", "id", "status", "on_air", "votes", "author", "text",
        ] {
            assert!(l.get(f).is_some(), "missing {f} in {l}");
        }
    }
}

#[test]
fn hostile_text_is_sanitized_in_ndjson() {
    let out = qadeck()
        .args([
            "demo",
            "--headless",
            "--hostile",
            "--rate",
            "200",
            "--duration",
            "2",
            "--seed",
            "9",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut saw_placeholder = false;
    for l in lines(&out.stdout) {
        if let Some(t) = l["text"].as_str() {
            assert!(qadeck::text::is_terminal_safe(t), "unsafe text {t:?}");
            saw_placeholder |= t.contains('␛');
        }
    }
    assert!(
        saw_placeholder,
        "the hostile demo produced no escape at all"
    );
}

#[test]
fn sigterm_ends_with_a_summary() {
    let child = qadeck()
        .args(["demo", "--headless", "--rate", "50"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let lines = lines(&out.stdout);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["held"], summary["generated"]);
}

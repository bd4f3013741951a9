//! The real binary in tmux against in-process fakes of STREAMBOXY and
//! Boomstream: invite through the form, promote, remove (confirmed), a
//! stale-version conflict retried with the key, and the Boomstream API key
//! kept off the screen, the terminal output and the log.

use crate::support::boomstream_fake::{self, BoomstreamFake};
use crate::support::streamboxy_fake::{self, StreamboxyFake};
use crate::support::tmux::Tmux;
use crate::support::wait_until;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// A runtime on its own threads for the fakes, so the test thread can drive
/// tmux with blocking calls.
fn background() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Writes `<dir>/config/qadeck/config.toml` (where the tmux driver points
/// XDG_CONFIG_HOME), readable by the owner only.
fn write_config(dir: &Path, text: &str) {
    let conf = dir.join("config").join("qadeck");
    std::fs::create_dir_all(&conf).unwrap();
    let file = conf.join("config.toml");
    std::fs::write(&file, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Waits until `pred` holds for the fake's state; panics with `what`.
fn eventually(what: &str, t: &Tmux, pred: impl Fn() -> bool) {
    assert!(
        wait_until(T, pred),
        "timed out waiting for {what}; screen:\n{}",
        t.screen()
    );
}

fn quit(t: &Tmux) {
    t.keys(&["q"]);
    std::thread::sleep(Duration::from_millis(300));
    if !t.dead() {
        t.keys(&["y"]);
    }
    t.wait_for("exit", T, |_| t.dead());
}

#[test]
fn streamboxy_invite_promote_remove_and_a_conflict_in_the_tui() {
    let rt = background();
    let fake = rt.block_on(StreamboxyFake::start(streamboxy_fake::Config {
        client_secret: "sbx-e2e-secret-41".into(),
        ..Default::default()
    }));
    let session = fake.add_session("Workshop");
    let grace = fake.add_user(&session, "Grace Hopper", "grace@example.com", "Participant");
    let cfg = fake.config();
    let dir = tempfile::tempdir().unwrap();
    // A slow poll: what qadeck shows stays as it loaded it, so a change made
    // elsewhere leaves it with a stale rowVersion.
    write_config(
        dir.path(),
        &format!(
            "[moderator]\nname = \"e2e\"\n\n[[source]]\nprovider = \"streamboxy\"\nname = \"sbx\"\n\
             tenant = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"QADECK_E2E_SBX\"\n\
             event = \"{session}\"\nbase_url = \"{}\"\npoll_ms = 60000\n",
            cfg.tenant, cfg.client_id, fake.base_url
        ),
    );
    let t = Tmux::start_in(dir, "", 120, 40, &[("QADECK_E2E_SBX", &cfg.client_secret)]);
    let s = t.wait_text("Grace Hopper", T);
    assert!(s.contains("People (1)"), "{s}");
    assert!(s.contains("c invite"), "the key bar speaks people: {s}");

    // Invite through the form: name, e-mail, nothing else.
    t.keys(&["c"]);
    t.wait_text("invite to sbx", T);
    t.keys(&["Enter"]);
    t.wait_text("a name is required", T);
    t.text("Ada Lovelace");
    t.keys(&["Tab"]);
    t.text("ada@example");
    t.keys(&["Enter"]);
    t.wait_text("is not an e-mail address", T);
    t.text(".com");
    t.keys(&["Enter"]);
    let s = t.wait_text("invited Ada Lovelace", T);
    assert!(s.contains("People (2)"), "{s}");
    let ada = fake
        .users(&session)
        .into_iter()
        .find(|u| u.email.as_deref() == Some("ada@example.com"))
        .expect("Ada is on the platform");
    assert_eq!(
        (ada.name.as_str(), ada.role.as_str()),
        ("Ada Lovelace", "Participant")
    );
    assert!(!ada.send_mail && !ada.one_time);
    // Her link, alone on a line, ready to be selected.
    t.keys(&["Enter"]);
    let s = t.wait_text("invitation link of Ada Lovelace", T);
    assert!(
        s.lines().any(|l| l.trim() == ada.link),
        "the link alone on its line:\n{s}"
    );
    t.keys(&["x"]);
    t.wait_for("the link closed", T, |s| !s.contains("invitation link of"));

    // Search narrows the list; the cursor is on her.
    t.keys(&["/"]);
    t.text("lovelace");
    t.keys(&["Enter"]);
    t.wait_text("People (1 of 2) /lovelace", T);

    // Promote.
    t.keys(&["m"]);
    t.wait_text("Ada Lovelace is now moderator", T);
    eventually("Ada promoted on the platform", &t, || {
        fake.user(&ada.id).is_some_and(|u| u.role == "Moderator")
    });
    let s = t.screen();
    assert!(s.contains("mod Ada Lovelace"), "{s}");

    // Remove: asks first; n keeps her, y removes her.
    t.keys(&["D"]);
    t.wait_text("remove participant?", T);
    t.keys(&["n"]);
    t.wait_for("the question closed", T, |s| {
        !s.contains("remove participant?")
    });
    assert!(fake.user(&ada.id).is_some());
    t.keys(&["D"]);
    t.wait_text("Ada Lovelace <ada@example.com>", T);
    t.keys(&["y"]);
    t.wait_text("removed Ada Lovelace", T);
    eventually("Ada removed on the platform", &t, || {
        fake.user(&ada.id).is_none()
    });
    t.keys(&["/"]);
    t.keys(&["Escape"]);
    let s = t.wait_text("People (1)", T);
    // In the list (the key bar's toast may still name her).
    let list: Vec<&str> = s.lines().filter(|l| !l.contains("? help")).collect();
    assert!(!list.join("\n").contains("Ada Lovelace  "), "{s}");

    // Someone else renames Grace: qadeck still holds her old rowVersion.
    fake.edit_user(&grace.id, Some("Grace B. Hopper"), None);
    t.keys(&["m"]);
    let s = t.wait_text("changed meanwhile", T);
    assert!(s.contains("promote Grace Hopper refused"), "{s}");
    // The reload shows what changed; nothing was overwritten.
    t.wait_text("Grace B. Hopper", T);
    let u = fake.user(&grace.id).unwrap();
    assert_eq!(
        (u.name.as_str(), u.role.as_str()),
        ("Grace B. Hopper", "Participant")
    );
    assert_eq!(fake.counters().conflicts, 1);
    // The same key retries on the fresh version, keeping the rename.
    t.keys(&["m"]);
    t.wait_text("Grace B. Hopper is now moderator", T);
    let u = fake.user(&grace.id).unwrap();
    assert_eq!(
        (u.name.as_str(), u.role.as_str()),
        ("Grace B. Hopper", "Moderator")
    );
    assert_eq!(fake.counters().conflicts, 1);
    quit(&t);
}

#[test]
fn boomstream_api_key_never_on_screen_in_terminal_output_or_log() {
    const KEY: &str = "bk9e2e7f3a9c2d51e04b6a0c7d";
    const WRONG: &str = "bkWRONG44c1f0a9b8e7d6c5b4a";
    let rt = background();
    // The wrong key is answered 403: qadeck classifies by status, not words.
    let fake = rt.block_on(BoomstreamFake::start(boomstream_fake::Config {
        api_key: KEY.into(),
        wrong_key_status: 403,
        ..Default::default()
    }));
    let conf = fake.add_conference("Town hall");
    fake.add_client(&conf, "Grace Hopper", "grace@example.com", false);
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            "[[source]]\nprovider = \"boomstream\"\nname = \"boom\"\napi_key_env = \"QADECK_E2E_BOOM\"\n\
             event = \"{conf}\"\nbase_url = \"{base}\"\npoll_ms = 500\n\n\
             [[source]]\nprovider = \"boomstream\"\nname = \"boom-wrong\"\napi_key = \"{WRONG}\"\n\
             event = \"{conf}\"\nbase_url = \"{base}\"\npoll_ms = 500\n",
            base = fake.base_url
        ),
    );
    let t = Tmux::start_in(dir, "", 120, 40, &[("QADECK_E2E_BOOM", KEY)]);
    let out = t.record_output();
    let mut screens = Vec::new();
    // The wrong key fails with the platform's words (the fake echoes the
    // request URI, key included, in its answer): in the status bar, and in
    // full in the source info.
    screens.push(t.wait_text("boom-wrong failed: authentication failed", T));
    screens.push(t.wait_text("Grace Hopper", T));
    t.keys(&["i"]);
    screens.push(t.wait_text("Invalid apikey", T));
    t.keys(&["x"]);
    t.wait_for("info closed", T, |s| !s.contains("Invalid apikey"));
    // Invite with a link lifetime through the form (two sources: the form
    // starts on the one of the participant under the cursor).
    t.keys(&["c"]);
    screens.push(t.wait_text("invite to boom ", T));
    t.text("Ada Lovelace");
    t.keys(&["Tab"]);
    t.text("ada@example.com");
    t.keys(&["Tab", "Tab", "Tab"]);
    screens.push(t.wait_text("▸ link lifetime (minutes)", T));
    t.text("30");
    t.keys(&["Enter"]);
    screens.push(t.wait_text("invited Ada Lovelace", T));
    let ada = fake
        .live_clients(&conf)
        .into_iter()
        .find(|c| c.email == "ada@example.com")
        .expect("invited on the platform");
    assert_eq!(
        ada.timeout.as_deref(),
        Some("1800"),
        "minutes sent as seconds"
    );
    t.keys(&["m"]);
    screens.push(t.wait_text("Ada Lovelace is now moderator", T));
    // Renewal is not a Boomstream thing: said, not sent.
    t.keys(&["L"]);
    screens.push(t.wait_text("cannot renew links", T));
    quit(&t);
    screens.push(t.screen());
    let tty = String::from_utf8_lossy(&std::fs::read(&out).unwrap_or_default()).into_owned();
    // Frames are diffs: a word arrives whole, a phrase may not.
    assert!(tty.contains("apikey"), "the output was recorded");
    let log = std::fs::read_to_string(t.data_dir().join("qadeck/qadeck.log")).unwrap();
    assert!(
        log.contains("boomstream"),
        "debug lines were logged:\n{log}"
    );
    for key in [KEY, WRONG] {
        for s in &screens {
            assert!(!s.contains(key), "key on screen:\n{s}");
        }
        assert!(!tty.contains(key), "key written to the terminal");
        assert!(!log.contains(key), "key in the log:\n{log}");
    }
    assert!(
        fake.counters().wrong_key > 0,
        "the wrong key was really tried"
    );
}

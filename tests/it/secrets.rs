//! A planted secret for every kind of credential — PostoBox API key,
//! streams.live password and personal token, STREAMBOXY client secret,
//! Boomstream API key (which travels in the URL) — read from the
//! environment or from a command, never from the config file. The real
//! binary runs every verb against the fakes, working and failing (wrong
//! keys, servers that echo the key back in errors, a listing that answers
//! 500 with the key in its message), with `QADECK_LOG=trace`. Then its
//! stdout, stderr, log file, journal (both formats) and the store file
//! itself are searched for every secret, plain and URL-encoded.

use crate::support::boomstream_fake::{BoomstreamFake, Config as BsConfig};
use crate::support::child_exit;
use crate::support::postobox_fake::{FakeConfig as PbConfig, FakePostobox};
use crate::support::streamboxy_fake::{Config as SbConfig, StreamboxyFake};
use crate::support::streamslive_fake::{
    EVENT_SLUG, FakeConfig as SlConfig, FakeStreamsLive, Injected,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PB_KEY: &str = "pk_live_PLANTEDpb+key/0001";
const PB_WRONG: &str = "pk_live_PLANTEDwrong+pb/0009";
const SL_PASSWORD: &str = "PLANTED-sl-pass+word/0002";
const SL_TOKEN: &str = "PLANTED-sl-token+0003=x";
const SB_SECRET: &str = "PLANTED-sb-secret+0004/x";
const SB_WRONG: &str = "PLANTED-sb-wrong+0008/y";
const BS_KEY: &str = "PLANTEDbs0005key+abc/d";
const BS_WRONG: &str = "PLANTEDbs0007wrong+e/f";

const ALL: [&str; 8] = [
    PB_KEY,
    PB_WRONG,
    SL_PASSWORD,
    SL_TOKEN,
    SB_SECRET,
    SB_WRONG,
    BS_KEY,
    BS_WRONG,
];

/// Every form a secret could take in output: plain, percent-encoded (both
/// cases), form-encoded, JSON-escaped.
fn forms(secret: &str) -> Vec<String> {
    let mut upper = String::new();
    for b in secret.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            upper.push(b as char);
        } else {
            upper.push_str(&format!("%{b:02X}"));
        }
    }
    let lower = upper
        .split('%')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                format!("%{}{}", part[..2].to_ascii_lowercase(), &part[2..])
            }
        })
        .collect::<String>();
    vec![
        secret.to_string(),
        upper,
        lower,
        secret.replace('/', "\\/"),
        // The distinctive middle alone: a secret cut in half still leaks.
        secret[..secret.len() / 2 + 2].to_string(),
    ]
}

struct Run {
    args: String,
    stdout: String,
    stderr: String,
}

/// Runs qadeck with the test's environment; killed after 40 s at most.
fn qadeck(home: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qadeck"))
        .arg("--config")
        .arg(home.join("config.toml"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("HOME", home)
        .env("QADECK_LOG", "trace")
        .env("QADECK_T_PB_KEY", PB_KEY)
        .env("QADECK_T_PB_WRONG", PB_WRONG)
        .env("QADECK_T_SL_TOKEN", SL_TOKEN)
        .env("QADECK_T_SB_WRONG", SB_WRONG)
        .env("QADECK_T_BS_KEY", BS_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child_exit(&mut child, Duration::from_secs(40));
    let out = child.wait_with_output().unwrap();
    Run {
        args: args.join(" "),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write_secret_file(home: &Path, name: &str, secret: &str) -> PathBuf {
    let path = home.join(name);
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    path
}

#[test]
fn no_secret_reaches_any_output_log_or_journal() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pb = FakePostobox::start_background(PbConfig {
        api_key: PB_KEY.into(),
        ..PbConfig::fast()
    });
    let ev = pb.add_event("Keynote");
    let qs = pb.add_questions(&ev, 3);
    let sl = rt.block_on(FakeStreamsLive::start(SlConfig {
        password: SL_PASSWORD.into(),
        personal_tokens: vec![SL_TOKEN.into()],
        ..SlConfig::default()
    }));
    sl.add_question("Is this thing on?", Some("Ana"));
    let sb = rt.block_on(StreamboxyFake::start(SbConfig {
        client_secret: SB_SECRET.into(),
        ..SbConfig::default()
    }));
    let session = sb.add_session("Panel");
    sb.add_user(&session, "Ana", "ana@example.com", "Participant");
    let bs = rt.block_on(BoomstreamFake::start(BsConfig {
        api_key: BS_KEY.into(),
        ..BsConfig::default()
    }));
    let conf = bs.add_conference("Town hall");
    bs.add_client(&conf, "Ben", "ben@example.com", false);

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // Secrets come from the environment or from a command that reads a
    // file; the config file holds none.
    let sl_pass = write_secret_file(home, "sl-pass", SL_PASSWORD);
    let sb_secret = write_secret_file(home, "sb-secret", SB_SECRET);
    let bs_wrong = write_secret_file(home, "bs-wrong", BS_WRONG);
    let sb_cfg = sb.config();
    let config = format!(
        r#"
[moderator]
name = "Tess"
identifier = "tess-desk"

[[source]]
provider = "postobox"
name = "pb"
event = "{ev}"
api_key_env = "QADECK_T_PB_KEY"
base_url = "{pb_url}"

[[source]]
provider = "postobox"
name = "pb-wrong"
event = "{ev}"
api_key_env = "QADECK_T_PB_WRONG"
base_url = "{pb_url}"

[[source]]
provider = "streamslive"
name = "sl-pass"
base_url = "{sl_url}"
event = "{EVENT_SLUG}"
email = "{sl_email}"
password_cmd = "cat {sl_pass}"
poll_interval_ms = 300

[[source]]
provider = "streamslive"
name = "sl-token"
base_url = "{sl_url}"
event = "{EVENT_SLUG}"
token_env = "QADECK_T_SL_TOKEN"
poll_interval_ms = 300

[[source]]
provider = "streamboxy"
name = "sb"
tenant = "{sb_tenant}"
client_id = "{sb_client}"
client_secret_cmd = "cat {sb_secret}"
event = "{session}"
base_url = "{sb_url}"
poll_ms = 300

[[source]]
provider = "streamboxy"
name = "sb-wrong"
tenant = "{sb_tenant}"
client_id = "{sb_client}"
client_secret_env = "QADECK_T_SB_WRONG"
event = "{session}"
base_url = "{sb_url}"

[[source]]
provider = "boomstream"
name = "bs"
api_key_env = "QADECK_T_BS_KEY"
event = "{conf}"
base_url = "{bs_url}"
poll_ms = 300

[[source]]
provider = "boomstream"
name = "bs-wrong"
api_key_cmd = "cat {bs_wrong}"
event = "{conf}"
base_url = "{bs_url}"
"#,
        pb_url = pb.base_url(),
        sl_url = sl.base_url(),
        sl_email = sl.config().email,
        sl_pass = sl_pass.display(),
        sb_tenant = sb_cfg.tenant,
        sb_client = sb_cfg.client_id,
        sb_secret = sb_secret.display(),
        sb_url = sb.base_url,
        bs_url = bs.base_url,
        bs_wrong = bs_wrong.display(),
    );
    for s in ALL {
        assert!(!config.contains(s), "the config file holds a secret");
    }
    std::fs::write(home.join("config.toml"), &config).unwrap();

    // Servers that echo the credentials back in their errors.
    pb.fail_next(
        "GET /events/{id}/questions",
        500,
        "INTERNAL",
        &format!("upstream rejected key {PB_KEY} (Bearer {PB_KEY})"),
        2,
    );
    pb.fail_next(
        "PATCH /events/{id}/questions/{qid}",
        503,
        "UNAVAILABLE",
        &format!("try later, key={PB_KEY}"),
        1,
    );
    sl.inject(
        "POST questions/read",
        Injected::error(500, 500, "token {token} is not welcome here"),
    );
    sl.inject(
        "POST questions/read",
        Injected::error(401, 401, "Unauthenticated: {token}"),
    );

    let mut runs = vec![
        qadeck(home, &["events", "--source", "pb", "--json"]),
        qadeck(home, &["events", "--source", "pb-wrong"]),
        qadeck(home, &["watch", "--source", "pb", "--duration", "3"]),
        qadeck(home, &["watch", "--source", "pb-wrong", "--duration", "1"]),
        qadeck(
            home,
            &[
                "moderate",
                "--source",
                "pb",
                &qs[0],
                "approve",
                "--timeout",
                "20",
            ],
        ),
        qadeck(home, &["moderate", "--source", "pb", &qs[1], "vote"]),
        qadeck(
            home,
            &[
                "moderate",
                "--source",
                "pb-wrong",
                &qs[2],
                "reject",
                "--timeout",
                "2",
            ],
        ),
        qadeck(home, &["events", "--source", "sl-pass"]),
        qadeck(home, &["watch", "--source", "sl-pass", "--duration", "3"]),
        qadeck(home, &["watch", "--source", "sl-token", "--duration", "2"]),
        qadeck(home, &["events", "--source", "sl-token", "--json"]),
        qadeck(home, &["events", "--source", "sb"]),
        qadeck(home, &["watch", "--source", "sb", "--duration", "2"]),
        qadeck(home, &["events", "--source", "sb-wrong"]),
        qadeck(home, &["watch", "--source", "sb-wrong", "--duration", "1"]),
        qadeck(home, &["events", "--source", "bs", "--json"]),
        qadeck(home, &["watch", "--source", "bs", "--duration", "2"]),
        qadeck(home, &["events", "--source", "bs-wrong"]),
        qadeck(home, &["watch", "--source", "bs-wrong", "--duration", "1"]),
    ];
    runs.push(qadeck(home, &["journal"]));
    runs.push(qadeck(home, &["journal", "--json"]));

    // The runs did real work, with and without failures.
    let by = |a: &str| runs.iter().find(|r| r.args.starts_with(a)).unwrap();
    assert!(by("events --source pb --json").stdout.contains("Keynote"));
    assert!(!by("events --source pb-wrong").stderr.is_empty());
    assert!(by("moderate --source pb").stdout.contains("\"selected\""));
    assert!(by("journal --json").stdout.contains("\"retrying\""));
    assert!(by("events --source bs --json").stdout.contains("Town hall"));
    assert!(by("events --source sb").stdout.contains("Panel"));
    assert!(by("events --source sl-pass").stdout.contains(EVENT_SLUG));
    assert!(!by("events --source bs-wrong").stderr.is_empty());
    assert!(!by("events --source sb-wrong").stderr.is_empty());

    // Everything qadeck wrote.
    let data = home.join("data").join("qadeck");
    let log = std::fs::read(home.join("state").join("qadeck").join("qadeck.log")).unwrap();
    assert!(log.len() > 10_000, "a trace log was written");
    let mut outputs: Vec<(String, Vec<u8>)> = vec![("qadeck.log".into(), log)];
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("qadeck.db"))
        {
            outputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    for r in &runs {
        outputs.push((
            format!("stdout of `{}`", r.args),
            r.stdout.clone().into_bytes(),
        ));
        outputs.push((
            format!("stderr of `{}`", r.args),
            r.stderr.clone().into_bytes(),
        ));
    }
    let mut leaks = Vec::new();
    for (name, bytes) in &outputs {
        let text = String::from_utf8_lossy(bytes);
        for secret in ALL {
            for form in forms(secret) {
                if let Some(at) = text.find(&form) {
                    let from = text[..at]
                        .char_indices()
                        .rev()
                        .nth(120)
                        .map_or(0, |(i, _)| i);
                    let end = (at + form.len() + 60).min(text.len());
                    let end = (end..=text.len())
                        .find(|i| text.is_char_boundary(*i))
                        .unwrap();
                    leaks.push(format!("{name}: {form:?} in …{}…", &text[from..end]));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    // The redaction is visible where the servers echoed them.
    let log = String::from_utf8_lossy(&outputs[0].1);
    assert!(
        log.contains("[redacted]"),
        "nothing was redacted in the log"
    );
    drop(rt);
}

//! The command line: config and theme errors name the file and line, and
//! nothing starts half-configured.

use std::process::Command;

fn qadeck(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qadeck"));
    c.env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"));
    c
}

#[test]
fn config_path_honours_xdg() {
    let dir = tempfile::tempdir().unwrap();
    let out = qadeck(dir.path())
        .args(["config", "path"])
        .output()
        .unwrap();
    let path = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        path.trim(),
        dir.path()
            .join("config/qadeck/config.toml")
            .display()
            .to_string()
    );
}

#[test]
fn bad_config_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "theme = \"dark\"\n[[source]]\nname = \"x\"\nprovider = \"postobox\"\nevent = \"e\"\napi_key_env = \"K\"\nbogus = 1\n").unwrap();
    let out = qadeck(dir.path())
        .args(["--config", cfg.to_str().unwrap(), "watch", "--source", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:", cfg.display())), "{err}");
    assert!(err.contains("bogus"), "{err}");
}

#[test]
fn missing_explicit_config_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = qadeck(dir.path())
        .args(["--config", "/nonexistent/q.toml", "journal"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/q.toml"));
}

#[test]
fn bad_theme_file_stops_the_start_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let themes = dir.path().join("config/qadeck/themes");
    std::fs::create_dir_all(&themes).unwrap();
    std::fs::write(
        themes.join("dark.toml"),
        "[colors]\nfg = \"reset\"\naccent = \"sparkly\"\n",
    )
    .unwrap();
    let out = qadeck(dir.path())
        .args(["demo", "--rate", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dark.toml:"), "{err}");
    let out = qadeck(dir.path())
        .args(["--theme", "nope", "demo"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no theme named `nope`"));
}

#[test]
fn bad_key_binding_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[keys]\napprove = \"hyper-a\"\n").unwrap();
    let out = qadeck(dir.path())
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "demo",
            "--headless",
            "--duration",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("hyper-a"));
}

#[test]
fn no_sources_points_to_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let out = qadeck(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("qadeck demo"));
}

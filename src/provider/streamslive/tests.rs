use super::*;
use crate::provider::SourceSpec;

#[test]
fn message_limit_counts_scalar_values() {
    assert!(check_message(&"é".repeat(300)).is_ok());
    assert!(check_message(&"x".repeat(301)).is_err());
    assert!(check_message("  ").is_err());
    // A family emoji is 7 scalar values.
    assert!(check_message(&"👨‍👩‍👧‍👦".repeat(43)).is_err());
}

#[test]
fn base_urls() {
    assert_eq!(
        api_base("http://127.0.0.1:9").unwrap(),
        "http://127.0.0.1:9/api/v1/"
    );
    assert_eq!(
        api_base("https://x.test/api/v1/").unwrap(),
        "https://x.test/api/v1/"
    );
    assert!(api_base("ftp://x").is_err());
    assert_eq!(api_base(DEFAULT_BASE_URL).unwrap(), DEFAULT_BASE_URL);
}

#[test]
fn settings_reject_unknown_keys_and_mixed_credentials() {
    let r: Result<Settings, _> = toml::from_str("name = \"s\"\nevnt = \"x\"\n");
    assert!(r.is_err());
    let s: Settings =
        toml::from_str("email = \"a@b.c\"\npassword = \"pw-1234\"\ntoken = \"t-1234\"\n").unwrap();
    assert!(s.credentials().is_err());
    let s: Settings = toml::from_str("email = \"a@b.c\"\n").unwrap();
    assert!(
        s.credentials()
            .unwrap_err()
            .to_string()
            .contains("password")
    );
    let s: Settings = toml::from_str("token_env = \"QADECK_TEST_UNSET_SL_TOKEN\"\n").unwrap();
    assert!(
        s.credentials()
            .unwrap_err()
            .to_string()
            .contains("QADECK_TEST_UNSET_SL_TOKEN")
    );
    assert!(!s.has_literal_secret());
}

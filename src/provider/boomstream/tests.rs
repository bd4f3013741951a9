use super::settings::api_base;
use super::*;

#[test]
fn base_url_readings() {
    assert_eq!(
        api_base(DEFAULT_BASE_URL).unwrap().as_str(),
        DEFAULT_BASE_URL
    );
    assert_eq!(
        api_base("http://127.0.0.1:8080").unwrap().as_str(),
        "http://127.0.0.1:8080/api/conference"
    );
    assert_eq!(
        api_base("http://127.0.0.1:8080/api/conference/")
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/api/conference/"
    );
    assert!(api_base("ftp://x").is_err());
}

#[test]
fn settings_hide_key_and_reject_unknown() {
    let s: Settings = toml::from_str("api_key = \"bk-secret-123\"\nevent = \"c1\"\n").unwrap();
    assert_eq!(s.ver, "1.0");
    assert!(!format!("{s:?}").contains("bk-secret-123"));
    assert!(toml::from_str::<Settings>("apikey = \"x\"\n").is_err());
}

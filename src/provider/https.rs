//! The one https policy of every provider: a `base_url` is https, or plain
//! http to a loopback host (127.0.0.0/8, ::1, `localhost`: tests and local
//! fakes), since every platform's credentials travel in the requests. The
//! config checks it when the file is read ([`crate::provider::SourceSpec::validate`]),
//! the providers again when they are built.

use super::BuildError;
use reqwest::Url;

/// Whether `url`'s host is loopback.
pub fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(|h| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// Checks a configured `base_url` and returns it parsed, without query or
/// fragment. Refuses plain http to any host that is not loopback, schemes
/// other than http(s), URLs without a host and URLs holding credentials.
pub fn check_base_url(raw: &str) -> Result<Url, BuildError> {
    let shown = crate::text::sanitize(raw.trim());
    let mut url = Url::parse(raw.trim()).map_err(|e| {
        BuildError::invalid("base_url", format!("base_url `{shown}` is not a URL: {e}"))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(BuildError::InsecureUrl { url: shown }),
        other => {
            return Err(BuildError::invalid(
                "base_url",
                format!("base_url `{shown}`: unsupported scheme `{other}` (use https)"),
            ));
        }
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(BuildError::invalid(
            "base_url",
            format!("base_url `{shown}` has no host"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BuildError::invalid(
            "base_url",
            "base_url must not hold credentials; configure them with their own keys",
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://api.example.org/v1",
            "http://127.0.0.1:8080",
            "http://127.8.9.10/",
            "http://[::1]:9000/api",
            "http://localhost:1234",
            "http://LOCALHOST",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.org",
            "http://10.0.0.1",
            "http://localhost.example.org",
            "http://[::2]/",
        ] {
            assert!(
                matches!(check_base_url(bad), Err(BuildError::InsecureUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn other_mistakes_name_base_url() {
        for bad in ["ftp://example.org", "not a url", "https://u:p@example.org"] {
            match check_base_url(bad) {
                Err(BuildError::InvalidSetting { key, .. }) => assert_eq!(key, "base_url"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn query_and_fragment_are_dropped() {
        let u = check_base_url("https://example.org/api?x=1#f").unwrap();
        assert_eq!(u.as_str(), "https://example.org/api");
    }
}

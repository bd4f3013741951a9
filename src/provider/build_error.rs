//! Why a provider could not be built from its `[[source]]` settings. The
//! messages are shown to the moderator as they are (the runtime prefixes the
//! source name).

/// A `[[source]]` that cannot become a provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No source for the secret `key` is configured (`{key}_env`,
    /// `{key}_cmd` or the literal `{key}`). `literal_aside` words the literal
    /// as the last resort.
    #[error("{}", missing_secret(key, *literal_aside))]
    MissingSecret {
        key: &'static str,
        literal_aside: bool,
    },
    /// The secret's sources conflict, or resolving it failed.
    #[error("{0}")]
    Secret(String),
    /// A setting holds a value the provider cannot use.
    #[error("{message}")]
    InvalidSetting { key: &'static str, message: String },
    /// `base_url` is plain http to a host that is not loopback.
    #[error(
        "base_url `{url}` must use https (credentials would travel in clear; plain http is only for localhost)"
    )]
    InsecureUrl { url: String },
    /// Another error, said of a provider or a source.
    #[error("{context}: {error}")]
    Within {
        context: String,
        error: Box<BuildError>,
    },
}

impl BuildError {
    /// An invalid `key` with the message shown.
    pub fn invalid(key: &'static str, message: impl Into<String>) -> BuildError {
        BuildError::InvalidSetting {
            key,
            message: message.into(),
        }
    }

    /// The config key the error is about, where there is one.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            BuildError::MissingSecret { key, .. } | BuildError::InvalidSetting { key, .. } => {
                Some(key)
            }
            BuildError::InsecureUrl { .. } => Some("base_url"),
            BuildError::Within { error, .. } => error.key(),
            BuildError::Secret(_) => None,
        }
    }

    /// This error said of `context` (`streamboxy`, ``source `x` ``).
    pub fn within(self, context: impl Into<String>) -> BuildError {
        BuildError::Within {
            context: context.into(),
            error: Box::new(self),
        }
    }
}

fn missing_secret(key: &str, literal_aside: bool) -> String {
    if literal_aside {
        format!("set `{key}_env` or `{key}_cmd` (or `{key}`)")
    } else {
        format!("set `{key}_env`, `{key}_cmd` or `{key}`")
    }
}

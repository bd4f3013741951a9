//! Who the moderator is: the name the journal records and the identifier
//! some platforms want with a vote. Read from the config's `[moderator]`
//! table; the defaults come from the login name.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moderator {
    /// Identifier sent with votes (PostoBox `identifier`).
    #[serde(default = "default_identifier")]
    pub identifier: String,
    /// Name recorded in the journal.
    #[serde(default = "default_name")]
    pub name: String,
}

impl Default for Moderator {
    fn default() -> Moderator {
        Moderator {
            identifier: default_identifier(),
            name: default_name(),
        }
    }
}

fn default_identifier() -> String {
    format!("qadeck-{}", default_name())
}

fn default_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "moderator".into())
}

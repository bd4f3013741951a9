//! Attendees of conference and session platforms, and the form that
//! invites one.

use super::SourceId;
use serde::{Deserialize, Serialize};

/// Role of a participant as the platform has it. Roles qadeck knows have a
/// variant; any other the platform reports is kept verbatim in
/// [`Role::Other`], shown and sent back unchanged, never rewritten.
/// Stored as its name (`participant`, `moderator`, `speaker`, or the
/// platform's own word), so outbox rows written before stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Role {
    Participant,
    Moderator,
    /// STREAMBOXY's `Speaker`.
    Speaker,
    /// A role qadeck has no name for, as the platform spells it.
    Other(String),
}

impl Role {
    /// The role in words (lower case for the known ones).
    pub fn name(&self) -> &str {
        match self {
            Role::Participant => "participant",
            Role::Moderator => "moderator",
            Role::Speaker => "speaker",
            Role::Other(s) => s,
        }
    }

    /// Reads a role without regard to case; unknown words are kept.
    pub fn parse(s: &str) -> Role {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "" | "participant" => Role::Participant,
            "moderator" => Role::Moderator,
            "speaker" => Role::Speaker,
            _ => Role::Other(t.to_string()),
        }
    }

    pub fn is_moderator(&self) -> bool {
        *self == Role::Moderator
    }
}

impl From<String> for Role {
    fn from(s: String) -> Role {
        Role::parse(&s)
    }
}

impl From<Role> for String {
    fn from(r: Role) -> String {
        r.name().to_string()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One attendee of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub source: SourceId,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// Invitation / join link, when the platform gives one.
    pub link: Option<String>,
    /// Opaque concurrency token (STREAMBOXY `rowVersion`), echoed on update.
    pub version: Option<String>,
    /// Caller-side key used to make bulk imports idempotent.
    pub external_key: Option<String>,
}

impl Participant {
    /// Every text field made safe for the terminal. Providers sanitize names
    /// at ingest; ids, links and versions also reach the screen (detail,
    /// toasts), so the core takes none of them raw.
    pub fn sanitized(mut self) -> Participant {
        use crate::text::sanitize;
        self.id = sanitize(&self.id);
        self.name = sanitize(&self.name);
        self.email = self.email.as_deref().map(sanitize);
        self.link = self.link.as_deref().map(sanitize);
        self.version = self.version.as_deref().map(sanitize);
        self.external_key = self.external_key.as_deref().map(sanitize);
        if let Role::Other(r) = &self.role {
            self.role = Role::Other(sanitize(r));
        }
        self
    }
}

/// Fields of a participant the moderator fills in a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantDraft {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// Send the platform's invitation e-mail.
    pub notify: bool,
    /// One-time link (STREAMBOXY) where supported.
    pub one_time_link: bool,
    /// Link lifetime in minutes (Boomstream `timeout`) where supported.
    pub link_lifetime_min: Option<u32>,
    pub external_key: Option<String>,
}

/// A plausible e-mail address: one `@`, both sides present, a dot in the
/// domain, no spaces or controls.
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_keep_what_the_platform_says() {
        assert_eq!(Role::parse("Speaker"), Role::Speaker);
        assert_eq!(Role::parse(" MODERATOR "), Role::Moderator);
        assert_eq!(Role::parse("Backstage"), Role::Other("Backstage".into()));
        let json = serde_json::to_string(&Role::Other("Backstage".into())).unwrap();
        assert_eq!(json, "\"Backstage\"");
        let old: Role = serde_json::from_str("\"participant\"").unwrap();
        assert_eq!(old, Role::Participant);
        assert_eq!(
            serde_json::to_string(&Role::Speaker).unwrap(),
            "\"speaker\""
        );
    }
}

//! The registry of platforms: which `provider = "…"` names exist and the
//! settings each one reads from its `[[source]]` table.

use crate::provider::{
    BuildCtx, BuildError, Provider, SourceSpec, boomstream, demo, postobox, streamboxy, streamslive,
};
use serde::Deserialize;

/// One `[[source]]` table of the config, chosen by its `provider` key. Each
/// variant's settings reject unknown keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum SourceSettings {
    Demo(demo::Settings),
    Streamboxy(streamboxy::Settings),
    Boomstream(boomstream::Settings),
    Streamslive(streamslive::Settings),
    Postobox(postobox::Settings),
}

impl SourceSettings {
    fn spec(&self) -> &dyn SourceSpec {
        match self {
            SourceSettings::Demo(s) => s,
            SourceSettings::Streamboxy(s) => s,
            SourceSettings::Boomstream(s) => s,
            SourceSettings::Streamslive(s) => s,
            SourceSettings::Postobox(s) => s,
        }
    }

    /// The `provider = "…"` value.
    pub fn provider_name(&self) -> &'static str {
        match self {
            SourceSettings::Demo(_) => "demo",
            SourceSettings::Streamboxy(_) => "streamboxy",
            SourceSettings::Boomstream(_) => "boomstream",
            SourceSettings::Streamslive(_) => "streamslive",
            SourceSettings::Postobox(_) => "postobox",
        }
    }

    pub fn name(&self) -> &str {
        self.spec().name()
    }

    pub fn event(&self) -> Option<&str> {
        self.spec().event()
    }

    pub fn has_literal_secret(&self) -> bool {
        self.spec().has_literal_secret()
    }

    /// The checks that need no secret (the https policy), run when the
    /// config is read.
    pub fn validate(&self) -> Result<(), BuildError> {
        self.spec().validate()
    }

    /// Builds the provider; the error names this source once.
    pub fn build(&self, ctx: &BuildCtx) -> Result<std::sync::Arc<dyn Provider>, BuildError> {
        let context = format!("source `{}`", self.name());
        self.spec().build(ctx).map_err(|e| match e {
            BuildError::Within { context: ref c, .. } if *c == context => e,
            e => e.within(context),
        })
    }
}

/// Reads one `[[source]]` table's keys (without `provider`) as `provider`'s
/// settings, for the error's own position: read through the tagged enum,
/// serde reports every error at the table's first line.
pub(super) fn probe(provider: &str, table: &str) -> Option<toml::de::Error> {
    fn read<T: serde::de::DeserializeOwned>(t: &str) -> Option<toml::de::Error> {
        toml::from_str::<T>(t).err()
    }
    match provider {
        "demo" => read::<demo::Settings>(table),
        "streamboxy" => read::<streamboxy::Settings>(table),
        "boomstream" => read::<boomstream::Settings>(table),
        "streamslive" => read::<streamslive::Settings>(table),
        "postobox" => read::<postobox::Settings>(table),
        _ => None,
    }
}

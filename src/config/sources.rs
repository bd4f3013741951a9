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

    pub fn build(&self, ctx: &BuildCtx) -> Result<std::sync::Arc<dyn Provider>, BuildError> {
        self.spec().build(ctx)
    }
}

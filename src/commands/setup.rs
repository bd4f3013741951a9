//! `qadeck config init` and `qadeck config check`: a commented starting
//! config, and a look at every source before the show (secrets resolved but
//! never printed, each platform reached once).

use super::{Context, exit};
use crate::config::SourceSettings;
use crate::domain::ProviderError;
use crate::provider::{BuildCtx, Provider};
use anyhow::bail;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The platforms `config init --provider` knows.
pub const PROVIDERS: [&str; 5] = [
    "demo",
    "postobox",
    "streamslive",
    "streamboxy",
    "boomstream",
];

const HEAD: &str = r#"# qadeck's config. `qadeck config check` tries it; the README lists every key.

# theme = "dark"            # dark, light, high-contrast, or <config dir>/themes/NAME.toml

[moderator]
name = "moderator"          # recorded in the journal; put your name here
# identifier = "desk-1"     # sent with votes

# [keys]                    # remap an action (see `?` in the console); it loses its default keys
# approve = ["a", "ctrl-a"]

# [delivery]
# in_flight = 8             # actions each source sends at once (1 to 64); one item's go one after another
"#;

fn template(provider: &str) -> &'static str {
    match provider {
        "postobox" => {
            r#"
[[source]]
name = "keynote"                  # how qadeck names it (status bar, --source)
provider = "postobox"
event = "your-event-id"           # `qadeck events --source keynote` lists them
api_key_env = "POSTOBOX_KEY"      # or api_key_cmd = "pass show postobox"
# base_url = "https://api.postobox.app/v1"
"#
        }
        "streamslive" => {
            r#"
[[source]]
name = "stage"
provider = "streamslive"
event = "your-channel-slug"
email = "producer@example.com"
password_env = "STREAMSLIVE_PASSWORD"   # or password_cmd = "pass show streams.live"
"#
        }
        "streamboxy" => {
            r#"
[[source]]
name = "workshop"
provider = "streamboxy"
tenant = "your-tenant-id"
client_id = "your-client-id"
client_secret_env = "STREAMBOXY_SECRET"   # or client_secret_cmd = "pass show streamboxy"
event = "the-session-id"
"#
        }
        "boomstream" => {
            r#"
[[source]]
name = "townhall"
provider = "boomstream"
api_key_env = "BOOMSTREAM_KEY"    # or api_key_cmd = "..."
event = "the-conference-code"
"#
        }
        _ => {
            r#"
[[source]]
name = "demo"                     # the simulated audience: no account needed
provider = "demo"
rate = 1.0                        # new questions a second
"#
        }
    }
}

/// The text `config init` writes: the head and one table per provider
/// (the demo when none is named). Names must be in [`PROVIDERS`].
pub fn starting_config(providers: &[String]) -> String {
    let mut text = HEAD.to_string();
    if providers.is_empty() {
        text.push_str(template("demo"));
    }
    for p in providers {
        text.push_str(template(p));
    }
    text
}

/// `qadeck config init`: writes the starting config to `path`; an existing
/// file is never overwritten.
pub fn init(path: &Path, providers: &[String]) -> anyhow::Result<()> {
    if let Some(bad) = providers.iter().find(|p| !PROVIDERS.contains(&p.as_str())) {
        bail!(super::Usage(format!(
            "unknown provider `{bad}` (known: {})",
            PROVIDERS.join(", ")
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(super::Usage(format!(
            "{} already exists; not overwritten (edit it, or remove it and run `qadeck config init` again)",
            path.display()
        ))),
        Err(e) => bail!("cannot write {}: {e}", path.display()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // It may come to hold a secret.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    }
    file.write_all(starting_config(providers).as_bytes())?;
    eprintln!(
        "wrote {}; fill in the source, then run `qadeck config check`",
        path.display()
    );
    Ok(())
}

/// How one source's check went.
enum Verdict {
    Ok(String),
    Unreachable(String),
    Failed(String),
}

/// `qadeck config check`: one line per source; the exit status is 0 when
/// all are fine, 3 when the only problems are platforms out of reach, else 1.
pub async fn check(ctx: &Context) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    if ctx.config.sources.is_empty() {
        writeln!(
            out,
            "{}: no [[source]] tables (`qadeck config init` writes a start)",
            ctx.config_path.display()
        )?;
    }
    ctx.theme()?;
    ctx.keymap()?;
    let width = ctx
        .config
        .sources
        .iter()
        .map(|s| s.name().len())
        .max()
        .unwrap_or(0);
    let (mut failed, mut unreachable) = (false, false);
    for s in &ctx.config.sources {
        let (word, text) = match check_source(ctx, s).await {
            Verdict::Ok(t) => ("ok", t),
            Verdict::Unreachable(t) => {
                unreachable = true;
                ("unreachable", t)
            }
            Verdict::Failed(t) => {
                failed = true;
                ("failed", t)
            }
        };
        let line = format!(
            "{:<width$}  {:<11}  {word}  {text}",
            s.name(),
            s.provider_name()
        );
        writeln!(out, "{}", crate::secret::redact(&line))?;
    }
    Ok(if failed {
        exit::FAILED
    } else if unreachable {
        exit::UNREACHABLE
    } else {
        exit::OK
    })
}

async fn check_source(ctx: &Context, s: &SourceSettings) -> Verdict {
    let build = BuildCtx {
        source: crate::domain::SourceId(0),
        moderator: ctx.config.moderator.clone(),
        event: None,
    };
    let provider: Arc<dyn Provider> = match s.build(&build) {
        Ok(p) => p,
        Err(e) => {
            // The line already names the source.
            let text = e.to_string();
            let own = format!("source `{}`: ", s.name());
            return Verdict::Failed(text.strip_prefix(&own).unwrap_or(&text).to_string());
        }
    };
    let verdict = reach(&*provider, s.event()).await;
    provider.shutdown().await;
    verdict
}

/// One light call: the account's facts where the platform has them, else
/// the list of events.
async fn reach(provider: &dyn Provider, event: Option<&str>) -> Verdict {
    let limit = Duration::from_secs(15);
    let judge = |e: ProviderError| match e {
        ProviderError::Network(_) | ProviderError::Server(_) => Verdict::Unreachable(e.to_string()),
        other => Verdict::Failed(other.to_string()),
    };
    let no_event = if event.is_none() {
        "; no `event` set (pick one in the console)"
    } else {
        ""
    };
    match tokio::time::timeout(limit, provider.account_info()).await {
        Err(_) => return Verdict::Unreachable(format!("no answer within {}s", limit.as_secs())),
        Ok(Ok(rows)) if !rows.is_empty() => {
            let facts: Vec<String> = rows.into_iter().map(|(k, v)| format!("{k} {v}")).collect();
            return Verdict::Ok(format!("{}{no_event}", facts.join(", ")));
        }
        Ok(Err(e)) if !matches!(e, ProviderError::Unsupported(_)) => return judge(e),
        Ok(_) => {}
    }
    match tokio::time::timeout(limit, provider.list_events()).await {
        Err(_) => Verdict::Unreachable(format!("no answer within {}s", limit.as_secs())),
        Ok(Ok(list)) => Verdict::Ok(format!("{} event(s) visible{no_event}", list.len())),
        Ok(Err(e)) => judge(e),
    }
}

//! `qadeck people list` and `qadeck people import`: the participants of a
//! source whose platform has them (STREAMBOXY session users, Boomstream
//! conference clients), without the TUI.

use super::Context;
use crate::people::{self, Pace, RowOutcome, Summary};
use crate::provider::Provider;
use anyhow::{Context as _, anyhow, bail};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// The source's provider, when it manages participants of a chosen event.
fn participants_provider(ctx: &Context, source: &str) -> anyhow::Result<Arc<dyn Provider>> {
    let settings = ctx.config.source(source)?;
    if settings.event().is_none() {
        bail!(
            "source `{source}` names no event: set `event = ...` (list them with `qadeck events --source {source}`)"
        );
    }
    let provider = ctx.provider(source)?;
    if !provider.capabilities().participants {
        bail!("source `{source}`: its platform has no participants to manage");
    }
    Ok(provider)
}

/// `qadeck people list`: a table, or NDJSON `participant` lines.
pub async fn list(ctx: Context, source: &str, json: bool) -> anyhow::Result<()> {
    let provider = participants_provider(&ctx, source)?;
    let list = provider.list_participants().await;
    provider.shutdown().await;
    let list = list.map_err(|e| anyhow!("{source}: {e}"))?;
    let mut out = std::io::stdout().lock();
    for p in &list {
        if json {
            writeln!(out, "{}", people::participant_json(p, source))?;
        } else {
            writeln!(
                out,
                "{:<16} {:<11} {:<28} {:<32} {}",
                crate::text::one_line(&p.id, 16),
                p.role.name(),
                crate::text::one_line(&p.name, 28),
                crate::text::one_line(p.email.as_deref().unwrap_or("-"), 32),
                p.link.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

/// Options of `qadeck people import`.
pub struct ImportOptions {
    pub source: String,
    pub file: PathBuf,
    pub json: bool,
    /// Extra ceiling on rows a second.
    pub rate: Option<f64>,
    /// Read and check the file, print what would be added; send nothing.
    pub dry_run: bool,
}

/// `qadeck people import`: one line per CSV row as soon as it is known,
/// then a summary. `Ok(false)` (a failing exit) when any row is not on the
/// platform: invalid, refused, or not attempted.
pub async fn import(ctx: Context, opts: ImportOptions) -> anyhow::Result<bool> {
    let data =
        std::fs::read(&opts.file).with_context(|| format!("reading {}", opts.file.display()))?;
    let rows = people::parse_csv(&data).map_err(|e| anyhow!("{}: {e}", opts.file.display()))?;
    let provider = participants_provider(&ctx, &opts.source)?;
    if opts.dry_run {
        provider.shutdown().await;
        return dry_run(&opts, &rows);
    }
    let pace = Pace {
        rows_per_sec: opts.rate,
        ..Pace::default()
    };
    let json = opts.json;
    let mut print = |o: &RowOutcome| {
        let mut out = std::io::stdout().lock();
        let _ = if json {
            writeln!(out, "{}", o.json())
        } else {
            writeln!(out, "{o}")
        };
        let _ = out.flush();
    };
    let outcomes = people::import_with(&*provider, &rows, &pace, &mut print).await;
    provider.shutdown().await;
    let summary = Summary::of(&outcomes);
    let mut out = std::io::stdout().lock();
    if json {
        let v = serde_json::json!({
            "type": "import_summary",
            "schema": crate::ndjson::SCHEMA,
            "source": opts.source,
            "at": crate::ndjson::iso(crate::provider::now_ms()),
            "rows": outcomes.len(),
            "added": summary.added,
            "exists": summary.exists,
            "duplicate": summary.duplicate,
            "invalid": summary.invalid,
            "failed": summary.failed,
            "skipped": summary.skipped,
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "{} rows: {summary}", outcomes.len())?;
    }
    Ok(summary.all_ok())
}

/// `people import --dry-run`: each row as it would be sent, from the file
/// alone (the platform is not asked, so rows already there count as adds).
fn dry_run(opts: &ImportOptions, rows: &[people::ImportRow]) -> anyhow::Result<bool> {
    let mut out = std::io::stdout().lock();
    let mut invalid = 0;
    for r in rows {
        let (status, name, email, reason) = match &r.draft {
            Ok(d) => ("would_add", Some(d.name.as_str()), d.email.as_deref(), None),
            Err(e) => {
                invalid += 1;
                ("invalid", None, None, Some(e.to_string()))
            }
        };
        if opts.json {
            let v = serde_json::json!({
                "type": "import_row",
                "line": r.line,
                "status": status,
                "name": name,
                "email": email,
                "reason": reason,
                "dry_run": true,
            });
            writeln!(out, "{v}")?;
        } else {
            match reason {
                None => writeln!(
                    out,
                    "line {}: would add {} <{}>",
                    r.line,
                    name.unwrap_or(""),
                    email.unwrap_or("-")
                )?,
                Some(why) => writeln!(out, "line {}: invalid: {why}", r.line)?,
            }
        }
    }
    eprintln!(
        "dry run: {} row(s) read from {}, {invalid} invalid; nothing sent",
        rows.len(),
        opts.file.display()
    );
    Ok(invalid == 0)
}

//! qadeck's command line: parsing only; the work is in the library.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the CLI layer writes to the terminal"
)]

use clap::{Parser, Subcommand};
use qadeck::commands::events::EventChange;
use qadeck::commands::people::ImportOptions;
use qadeck::commands::{self, ChatOptions, Context, DemoOptions, ExportOptions, ModerateOptions};
use qadeck::domain::{EventDraft, ReportKind};
use qadeck::provider::demo::Settings as DemoSettings;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "qadeck",
    version,
    about = "Keyboard-first console for moderating live audience Q&A"
)]
struct Cli {
    /// Config file (default: the platform config dir; `qadeck config path` prints it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Durable store (outbox, journal, local state); default: the data dir.
    #[arg(long, global = true, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Theme: dark, light, high-contrast, or a file in <config dir>/themes/.
    #[arg(long, global = true, value_name = "NAME")]
    theme: Option<String>,
    /// Serve the live show (on-air JSON, SSE, overlay, control) on ADDR, e.g. 127.0.0.1:7077.
    #[arg(long, value_name = "ADDR")]
    show: Option<String>,
    /// Keep the on-air text in this file (replaced atomically).
    #[arg(long, value_name = "PATH")]
    show_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Moderate a simulated live audience: no account needed.
    Demo {
        /// New questions a second.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Seed for a reproducible audience.
        #[arg(long)]
        seed: Option<u64>,
        /// Mix in terminal escapes, control characters and 100 KB texts.
        #[arg(long)]
        hostile: bool,
        /// Share of actions the simulated platform refuses (0..1).
        #[arg(long, default_value_t = 0.05)]
        fail_rate: f64,
        /// No terminal UI: print NDJSON on stdout.
        #[arg(long)]
        headless: bool,
        /// Stop after this many seconds (headless).
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
        /// Serve the live show on ADDR, e.g. 127.0.0.1:7077.
        #[arg(long, value_name = "ADDR")]
        show: Option<String>,
        /// Keep the on-air text in this file (replaced atomically).
        #[arg(long, value_name = "PATH")]
        show_file: Option<PathBuf>,
    },
    /// A read-only stage monitor following a running console's show server.
    Stage {
        /// The console's show server.
        #[arg(long, default_value = "http://127.0.0.1:7077")]
        url: String,
    },
    /// Print one source's questions and connection changes as NDJSON.
    Watch {
        #[arg(long)]
        source: String,
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
    },
    /// Perform moderation actions: `ID ACTION`, or one per line with --stdin.
    /// Actions: approve, reject, answered, pending, delete, vote, unvote, downvote, on-air.
    Moderate {
        #[arg(long)]
        source: String,
        /// Read `ID ACTION` lines from standard input.
        #[arg(long)]
        stdin: bool,
        /// Exit once every action is durably queued; a later qadeck run delivers them.
        #[arg(long)]
        no_wait: bool,
        /// Give up waiting for confirmation after this many seconds (actions stay queued).
        #[arg(long, default_value_t = 60.0, value_name = "S")]
        timeout: f64,
        /// Question id and action.
        #[arg(num_args = 0..=2, value_names = ["ID", "ACTION"])]
        args: Vec<String>,
    },
    /// Read a source's chat as NDJSON, or post / delete one message.
    Chat {
        #[arg(long)]
        source: String,
        /// Post this message (refused, nothing sent, when over the platform's limit).
        #[arg(long, value_name = "TEXT", conflicts_with_all = ["delete", "follow"])]
        post: Option<String>,
        /// With --post: answer this message.
        #[arg(long, value_name = "ID", requires = "post")]
        reply_to: Option<String>,
        /// Delete this message.
        #[arg(long, value_name = "ID", conflicts_with = "follow")]
        delete: Option<String>,
        /// After the thread, print new and deleted messages as they happen.
        #[arg(long)]
        follow: bool,
        /// With --follow: stop after this many seconds.
        #[arg(long, value_name = "S", requires = "follow")]
        duration: Option<f64>,
        /// Give up waiting for the platform after this many seconds (a post stays queued).
        #[arg(long, default_value_t = 60.0, value_name = "S")]
        timeout: f64,
    },
    /// Export questions or chat: the platform's report where it has one, else NDJSON.
    Export {
        #[arg(long)]
        source: String,
        #[arg(long, value_enum, default_value_t = What::Questions)]
        what: What,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Skip the platform's report: a local NDJSON export with this machine's states.
        #[arg(long)]
        local: bool,
        /// Give up waiting for the platform after this many seconds.
        #[arg(long, default_value_t = 60.0, value_name = "S")]
        timeout: f64,
    },
    /// List the events a source's credentials can see; or create, update,
    /// show or delete one (STREAMBOXY sessions, Boomstream conferences).
    Events {
        #[arg(long)]
        source: String,
        #[arg(long)]
        json: bool,
        /// Create an event (needs --title; STREAMBOXY also --description).
        #[arg(long, requires = "title", conflicts_with_all = ["update", "delete", "show"])]
        create: bool,
        /// Update this event's title and description.
        #[arg(long, value_name = "ID", conflicts_with_all = ["delete", "show"])]
        update: Option<String>,
        /// Delete this event.
        #[arg(long, value_name = "ID", conflicts_with = "show")]
        delete: Option<String>,
        /// Show this event.
        #[arg(long, value_name = "ID")]
        show: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// STREAMBOXY: 1–500 characters.
        #[arg(long)]
        description: Option<String>,
        /// Start, RFC 3339 (sent as UTC).
        #[arg(long, value_name = "RFC3339")]
        start: Option<String>,
        /// End, RFC 3339 (sent as UTC).
        #[arg(long, value_name = "RFC3339")]
        end: Option<String>,
        /// STREAMBOXY session type (default Lobby).
        #[arg(long, value_name = "TYPE")]
        kind: Option<String>,
        /// STREAMBOXY content URL (https://).
        #[arg(long, value_name = "URL")]
        content_url: Option<String>,
    },
    /// Participants of a source whose platform has them (STREAMBOXY, Boomstream).
    People {
        #[command(subcommand)]
        what: PeopleCmd,
    },
    /// Print the audit journal: who did what to which item, when, and the outcome.
    Journal {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
    /// Config file helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum What {
    Questions,
    Chat,
}

#[derive(Subcommand)]
enum PeopleCmd {
    /// List the participants (NDJSON `participant` lines with --json).
    List {
        #[arg(long)]
        source: String,
        #[arg(long)]
        json: bool,
    },
    /// Add participants from a CSV file with a header row `name,email,role`.
    /// Rows already there (same e-mail) are skipped, so running it again on
    /// the same file adds nobody twice. Fails if any row is not added.
    Import {
        #[arg(long)]
        source: String,
        /// The CSV file.
        file: PathBuf,
        /// One NDJSON line per row and a summary line.
        #[arg(long)]
        json: bool,
        /// At most this many rows a second (on top of the platform's pacing).
        #[arg(long, value_name = "N")]
        rate: Option<f64>,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print where the config file is read from.
    Path,
}

fn seconds(s: Option<f64>) -> Result<Option<Duration>, String> {
    match s {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(Duration::from_secs_f64(v))),
        Some(v) => Err(format!(
            "a duration must be a number of seconds >= 0, not {v}"
        )),
    }
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let command = match cli.command {
        // Works even when the config file is broken: it says where to look.
        Some(Cmd::Config {
            what: ConfigCmd::Path,
        }) => {
            println!(
                "{}",
                cli.config
                    .unwrap_or_else(qadeck::config::default_path)
                    .display()
            );
            return Ok(true);
        }
        other => other,
    };
    qadeck::logging::init(&qadeck::config::data_dir().join("qadeck.log"));
    // Every verb: a panic message never prints a secret (the TUI installs
    // its own hook that also restores the terminal).
    qadeck::runtime::terminal::install_panic_hook(false);
    let mut ctx = Context::load(cli.config, cli.store, cli.theme)?;
    ctx.show_listen = cli.show;
    ctx.show_file = cli.show_file;
    match command {
        None => commands::tui(ctx).await?,
        Some(Cmd::Demo {
            rate,
            seed,
            hostile,
            fail_rate,
            headless,
            duration,
            show,
            show_file,
        }) => {
            ctx.show_listen = show.or(ctx.show_listen);
            ctx.show_file = show_file.or(ctx.show_file);
            if !(rate.is_finite() && rate >= 0.0) {
                anyhow::bail!("--rate must be a number >= 0");
            }
            if !(0.0..=1.0).contains(&fail_rate) {
                anyhow::bail!("--fail-rate must be between 0 and 1");
            }
            let settings = DemoSettings {
                rate,
                seed,
                hostile,
                fail_rate,
                ..DemoSettings::default()
            };
            let duration = seconds(duration).map_err(anyhow::Error::msg)?;
            commands::demo(
                ctx,
                DemoOptions {
                    settings,
                    headless,
                    duration,
                },
            )
            .await?;
        }
        Some(Cmd::Stage { url }) => commands::stage::stage(&url, ctx.theme()?).await?,
        Some(Cmd::Watch { source, duration }) => {
            commands::watch(ctx, &source, seconds(duration).map_err(anyhow::Error::msg)?).await?;
        }
        Some(Cmd::Moderate {
            source,
            stdin,
            no_wait,
            timeout,
            args,
        }) => {
            let actions = if stdin {
                if !args.is_empty() {
                    anyhow::bail!("give actions either as arguments or with --stdin, not both");
                }
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                commands::parse_action_lines(&text)?
            } else if args.len() == 2 {
                commands::parse_action_lines(&args.join(" "))?
            } else {
                anyhow::bail!("expected `ID ACTION` (or --stdin)");
            };
            let timeout = seconds(Some(timeout))
                .map_err(anyhow::Error::msg)?
                .unwrap_or_default();
            return commands::moderate(
                ctx,
                ModerateOptions {
                    source,
                    actions,
                    no_wait,
                    timeout,
                },
            )
            .await;
        }
        Some(Cmd::Chat {
            source,
            post,
            reply_to,
            delete,
            follow,
            duration,
            timeout,
        }) => {
            let opts = ChatOptions {
                source,
                post,
                reply_to,
                delete,
                follow,
                duration: seconds(duration).map_err(anyhow::Error::msg)?,
                timeout: seconds(Some(timeout))
                    .map_err(anyhow::Error::msg)?
                    .unwrap_or_default(),
            };
            return commands::chat(ctx, opts).await;
        }
        Some(Cmd::Export {
            source,
            what,
            out,
            local,
            timeout,
        }) => {
            let opts = ExportOptions {
                source,
                what: match what {
                    What::Questions => ReportKind::Questions,
                    What::Chat => ReportKind::Chat,
                },
                out,
                local,
                timeout: seconds(Some(timeout))
                    .map_err(anyhow::Error::msg)?
                    .unwrap_or_default(),
            };
            commands::export(ctx, opts).await?;
        }
        Some(Cmd::Events {
            source,
            json,
            create,
            update,
            delete,
            show,
            title,
            description,
            start,
            end,
            kind,
            content_url,
        }) => {
            let draft = EventDraft {
                title,
                description,
                start,
                end,
                kind,
                content_url,
            };
            let change = match (create, update, delete, show) {
                (true, ..) => Some(EventChange::Create(draft)),
                (_, Some(id), ..) => Some(EventChange::Update { id, draft }),
                (_, _, Some(id), _) => Some(EventChange::Delete { id }),
                (.., Some(id)) => Some(EventChange::Show { id }),
                _ if draft != EventDraft::default() => anyhow::bail!(
                    "--title, --description, --start, --end, --kind and --content-url go with --create or --update"
                ),
                _ => None,
            };
            match change {
                Some(change) => commands::events::change(ctx, &source, change, json).await?,
                None => commands::events(ctx, &source, json).await?,
            }
        }
        Some(Cmd::People {
            what: PeopleCmd::List { source, json },
        }) => commands::people::list(ctx, &source, json).await?,
        Some(Cmd::People {
            what:
                PeopleCmd::Import {
                    source,
                    file,
                    json,
                    rate,
                },
        }) => {
            if rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
                anyhow::bail!("--rate must be a number of rows a second > 0");
            }
            return commands::people::import(
                ctx,
                ImportOptions {
                    source,
                    file,
                    json,
                    rate,
                },
            )
            .await;
        }
        Some(Cmd::Journal { json, limit }) => commands::journal(ctx, json, limit)?,
        Some(Cmd::Config { .. }) => {}
    }
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {}", qadeck::secret::redact(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

//! qadeck's command line: parsing only; the work is in the library.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the CLI layer writes to the terminal"
)]

use clap::{CommandFactory, Parser, Subcommand};
use qadeck::commands::events::EventChange;
use qadeck::commands::people::ImportOptions;
use qadeck::commands::{
    self, ChatOptions, Context, DemoOptions, ExportOptions, Format, ModerateOptions, Which, exit,
};
use qadeck::domain::{EventDraft, ReportKind};
use qadeck::provider::demo::Settings as DemoSettings;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// jemalloc rather than glibc's malloc, with one arena for every thread
/// (`.cargo/config.toml`): the parsing threads and the core's share their
/// free pages, where glibc's per-thread arenas kept each apart.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const EXIT_CODES: &str = "\
Exit status:
  0        ok
  1        an action or a source failed
  2        a usage or config error
  3        a platform could not be reached (`watch`: the source never became live or polling)
  128+n    stopped by signal n (130 for Ctrl-C, 143 for SIGTERM)

Logs: `qadeck config path` prints where the log file is.";

#[derive(Parser)]
#[command(
    name = "qadeck",
    version,
    about = "Keyboard-first console for moderating live audience Q&A",
    after_help = EXIT_CODES,
    disable_version_flag = true
)]
struct Cli {
    /// Config file (default: the platform config dir; `qadeck config path` prints it).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    /// Durable store (outbox, journal, local state); default: the data dir.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    store: Option<PathBuf>,
    /// Theme of the console: dark, light, high-contrast, or a file in <config dir>/themes/.
    #[arg(long, value_name = "NAME")]
    theme: Option<String>,
    /// More detail in the log file: -v debug, -vv trace (and other crates at debug).
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log level for qadeck (error, warn, info, debug, trace), or filter directives
    /// such as `debug,hyper=info`; overrides -v and QADECK_LOG.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "LEVEL"
    )]
    log_level: Option<String>,
    /// Print the version (with --json: a `version` line with the NDJSON schema).
    #[arg(short = 'V', long)]
    version: bool,
    /// With --version: as NDJSON.
    #[arg(long, requires = "version")]
    json: bool,
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
        #[arg(long, value_name = "S", requires = "headless")]
        duration: Option<f64>,
        /// Theme of the console (also checked when headless).
        #[arg(long, value_name = "NAME")]
        theme: Option<String>,
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
    /// Print questions and connection changes as NDJSON: one source, or
    /// every configured source in one stream. Exits 3 if a source never
    /// became live or polling.
    Watch {
        /// The `[[source]]` to watch, by name (default, or `all`: every
        /// source that names an event).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Stop after this many seconds (default: until Ctrl-C or SIGTERM).
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
    },
    /// Perform moderation actions: `ID ACTION`, or one per line with --stdin.
    /// Actions: approve, reject, answered, pending, delete, vote, unvote, downvote, on-air.
    Moderate {
        /// The `[[source]]` the questions are on, by name.
        #[arg(long, value_name = "NAME")]
        source: String,
        /// Read `ID ACTION` lines from standard input.
        #[arg(long)]
        stdin: bool,
        /// Print what would be done; send and queue nothing.
        #[arg(long, conflicts_with = "no_wait")]
        dry_run: bool,
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
        /// The `[[source]]` whose chat to read, by name.
        #[arg(long, value_name = "NAME")]
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
    /// Export questions or chat: the platform's report where it has one, else
    /// NDJSON; or, with --format, a local export as NDJSON, JSON, CSV or Markdown.
    Export {
        /// The `[[source]]` to export, by name, or `all` (every source that
        /// names an event, in one local export).
        #[arg(long, value_name = "NAME")]
        source: String,
        /// What to export: questions (all of them: also `all`), only the
        /// `answered` or the `unanswered` ones (pending and selected), or chat.
        #[arg(long, value_enum, default_value_t = What::Questions)]
        what: What,
        /// A local export in this format (default: the platform's report
        /// where it has one, else ndjson).
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<ExportFormat>,
        /// With --format csv: start with a UTF-8 byte order mark (for
        /// spreadsheets that guess the encoding).
        #[arg(long)]
        bom: bool,
        /// Write here instead of stdout (an existing file needs --force).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long, requires = "out")]
        force: bool,
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
        /// The `[[source]]` whose account to use, by name.
        #[arg(long, value_name = "NAME")]
        source: String,
        /// One NDJSON `event` line each.
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
        /// The event's title (with --create or --update).
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
        /// One NDJSON `journal` line each (`at` in RFC 3339).
        #[arg(long)]
        json: bool,
        /// Print the newest this many lines.
        #[arg(long, default_value_t = 200, value_name = "N")]
        limit: usize,
        /// Drop every action still queued for this event (it is never sent),
        /// instead of printing the journal.
        #[arg(long, value_name = "EVENT")]
        drop_waiting: Option<String>,
        /// With --drop-waiting: only this source's actions.
        #[arg(long, requires = "drop_waiting")]
        source: Option<String>,
    },
    /// Config file helpers: where it is, a starting one, a check before the show.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
    /// Print a shell completion script (e.g. `source <(qadeck completions bash)`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `qadeck man | man -l -`.
    Man,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum What {
    Questions,
    All,
    Answered,
    Unanswered,
    Chat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Ndjson,
    Json,
    Csv,
    Md,
}

#[derive(Subcommand)]
enum PeopleCmd {
    /// List the participants (NDJSON `participant` lines with --json).
    List {
        /// The `[[source]]` whose participants to list, by name.
        #[arg(long, value_name = "NAME")]
        source: String,
        /// One NDJSON `participant` line each.
        #[arg(long)]
        json: bool,
    },
    /// Add participants from a CSV file with a header row `name,email,role`.
    /// Rows already there (same e-mail) are skipped, so running it again on
    /// the same file adds nobody twice. Fails if any row is not added.
    Import {
        /// The `[[source]]` to add participants to, by name.
        #[arg(long, value_name = "NAME")]
        source: String,
        /// The CSV file.
        file: PathBuf,
        /// One NDJSON line per row and a summary line.
        #[arg(long)]
        json: bool,
        /// At most this many rows a second (on top of the platform's pacing).
        #[arg(long, value_name = "N")]
        rate: Option<f64>,
        /// Read and check the file and print what would be added; send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print where the config file is read from, and where the log is written.
    Path,
    /// Write a commented starting config (never over an existing file).
    Init {
        /// Add a `[[source]]` table for this platform (repeatable; default: the demo).
        #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(commands::setup::PROVIDERS))]
        provider: Vec<String>,
    },
    /// Parse the config, resolve every secret (never printed), reach every
    /// source once and print one line each; non-zero if any fails.
    Check,
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

/// A usage error (exit status 2).
fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(commands::Usage(msg.into()))
}

fn secs(s: Option<f64>) -> anyhow::Result<Option<Duration>> {
    seconds(s).map_err(usage)
}

fn status(ok: bool) -> u8 {
    if ok { exit::OK } else { exit::FAILED }
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli.version {
        if cli.json {
            println!("{}", qadeck::ndjson::version());
        } else {
            println!("qadeck {}", env!("CARGO_PKG_VERSION"));
        }
        return Ok(exit::OK);
    }
    let command = match cli.command {
        // Works even when the config file is broken: it says where to look.
        Some(Cmd::Config {
            what: ConfigCmd::Path,
        }) => {
            let path = cli.config.unwrap_or_else(qadeck::config::default_path);
            println!("{}", path.display());
            eprintln!("log: {}", qadeck::config::log_path().display());
            return Ok(exit::OK);
        }
        Some(Cmd::Config {
            what: ConfigCmd::Init { provider },
        }) => {
            let path = cli.config.unwrap_or_else(qadeck::config::default_path);
            commands::setup::init(&path, &provider)?;
            return Ok(exit::OK);
        }
        Some(Cmd::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "qadeck", &mut std::io::stdout());
            return Ok(exit::OK);
        }
        Some(Cmd::Man) => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(exit::OK);
        }
        other => other,
    };
    let log = qadeck::config::log_path();
    qadeck::logging::init(
        &log,
        qadeck::logging::filter(cli.verbose, cli.log_level.as_deref()),
    );
    // Every verb: a panic message never prints a secret (the TUI installs
    // its own hook that also restores the terminal).
    qadeck::runtime::terminal::install_panic_hook(false);
    let theme = match &command {
        Some(Cmd::Demo { theme: Some(t), .. }) => Some(t.clone()),
        None | Some(Cmd::Demo { .. }) => cli.theme.clone(),
        Some(_) if cli.theme.is_some() => {
            return Err(usage(
                "--theme goes with the console: `qadeck --theme NAME` or `qadeck demo --theme NAME`",
            ));
        }
        Some(_) => None,
    };
    let mut ctx = Context::load(cli.config, cli.store, theme)?;
    ctx.log_path = Some(log);
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
            theme: _,
            show,
            show_file,
        }) => {
            ctx.show_listen = show.or(ctx.show_listen);
            ctx.show_file = show_file.or(ctx.show_file);
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(usage("--rate must be a number >= 0"));
            }
            if !(0.0..=1.0).contains(&fail_rate) {
                return Err(usage("--fail-rate must be between 0 and 1"));
            }
            let settings = DemoSettings {
                rate,
                seed,
                hostile,
                fail_rate,
                ..DemoSettings::default()
            };
            let duration = secs(duration)?;
            return commands::demo(
                ctx,
                DemoOptions {
                    settings,
                    headless,
                    duration,
                },
            )
            .await;
        }
        Some(Cmd::Stage { url }) => commands::stage::stage(&url, ctx.theme()?).await?,
        Some(Cmd::Watch { source, duration }) => {
            let source = source.filter(|s| s != "all");
            return commands::watch(ctx, source.as_deref(), secs(duration)?).await;
        }
        Some(Cmd::Moderate {
            source,
            stdin,
            dry_run,
            no_wait,
            timeout,
            args,
        }) => {
            let actions = if stdin {
                if !args.is_empty() {
                    return Err(usage(
                        "give actions either as arguments or with --stdin, not both",
                    ));
                }
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                commands::parse_action_lines(&text).map_err(|e| usage(format!("--stdin {e}")))?
            } else if args.len() == 2 {
                commands::parse_action_lines(&args.join(" "))
                    .map_err(|e| usage(e.to_string().replace("line 1: ", "")))?
            } else {
                return Err(usage("expected `ID ACTION` (or --stdin)"));
            };
            let timeout = secs(Some(timeout))?.unwrap_or_default();
            return commands::moderate(
                ctx,
                ModerateOptions {
                    source,
                    actions,
                    no_wait,
                    timeout,
                    dry_run,
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
                duration: secs(duration)?,
                timeout: secs(Some(timeout))?.unwrap_or_default(),
            };
            return Ok(status(commands::chat(ctx, opts).await?));
        }
        Some(Cmd::Export {
            source,
            what,
            format,
            bom,
            out,
            force,
            local,
            timeout,
        }) => {
            let (what, which) = match what {
                What::Questions | What::All => (ReportKind::Questions, Which::All),
                What::Answered => (ReportKind::Questions, Which::Answered),
                What::Unanswered => (ReportKind::Questions, Which::Unanswered),
                What::Chat => (ReportKind::Chat, Which::All),
            };
            let opts = ExportOptions {
                source,
                what,
                which,
                format: format.map(|f| match f {
                    ExportFormat::Ndjson => Format::Ndjson,
                    ExportFormat::Json => Format::Json,
                    ExportFormat::Csv => Format::Csv,
                    ExportFormat::Md => Format::Markdown,
                }),
                bom,
                out,
                local,
                timeout: secs(Some(timeout))?.unwrap_or_default(),
                force,
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
                _ if draft != EventDraft::default() => {
                    return Err(usage(
                        "--title, --description, --start, --end, --kind and --content-url go with --create or --update",
                    ));
                }
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
                    dry_run,
                },
        }) => {
            if rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
                return Err(usage("--rate must be a number of rows a second > 0"));
            }
            let ok = commands::people::import(
                ctx,
                ImportOptions {
                    source,
                    file,
                    json,
                    rate,
                    dry_run,
                },
            )
            .await?;
            return Ok(status(ok));
        }
        Some(Cmd::Journal {
            drop_waiting: Some(event),
            source,
            ..
        }) => commands::drop_waiting(ctx, source.as_deref(), &event)?,
        Some(Cmd::Journal { json, limit, .. }) => commands::journal(ctx, json, limit)?,
        Some(Cmd::Config {
            what: ConfigCmd::Check,
        }) => return commands::setup::check(&ctx).await,
        Some(Cmd::Config { .. } | Cmd::Completions { .. } | Cmd::Man) => {}
    }
    Ok(exit::OK)
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
        Ok(code) => ExitCode::from(code),
        // A signal ended the console: the shell's code for it (143 for SIGTERM).
        Err(e) if e.downcast_ref::<qadeck::runtime::tui::Stopped>().is_some() => {
            let code = e
                .downcast_ref::<qadeck::runtime::tui::Stopped>()
                .map_or(1, |s| s.exit_code());
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(e) => {
            eprintln!("error: {}", qadeck::secret::redact(&format!("{e:#}")));
            ExitCode::from(commands::exit_status(&e))
        }
    }
}

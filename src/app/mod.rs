//! The pure core: [`App`] state and [`App::update`], which turns one
//! [`Event`] into state changes and a list of [`Command`]s for the runtime.
//! No terminal, no network and no clock in here: time arrives in events.

pub mod action;
mod cursor;
pub mod elsewhere;
mod feeds;
pub mod groups;
mod input;
pub mod keymap;
pub mod layout;
mod marks;
mod merge;
mod moderation;
mod pager;
pub mod people;
pub mod queue;
mod session;
mod show;
mod triage;
mod update;
mod waiting;

#[cfg(test)]
mod key_tests;
#[cfg(test)]
mod tests;

pub use action::{ACTIONS, Action, ActionSpec, Group, SAVED_SEARCHES, Scope, in_scope};
pub use keymap::{KeyChord, KeyError, KeyMap};
pub use layout::PaneKind;
pub use moderation::{ModAction, Refusal};
pub use pager::{ERRORS_KEPT, ErrorEntry, LineKind, Pager, PagerLine, key_column};
pub use people::{FormField, InviteForm, PeopleConflict};
pub use queue::{Queue, SortBy};

use crate::domain::{
    Capabilities, Connection, EventInfo, LocalState, Marks, Message, Millis, MyVote, Op, OpReport,
    Participant, QKey, RateBudget, Role, ShowAction, ShowRefusal, SourceFeed, SourceId, Status,
};
use crate::triage::rules::{Flood, Rule};
use crate::triage::search::{Query, SavedSearch};
use ratatui_textarea::{Input, TextArea};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// Everything that can happen to the core.
#[derive(Debug, Clone)]
pub enum Event {
    Key(Input),
    /// Bracketed paste: goes into the open input, if any.
    Paste(String),
    /// Left click at a cell.
    Click {
        col: u16,
        row: u16,
    },
    Scroll {
        down: bool,
        col: u16,
        row: u16,
    },
    Resize {
        width: u16,
        height: u16,
    },
    Feed(SourceFeed),
    Op(OpReport),
    /// Time passes (toasts expire, countdowns tick).
    Tick {
        now: Millis,
    },
    /// A bounded step of the core's deferred work (duplicate grouping),
    /// handed over by the runtime between its batches while
    /// [`App::has_work`] says some waits.
    Work,
    /// Actions still queued in the outbox from an earlier run, and what
    /// this machine keeps for questions (local states, marks) and for
    /// participants (the role each had before qadeck promoted it).
    Restored {
        ops: Vec<QueuedOp>,
        local: Vec<(QKey, LocalState)>,
        marks: Vec<(QKey, Marks)>,
        roles: Vec<((SourceId, String), Role)>,
    },
    AccountInfo {
        source: SourceId,
        rows: Result<Vec<(String, String)>, String>,
    },
    Events {
        source: SourceId,
        events: Result<Vec<EventInfo>, String>,
    },
    /// What the runtime learned on its own side (store, provider building).
    Session(SessionEvent),
    /// A show controller's request (the show server's control API); the
    /// core answers with `Command::ShowDone` carrying the same `request`.
    Show {
        request: u64,
        action: ShowAction,
    },
}

/// News from the runtime that is not a feed or a delivery report.
#[derive(Debug, Clone)]
pub enum SessionEvent {
    /// The durable store refused a read or write: the whole message, shown
    /// as the last error.
    StoreFailed(String),
    /// A provider was built for the event the moderator picked.
    EventPicked {
        source: SourceId,
        caps: Capabilities,
    },
    /// Building the provider for a picked event failed.
    PickFailed { source: SourceId, reason: String },
    /// Actions queued for this source's other events (event id, count):
    /// they wait until that event is open again, or are dropped.
    Waiting {
        source: SourceId,
        waiting: Vec<(String, usize)>,
    },
    /// One source's local states as the shared store holds them, changed
    /// by another console on this machine: they replace this console's.
    SharedLocal {
        source: SourceId,
        states: Vec<(QKey, LocalState)>,
        /// The runtime's count of its own local writes when it read these
        /// (it drops a copy read before its latest write).
        seen: u64,
    },
}

/// An action waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedOp {
    pub op_id: String,
    pub source: SourceId,
    pub op: Op,
    /// Why, for the journal's queued line ("merge: kept demo/q3"); `None`
    /// for a plain action (and for actions restored from the outbox).
    pub note: Option<String>,
    /// Who decided it, for the journal, when not the moderator (a rule:
    /// `rule:profanity`).
    pub actor: Option<String>,
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Durably queue an action and deliver it to the source's platform.
    Send(QueuedOp),
    /// Persist this machine's state of a question.
    SaveLocal {
        key: QKey,
        local: LocalState,
    },
    /// Persist a question's marks (star, labels, a rule's hold); empty
    /// marks remove the stored row.
    SaveMarks {
        key: QKey,
        marks: Marks,
    },
    /// Persist the role a participant had before qadeck promoted it
    /// (`None`: forget it).
    SaveEarlierRole {
        source: SourceId,
        participant: String,
        role: Option<Role>,
    },
    RetryOp {
        op_id: String,
    },
    DropOp {
        op_id: String,
    },
    LoadAccountInfo(SourceId),
    LoadEvents(SourceId),
    /// Read the source's participants again and feed them back as
    /// `Feed::Participants` (after a conflict).
    LoadParticipants(SourceId),
    /// A show controller's request is carried out (or refused): publish
    /// the on-air state, then answer it.
    ShowDone {
        request: u64,
        result: Result<(), ShowRefusal>,
    },
    /// Start the source's feed on the picked event.
    PickEvent {
        source: SourceId,
        event: String,
    },
    /// Stop the process with the terminal restored, until resumed.
    Suspend,
    Quit,
}

/// One source as the UI sees it.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub name: String,
    pub caps: Capabilities,
    pub connection: Connection,
    pub budget: Option<RateBudget>,
    pub notice: Option<String>,
    pub questions_open: Option<bool>,
    pub chat_open: Option<bool>,
    /// False until an event is picked for a source that named none.
    pub has_event: bool,
    /// When a `Retrying` connection tries again (from `App::now`), for a
    /// live countdown.
    pub retry_at: Option<Millis>,
    /// Actions queued for the source's other events (event id, count),
    /// delivered only when that event is open.
    pub waiting: Vec<(String, usize)>,
    /// The event's title (or id) for the header.
    pub event: Option<String>,
}

impl SourceView {
    pub fn new(name: impl Into<String>, caps: Capabilities, has_event: bool) -> SourceView {
        SourceView {
            name: name.into(),
            caps,
            connection: Connection::Connecting,
            budget: None,
            notice: None,
            questions_open: None,
            chat_open: None,
            has_event,
            retry_at: None,
            waiting: Vec::new(),
            event: None,
        }
    }

    /// The connection in one phrase, with a retry counting down from `now`.
    pub fn describe_connection(&self, now: Millis) -> String {
        match (&self.connection, self.retry_at) {
            (Connection::Retrying { reason, .. }, Some(at)) => {
                format!("retrying in {}: {reason}", countdown(at, now))
            }
            (c, _) => c.describe(),
        }
    }
}

/// Whole seconds left until `at` ("12s"), rounded up; "now" once due.
pub fn countdown(at: Millis, now: Millis) -> String {
    let left = at.saturating_sub(now);
    if left <= 0 {
        "now".into()
    } else {
        // Seconds up to two minutes; past that minutes and seconds, so a
        // long `Retry-After` reads as "59m40s", not "3580s".
        let secs = (left as u64).div_ceil(1000);
        match secs {
            0..=120 => format!("{secs}s"),
            _ => format!("{}m{:02}s", secs / 60, secs % 60),
        }
    }
}

/// Cursor and scroll of one pane. Both are identities, not row numbers, so
/// arrivals above never move what the moderator is looking at.
#[derive(Debug, Clone, Default)]
pub struct PaneState {
    pub cursor: Option<QKey>,
    pub top: Option<queue::OrderKey>,
    /// Index-based cursor and top for chat and people panes.
    pub row: usize,
    pub top_row: usize,
}

/// An action on the way to a platform.
#[derive(Debug, Clone)]
pub struct Inflight {
    pub queued: QueuedOp,
    pub key: Option<QKey>,
    /// The last transient failure: attempt number and reason.
    pub retry: Option<(u32, String)>,
    /// When the outbox tries again (from `App::now`), for a live countdown
    /// (a 429 waits for `Retry-After`).
    pub retry_at: Option<Millis>,
}

/// A permanently failed action, kept until retried or dropped.
#[derive(Debug, Clone)]
pub struct Failed {
    pub queued: QueuedOp,
    pub reason: String,
}

/// The moderator's previous state of the questions one action touched.
#[derive(Debug, Clone)]
pub struct UndoEntry {
    pub label: String,
    pub steps: Vec<(QKey, Status, bool, MyVote)>,
}

/// What a text input is for.
#[derive(Debug, Clone, PartialEq)]
pub enum InputPurpose {
    Filter,
    Question {
        source: SourceId,
    },
    Chat {
        source: SourceId,
        reply_to: Option<String>,
    },
    /// Search in the people pane (name, e-mail).
    PeopleSearch,
    /// A participant's new name.
    RenameParticipant {
        source: SourceId,
        id: String,
    },
    /// A label to add to a question (or remove, when it has it).
    Label {
        key: QKey,
        /// What was typed before Tab started cycling through completions.
        typed: Option<String>,
    },
}

/// A modal text input.
#[derive(Debug, Clone)]
pub struct InputBox {
    pub purpose: InputPurpose,
    pub area: TextArea<'static>,
    /// Why the last submit was refused (shown under the input).
    pub error: Option<String>,
    /// A help line under the input when nothing was refused (completions).
    pub hint: Option<String>,
}

/// Overlays drawn over the main screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help(Pager),
    /// The last errors and refusals, whole.
    Errors(Pager),
    /// The stage view: the on-air question alone, as large as fits.
    Stage,
    ConfirmQuit,
    ConfirmDelete {
        key: QKey,
        preview: String,
    },
    ConfirmDeleteMessage {
        source: SourceId,
        id: String,
        preview: String,
    },
    ConfirmRemoveParticipant {
        source: SourceId,
        id: String,
        /// Name and e-mail, as shown.
        who: String,
    },
    Info {
        rows: Vec<(String, String)>,
    },
    /// A participant's invitation link alone on its line, to copy.
    Link {
        who: String,
        link: String,
    },
    Picker {
        source: SourceId,
        events: Option<Result<Vec<EventInfo>, String>>,
        row: usize,
    },
}

/// A short message that fades.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub until: Millis,
}

/// The whole state of a session.
pub struct App {
    pub sources: Vec<SourceView>,
    pub queue: Queue,
    pub keymap: KeyMap,
    pub focus: PaneKind,
    pub panes: HashMap<PaneKind, PaneState>,
    pub show_rejected: bool,
    pub filter: Option<String>,
    pub input: Option<InputBox>,
    pub overlay: Option<Overlay>,
    /// Feed events held back while frozen, and how many new questions they hold.
    pub frozen: Option<Vec<SourceFeed>>,
    pub frozen_new: HashSet<QKey>,
    pub inflight: BTreeMap<String, Inflight>,
    /// Reports that came before the core knew their action: an action
    /// restored from the store may be delivered before `Event::Restored`
    /// is handled. They are applied when it is (at most [`EARLY_REPORTS`]).
    early_reports: VecDeque<OpReport>,
    /// Actions answered lately (at most [`EARLY_REPORTS`]): a restore read
    /// before their answer must not bring them back in flight.
    settled: VecDeque<String>,
    pub failed: Vec<Failed>,
    /// Questions whose local state this session decided: a restore from
    /// the store (answered later, off the loop) never takes them back.
    saved_local: HashSet<QKey>,
    pub undo: Vec<UndoEntry>,
    pub toast: Option<Toast>,
    pub last_error: Option<String>,
    /// The last [`ERRORS_KEPT`] errors and refusals, oldest first.
    pub errors: VecDeque<ErrorEntry>,
    pub detail_scroll: u16,
    pub chat: Vec<Message>,
    pub people: Vec<Participant>,
    /// Search text of the people pane.
    pub people_filter: Option<String>,
    /// The open invite form.
    pub form: Option<InviteForm>,
    /// The last stale-version refusal, until retried or resolved.
    pub people_conflict: Option<PeopleConflict>,
    /// The role a participant had before qadeck made it moderator (a
    /// STREAMBOXY Speaker), so demoting gives that role back. Stored, so
    /// it outlives a restart: change it through `remember_role`.
    pub earlier_roles: HashMap<(SourceId, String), Role>,
    /// Participants whose earlier role changed since the last save.
    roles_unsaved: BTreeSet<(SourceId, String)>,
    /// Stars, labels and holds, only for questions that have any.
    pub marks: HashMap<QKey, Marks>,
    /// Duplicate groups (fed as questions arrive, change or go).
    pub groups: groups::Groups,
    /// The `[[rule]]`s every arriving question meets, in config order.
    pub rules: Vec<Rule>,
    /// The flood rules' recent arrivals per author.
    flood: Flood,
    /// Questions first seen during the current update, for the rules.
    arrived: Vec<QKey>,
    /// Held questions that left Pending during the current update (decided
    /// on the platform, deleted): their holds are over.
    unheld: Vec<QKey>,
    /// Who decides the actions queued now when it is not the moderator
    /// (`rule:NAME`), for the journal.
    acting: Option<String>,
    /// The search `filter` holds, parsed once when it was set.
    pub query: Option<Query>,
    /// The `[searches]` of the config, on the number keys.
    pub searches: Vec<SavedSearch>,
    /// The saved search the filter came from, shown by name.
    pub search_name: Option<String>,
    /// Questions whose marks this session set: a restore from the store
    /// never takes them back.
    saved_marks: HashSet<QKey>,
    /// Changes that did not come from this console, for a minute each.
    pub elsewhere: HashMap<QKey, elsewhere::Change>,
    /// This console's actions the platform confirmed lately, so the feed
    /// that echoes them is not taken for someone else's change.
    ours: HashMap<QKey, elsewhere::Ours>,
    /// Sources whose shared local states were read once: the first read
    /// is where this console starts, not another console's change.
    shared_seen: HashSet<SourceId>,
    pub now: Millis,
    pub size: (u16, u16),
    /// Session-unique prefix of action ids.
    session: String,
    next_op: u64,
    /// Keys of questions changed since the last `take_changes` (headless).
    changes: Option<Vec<QKey>>,
    pub quit: bool,
    /// Where this process logs, for the info view (given, never looked up).
    pub log_file: Option<String>,
}

/// How long a toast shows.
pub const TOAST_MS: Millis = 5_000;
/// Undo depth.
const UNDO_DEPTH: usize = 50;
/// Most reports kept for actions the core does not know yet, and most
/// answered actions remembered: more than a source's delivery pipeline can
/// answer before the store's restore is handled.
const EARLY_REPORTS: usize = 256;
/// Chat messages kept in memory per session.
pub const CHAT_KEEP: usize = 2_000;

impl App {
    /// `session` must be unique per process (it prefixes action ids that
    /// outlive the process in the outbox).
    pub fn new(sources: Vec<SourceView>, keymap: KeyMap, session: String, now: Millis) -> App {
        let mut app = App {
            sources,
            queue: Queue::default(),
            keymap,
            focus: PaneKind::Pending,
            panes: HashMap::new(),
            show_rejected: false,
            filter: None,
            input: None,
            overlay: None,
            frozen: None,
            frozen_new: HashSet::new(),
            inflight: BTreeMap::new(),
            early_reports: Default::default(),
            settled: Default::default(),
            failed: Vec::new(),
            saved_local: Default::default(),
            undo: Vec::new(),
            toast: None,
            last_error: None,
            errors: VecDeque::new(),
            detail_scroll: 0,
            chat: Vec::new(),
            people: Vec::new(),
            people_filter: None,
            form: None,
            people_conflict: None,
            earlier_roles: HashMap::new(),
            roles_unsaved: BTreeSet::new(),
            marks: HashMap::new(),
            groups: groups::Groups::default(),
            rules: Vec::new(),
            flood: Flood::default(),
            arrived: Vec::new(),
            unheld: Vec::new(),
            acting: None,
            query: None,
            searches: Vec::new(),
            search_name: None,
            saved_marks: HashSet::new(),
            elsewhere: HashMap::new(),
            ours: HashMap::new(),
            shared_seen: HashSet::new(),
            now,
            size: (80, 24),
            session,
            next_op: 0,
            changes: None,
            quit: false,
            log_file: None,
        };
        // A participants-only session starts in the people pane.
        app.focus = app.visible_panes()[0];
        let unbound: Vec<&str> = app.keymap.unbound().iter().map(|a| a.spec().name).collect();
        if !unbound.is_empty() {
            let text = format!(
                "warning: no key for {} ([keys]); the help marks them",
                unbound.join(", ")
            );
            app.record_error(None, &text);
            app.toast(text);
        }
        app
    }

    /// Names the log file in the info view.
    pub fn set_log_file(&mut self, path: String) {
        self.log_file = Some(path);
    }

    /// Records changed questions for a headless consumer.
    pub fn track_changes(&mut self) {
        self.changes = Some(Vec::new());
    }

    /// Changed questions, each once, in the order of their first change
    /// (a group's regrouping touches a question more than once).
    pub fn take_changes(&mut self) -> Vec<QKey> {
        let mut all = self
            .changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let mut seen = HashSet::with_capacity(all.len());
        all.retain(|k| seen.insert(k.clone()));
        all
    }

    /// Panes shown, in Tab order.
    pub fn visible_panes(&self) -> Vec<PaneKind> {
        let mut v = vec![PaneKind::Pending, PaneKind::Selected, PaneKind::Answered];
        if self.show_rejected {
            v.push(PaneKind::Rejected);
        }
        if self.sources.iter().any(|s| s.caps.chat) {
            v.push(PaneKind::Chat);
        }
        if self.sources.iter().any(|s| s.caps.participants) {
            v.push(PaneKind::People);
        }
        if !self.sources.iter().any(|s| s.caps.questions)
            && self.sources.iter().any(|s| s.caps.participants)
        {
            v.retain(|p| matches!(p, PaneKind::People | PaneKind::Chat));
        }
        v
    }

    pub fn screen(&self) -> layout::Screen {
        let panes: Vec<(PaneKind, u16)> = self
            .visible_panes()
            .into_iter()
            .map(|p| {
                let next_on_air = p == PaneKind::Selected && self.queue.count(Status::Selected) > 0;
                (p, if next_on_air { 2 } else { 1 })
            })
            .collect();
        layout::screen(
            ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1),
            &panes,
            self.focus,
        )
    }

    pub fn pane(&self, kind: PaneKind) -> PaneState {
        self.panes.get(&kind).cloned().unwrap_or_default()
    }

    /// The question under the cursor of the focused pane.
    pub fn current(&self) -> Option<&queue::Entry> {
        let key = self.panes.get(&self.focus)?.cursor.as_ref()?;
        self.queue.get(key)
    }

    pub fn source(&self, id: SourceId) -> Option<&SourceView> {
        self.sources.get(id.0 as usize)
    }

    pub fn source_name(&self, id: SourceId) -> &str {
        self.source(id).map_or("?", |s| s.name.as_str())
    }

    /// Whether a question shows: it passes the search and is not folded
    /// into its duplicate group's row.
    pub fn matches(&self, q: &crate::domain::Question) -> bool {
        self.searched(q) && !self.group_hides(q)
    }

    /// Whether a question passes the search (every one does without one).
    fn searched(&self, q: &crate::domain::Question) -> bool {
        match &self.query {
            None => true,
            Some(query) => query.matches(&self.facts(q, query.uses_marks())),
        }
    }

    fn new_op_id(&mut self) -> String {
        self.next_op += 1;
        format!("{}-{}", self.session, self.next_op)
    }

    fn toast(&mut self, text: impl Into<String>) {
        self.toast = Some(Toast {
            text: text.into(),
            until: self.now + TOAST_MS,
        });
    }

    fn changed(&mut self, key: &QKey) {
        if let Some(c) = self.changes.as_mut() {
            c.push(key.clone());
        }
    }

    /// Counts by status, for the header and the headless summary.
    pub fn counts(&self) -> [(Status, usize); 4] {
        Status::ALL.map(|s| (s, self.queue.count(s)))
    }

    /// Where a message composed in the chat pane goes: the source of the
    /// selected message, or the first source with chat when none is
    /// selected (or its source has no chat).
    pub fn chat_source(&self) -> Option<SourceId> {
        let row = self.pane(PaneKind::Chat).row;
        self.chat
            .get(row)
            .map(|m| m.source)
            .filter(|s| self.source(*s).is_some_and(|v| v.caps.chat))
            .or_else(|| {
                self.sources
                    .iter()
                    .position(|s| s.caps.chat)
                    .map(|i| SourceId(i as u16))
            })
    }

    /// Every source with chat and whether its chat is open (`None` while
    /// unknown), for the chat pane's title.
    pub fn chat_states(&self) -> Vec<(&str, Option<bool>)> {
        self.sources
            .iter()
            .filter(|s| s.caps.chat)
            .map(|s| (s.name.as_str(), s.chat_open))
            .collect()
    }

    pub fn people_source(&self) -> Option<SourceId> {
        self.sources
            .iter()
            .position(|s| s.caps.participants)
            .map(|i| SourceId(i as u16))
    }

    /// Actions queued for events that are not open now, as one status-bar
    /// phrase: "2 actions waiting for event B (+1 more event)".
    pub fn waiting_note(&self) -> Option<String> {
        let mut all = self.sources.iter().flat_map(|s| s.waiting.iter());
        let (event, n) = all.next()?;
        let more = match all.count() {
            0 => String::new(),
            1 => " (+1 more event)".to_string(),
            m => format!(" (+{m} more events)"),
        };
        let noun = if *n == 1 { "action" } else { "actions" };
        Some(format!("{n} {noun} waiting for event {event}{more}"))
    }

    /// Whether an action may be on its way with no answer yet (in flight
    /// and not waiting for a retry).
    pub fn awaiting_answers(&self) -> bool {
        self.inflight.values().any(|f| f.retry.is_none())
    }

    /// The action waiting longest for a retry: the one the status bar
    /// shows, and the one retry and drop act on when nothing has failed.
    pub fn longest_retry(&self) -> Option<&Inflight> {
        self.inflight
            .values()
            .filter(|f| f.retry.is_some())
            .max_by_key(|f| (f.retry_at.unwrap_or(Millis::MIN), f.queued.op_id.as_str()))
    }

    /// The action waiting longest for a retry, as one status-bar phrase
    /// with a countdown: "approve: rate limited (HTTP 429) — retry in 12s,
    /// kept queued (ctrl-r now · X drop)". `None` when nothing waits for a
    /// retry.
    pub fn retry_note(&self) -> Option<String> {
        let waiting = self.inflight.values().filter(|f| f.retry.is_some()).count();
        let f = self.longest_retry()?;
        let (_, reason) = f.retry.as_ref()?;
        let when = match f.retry_at {
            Some(at) if at > self.now => format!("retry in {}", countdown(at, self.now)),
            _ => "retrying now".to_string(),
        };
        let more = match waiting - 1 {
            0 => String::new(),
            n => format!(" (+{n} more)"),
        };
        Some(format!(
            "{}: {reason} — {when}, kept queued{more} ({} now · {} drop)",
            f.queued.op.label(),
            self.keymap.key_for(Action::Retry),
            self.keymap.key_for(Action::Drop)
        ))
    }

    fn push_undo(&mut self, entry: UndoEntry) {
        if self.undo.len() >= UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push(entry);
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_ascii() {
        let n = needle.as_bytes();
        hay.as_bytes()
            .windows(n.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(n))
    } else {
        hay.to_lowercase().contains(&needle.to_lowercase())
    }
}

/// Chat messages kept, oldest dropped first.
pub(crate) fn trim_chat(chat: &mut Vec<Message>) {
    if chat.len() > CHAT_KEEP {
        let extra = chat.len() - CHAT_KEEP;
        chat.drain(..extra);
    }
}

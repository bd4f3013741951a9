//! What a moderator can ask for, declared once. Each action has one row in
//! [`ACTIONS`]: its name in the config's `[keys]` table, its default keys,
//! its help line, its key-bar labels and the [`Scope`] it applies in. The
//! key map, the help overlay, the key bar and `[keys]` parsing all read this
//! table, so adding a key is one row here plus its handler.

/// Where an action applies. The key map resolves a key within the scope in
/// front of the moderator, so `y` confirms in a dialog and replies in the
/// main view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The panes (questions, chat, people); the help overlay lists these.
    Main,
    /// A yes/no question: quit, delete, remove. Any other key says no.
    Confirm,
    /// The event picker.
    Picker,
    /// The invite form, on any field.
    Form,
    /// The invite form, on a field that is switched rather than typed into.
    FormSwitch,
    /// A text input: keys bound here are taken, the rest are typed.
    Input,
    /// The stage view: only the keys that leave it.
    Stage,
}

/// One action's declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    pub action: Action,
    /// The name in the config's `[keys]` table.
    pub name: &'static str,
    pub scope: Scope,
    /// Default keys, as `[keys]` writes them.
    pub keys: &'static [&'static str],
    /// One line for the help overlay.
    pub help: &'static str,
    /// Key-bar label; empty means the help line.
    pub short: &'static str,
    /// Key-bar label in the people pane, where the action means something
    /// else there; empty means the same as elsewhere.
    pub people: &'static str,
}

macro_rules! actions {
    ($(
        $(#[$doc:meta])*
        $variant:ident $name:literal $scope:ident [$($key:literal),*]
            $help:literal $(, short $short:literal)? $(, people $people:literal)?;
    )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        /// Every action, in declaration order (the help overlay's order).
        pub const ACTIONS: &[ActionSpec] = &[$(ActionSpec {
            action: Action::$variant,
            name: $name,
            scope: Scope::$scope,
            keys: &[$($key),*],
            help: $help,
            short: actions!(@or $($short)?),
            people: actions!(@or $($people)?),
        },)*];
    };
    (@or $text:literal) => { $text };
    (@or) => { "" };
}

actions! {
    Down "down" Main ["j", "down"] "move down";
    Up "up" Main ["k", "up"] "move up";
    PageDown "page_down" Main ["pgdn", "ctrl-d"] "page down";
    PageUp "page_up" Main ["pgup", "ctrl-u"] "page up";
    Top "top" Main ["g", "home"] "first item";
    Bottom "bottom" Main ["G", "end"] "last item";
    NextPane "next_pane" Main ["tab", "l", "right"] "next pane";
    PrevPane "prev_pane" Main ["shift-tab", "h", "left"] "previous pane";
    Approve "approve" Main ["a"] "approve (select)", short "approve";
    Reject "reject" Main ["r"] "reject", short "reject";
    Answered "answered" Main ["d"] "mark answered", short "answered";
    OnAir "on_air" Main ["o"] "put on air (one at a time)", short "on air";
    Next "next" Main ["n"] "next: answer the on-air one, air the top selected", short "next";
    MoveUp "move_up" Main ["+"] "selected queue: move up";
    MoveDown "move_down" Main ["-"] "selected queue: move down";
    Stage "stage" Main ["S"] "stage view (on air, big)";
    Pending "pending" Main ["p"] "back to pending", short "pending";
    Undo "undo" Main ["u"] "undo the last action", short "undo";
    Vote "vote" Main ["v"] "vote / unvote (up)", short "vote";
    VoteDown "vote_down" Main ["V"] "vote down (where the platform has it)";
    Freeze "freeze" Main ["f"] "freeze incoming (count what arrives)", short "freeze";
    Filter "filter" Main ["/"] "filter by text (search in the people pane)",
        short "filter", people "search";
    Sort "sort" Main ["s"] "sort by time / votes", short "sort";
    ToggleRejected "toggle_rejected" Main ["R"] "show / hide rejected";
    Delete "delete" Main ["D", "del"] "delete / remove a participant (asks first)",
        short "delete", people "remove";
    Compose "compose" Main ["c"] "type a question or chat message; invite in people",
        short "write", people "invite";
    Reply "reply" Main ["y"] "reply to the chat message";
    Promote "promote" Main ["P"] "chat message → question queue";
    /// People pane: promote a participant to moderator, or demote one.
    ToggleModerator "toggle_moderator" Main ["m"] "people: promote / demote moderator",
        people "promote/demote";
    /// People pane: renew the participant's invitation link.
    RenewLink "renew_link" Main ["L"] "people: renew the invitation link",
        people "renew link";
    /// People pane: the invitation link alone on a full-width line, to copy.
    ShowLink "show_link" Main ["enter"] "people: show the link full width, to copy",
        people "link";
    ToggleOpen "toggle_open" Main ["O"] "open / close the event for questions";
    Info "info" Main ["i"] "source and account info";
    PickEvent "pick_event" Main ["E"] "pick the event of a source that names none";
    Retry "retry" Main ["ctrl-r"] "retry a failed action";
    Drop "drop" Main ["X"] "drop a failed action";
    DetailDown "detail_down" Main ["J", "ctrl-e"] "scroll detail down";
    DetailUp "detail_up" Main ["K", "ctrl-y"] "scroll detail up";
    Help "help" Main ["?", "f1"] "this help", short "help";
    Quit "quit" Main ["q", "ctrl-c"] "quit", short "quit";

    /// Says yes to a confirmation dialog; any other key says no.
    Confirm "confirm" Confirm ["y", "Y"] "confirm: yes, quit / delete / remove";

    PickerDown "picker_down" Picker ["j", "down"] "event picker: move down";
    PickerUp "picker_up" Picker ["k", "up"] "event picker: move up";
    PickerChoose "picker_choose" Picker ["enter"] "event picker: pick this event";
    /// Closes the picker without a pick; the source says how to pick later.
    PickerLater "picker_later" Picker ["esc", "q"] "event picker: pick later";

    FormSend "form_send" Form ["enter"] "invite form: send the invitation";
    FormCancel "form_cancel" Form ["esc"] "invite form: cancel";
    FormNextField "form_next_field" Form ["tab", "down"] "invite form: next field";
    FormPrevField "form_prev_field" Form ["shift-tab", "up"] "invite form: previous field";
    /// The next value of a switched field (the previous source with
    /// [`Action::FormSwitchBack`]).
    FormSwitch "form_switch" FormSwitch ["space", "right"] "invite form: switch the field";
    FormSwitchBack "form_switch_back" FormSwitch ["left"] "invite form: switch back";
    FormYes "form_yes" FormSwitch ["y", "Y"] "invite form: turn the switch on";
    FormNo "form_no" FormSwitch ["n", "N"] "invite form: turn the switch off";
    FormModerator "form_moderator" FormSwitch ["m", "M"] "invite form: invite as moderator";
    FormParticipant "form_participant" FormSwitch ["p", "P"] "invite form: invite as participant";

    StageBack "stage_back" Stage ["S", "esc"] "stage view: back to the console";

    InputSend "input_send" Input ["enter"] "text input: send / keep it";
    InputCancel "input_cancel" Input ["esc"] "text input: cancel / clear";
}

/// The actions of a scope, in declaration order: for `Scope::Main` the
/// help overlay's order.
pub fn in_scope(scope: Scope) -> impl Iterator<Item = &'static ActionSpec> {
    ACTIONS.iter().filter(move |a| a.scope == scope)
}

impl Action {
    /// The action's row in [`ACTIONS`].
    pub fn spec(self) -> &'static ActionSpec {
        // Rows are declared in variant order by the macro.
        &ACTIONS[self as usize]
    }

    /// The action a `[keys]` name stands for.
    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|s| s.name == name).map(|s| s.action)
    }

    /// Where the action applies.
    pub fn scope(self) -> Scope {
        self.spec().scope
    }
}

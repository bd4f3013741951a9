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
    /// A scrollable overlay: the help and the error list.
    Pager,
    /// The stage view: only the keys that leave it.
    Stage,
}

impl Scope {
    /// The scope as a moderator names it, for key-map conflicts.
    pub fn view(self) -> &'static str {
        match self {
            Scope::Main => "the main view",
            Scope::Confirm => "confirmation dialogs",
            Scope::Picker => "the event picker",
            Scope::Form => "the invite form",
            Scope::FormSwitch => "the invite form's switches",
            Scope::Input => "text inputs",
            Scope::Pager => "the help and the error list",
            Scope::Stage => "the stage view",
        }
    }
}

/// Where an action is listed in the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Navigation,
    Moderation,
    OnAir,
    Chat,
    People,
    Views,
    Pager,
    Dialogs,
}

impl Group {
    /// Every group, in the help overlay's order.
    pub const ALL: [Group; 8] = [
        Group::Navigation,
        Group::Moderation,
        Group::OnAir,
        Group::Chat,
        Group::People,
        Group::Views,
        Group::Pager,
        Group::Dialogs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Navigation => "navigation",
            Group::Moderation => "moderation",
            Group::OnAir => "on air",
            Group::Chat => "chat",
            Group::People => "people",
            Group::Views => "views",
            Group::Pager => "in the help and the error list",
            Group::Dialogs => "dialogs, event picker, invite form, text input",
        }
    }
}

/// One action's declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    pub action: Action,
    /// The name in the config's `[keys]` table.
    pub name: &'static str,
    pub scope: Scope,
    /// The help overlay's heading it is listed under.
    pub group: Group,
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
        $variant:ident $name:literal $scope:ident $group:ident [$($key:literal),*]
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
            group: Group::$group,
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
    Down "down" Main Navigation ["j", "down"] "move down";
    Up "up" Main Navigation ["k", "up"] "move up";
    PageDown "page_down" Main Navigation ["pgdn", "ctrl-d"] "page down";
    PageUp "page_up" Main Navigation ["pgup", "ctrl-u"] "page up";
    Top "top" Main Navigation ["g", "home"] "first item";
    Bottom "bottom" Main Navigation ["G", "end"] "last item";
    NextPane "next_pane" Main Navigation ["tab", "l", "right"] "next pane";
    PrevPane "prev_pane" Main Navigation ["shift-tab", "h", "left"] "previous pane";
    Approve "approve" Main Moderation ["a"] "approve (select)", short "approve";
    Reject "reject" Main Moderation ["r"] "reject", short "reject";
    Answered "answered" Main Moderation ["d"] "mark answered", short "answered";
    OnAir "on_air" Main OnAir ["o"] "put on air (one at a time)", short "on air";
    Next "next" Main OnAir ["n"] "next: answer the on-air one, air the top selected", short "next";
    MoveUp "move_up" Main OnAir ["+"] "selected queue: move up";
    MoveDown "move_down" Main OnAir ["-"] "selected queue: move down";
    Stage "stage" Main OnAir ["S"] "stage view (on air, big)";
    Pending "pending" Main Moderation ["p"] "back to pending", short "pending";
    Undo "undo" Main Moderation ["u"] "undo the last action, or a rule's decision on this question", short "undo";
    Vote "vote" Main Moderation ["v"] "vote / unvote (up)", short "vote";
    VoteDown "vote_down" Main Moderation ["V"] "vote down (where the platform has it)";
    /// Duplicates: the group under the cursor shows its members, or folds.
    Expand "expand" Main Moderation ["z"] "duplicates: expand / fold the group", short "group";
    /// Duplicates: keep one (the best-voted, or the member under the cursor
    /// in an expanded group), reject the others on their platforms.
    Merge "merge" Main Moderation ["M"] "duplicates: merge (keep one, reject the others)",
        short "merge";
    Freeze "freeze" Main Moderation ["f"] "freeze incoming (count what arrives)", short "freeze";
    Filter "filter" Main Views ["/"] "search: words, \"phrases\", -word, terms such as state: votes> age< is: label: (people: by name)",
        short "filter", people "search";
    /// The saved searches of `[searches]`, in file order.
    Search1 "search_1" Main Views ["1"] "saved search 1 ([searches]; again: off)";
    Search2 "search_2" Main Views ["2"] "saved search 2 ([searches]; again: off)";
    Search3 "search_3" Main Views ["3"] "saved search 3 ([searches]; again: off)";
    Search4 "search_4" Main Views ["4"] "saved search 4 ([searches]; again: off)";
    Search5 "search_5" Main Views ["5"] "saved search 5 ([searches]; again: off)";
    Search6 "search_6" Main Views ["6"] "saved search 6 ([searches]; again: off)";
    Search7 "search_7" Main Views ["7"] "saved search 7 ([searches]; again: off)";
    Search8 "search_8" Main Views ["8"] "saved search 8 ([searches]; again: off)";
    Search9 "search_9" Main Views ["9"] "saved search 9 ([searches]; again: off)";
    Sort "sort" Main Views ["s"] "sort by time / votes", short "sort";
    ToggleRejected "toggle_rejected" Main Views ["R"] "show / hide rejected";
    Delete "delete" Main Moderation ["D", "del"] "delete / remove a participant (asks first)",
        short "delete", people "remove";
    Compose "compose" Main Chat ["c"] "type a question or chat message; invite in people",
        short "write", people "invite";
    Reply "reply" Main Chat ["y"] "reply to the chat message";
    Promote "promote" Main Chat ["P"] "chat message → question queue";
    /// People pane: promote a participant to moderator, or demote one.
    ToggleModerator "toggle_moderator" Main People ["m"] "people: promote / demote moderator",
        people "promote/demote";
    /// People pane: rename the participant (only the name is sent).
    Rename "rename" Main People ["e"] "people: rename the participant",
        people "rename";
    /// People pane: renew the participant's invitation link.
    RenewLink "renew_link" Main People ["L"] "people: renew the invitation link",
        people "renew link";
    /// People pane: the invitation link alone on a full-width line, to copy.
    ShowLink "show_link" Main People ["enter"] "people: show the link full width, to copy",
        people "link";
    /// Stars the question, or takes the star away (local, durable).
    Star "star" Main Moderation ["*"] "star / unstar the question (local)";
    /// A label to add, or remove when the question has it (local, durable).
    Label "label" Main Moderation ["#"] "add / remove a label (Tab completes)";
    ToggleOpen "toggle_open" Main Moderation ["O"] "open / close the event for questions";
    Info "info" Main Views ["i"] "source and account info";
    PickEvent "pick_event" Main Views ["E"] "pick the event of a source that names none";
    Retry "retry" Main Moderation ["ctrl-r"] "retry a stuck action now";
    Drop "drop" Main Moderation ["X"] "drop a stuck action";
    DetailDown "detail_down" Main Navigation ["J", "ctrl-e"] "scroll detail down";
    DetailUp "detail_up" Main Navigation ["K", "ctrl-y"] "scroll detail up";
    /// The last errors and refusals, whole, with time and source.
    Errors "errors" Main Views ["!"] "the error list: the last 100 errors and refusals, whole",
        short "errors";
    /// Stops qadeck with the terminal restored (`fg` brings it back).
    Suspend "suspend" Main Views ["ctrl-z"] "suspend to the shell (fg resumes)";
    Help "help" Main Views ["?", "f1"] "this help", short "help";
    Quit "quit" Main Views ["q", "ctrl-c"] "quit", short "quit";

    /// Says yes to a confirmation dialog; any other key says no.
    Confirm "confirm" Confirm Dialogs ["y", "Y"] "confirm: yes, quit / delete / remove";

    PickerDown "picker_down" Picker Dialogs ["j", "down"] "event picker: move down";
    PickerUp "picker_up" Picker Dialogs ["k", "up"] "event picker: move up";
    PickerChoose "picker_choose" Picker Dialogs ["enter"] "event picker: pick this event";
    /// Closes the picker without a pick; the source says how to pick later.
    PickerLater "picker_later" Picker Dialogs ["esc", "q"] "event picker: pick later";

    FormSend "form_send" Form Dialogs ["enter"] "invite form: send the invitation";
    FormCancel "form_cancel" Form Dialogs ["esc"] "invite form: cancel";
    FormNextField "form_next_field" Form Dialogs ["tab", "down"] "invite form: next field";
    FormPrevField "form_prev_field" Form Dialogs ["shift-tab", "up"] "invite form: previous field";
    /// The next value of a switched field (the previous source with
    /// [`Action::FormSwitchBack`]).
    FormSwitch "form_switch" FormSwitch Dialogs ["space", "right"] "invite form: switch the field";
    FormSwitchBack "form_switch_back" FormSwitch Dialogs ["left"] "invite form: switch back";
    FormYes "form_yes" FormSwitch Dialogs ["y", "Y"] "invite form: turn the switch on";
    FormNo "form_no" FormSwitch Dialogs ["n", "N"] "invite form: turn the switch off";
    FormModerator "form_moderator" FormSwitch Dialogs ["m", "M"] "invite form: invite as moderator";
    FormParticipant "form_participant" FormSwitch Dialogs ["p", "P"] "invite form: invite as participant";

    StageBack "stage_back" Stage Dialogs ["S", "esc"] "stage view: back to the console";

    InputSend "input_send" Input Dialogs ["enter"] "text input: send / keep it";
    InputCancel "input_cancel" Input Dialogs ["esc"] "text input: cancel / clear";
    /// In the label input: the next label in use that starts with the text.
    InputComplete "input_complete" Input Dialogs ["tab"] "text input: complete a label";

    PagerDown "pager_down" Pager Pager ["j", "down"] "scroll down a line";
    PagerUp "pager_up" Pager Pager ["k", "up"] "scroll up a line";
    PagerPageDown "pager_page_down" Pager Pager ["pgdn", "ctrl-d", "space"] "scroll down a page";
    PagerPageUp "pager_page_up" Pager Pager ["pgup", "ctrl-u"] "scroll up a page";
    PagerTop "pager_top" Pager Pager ["g", "home"] "to the top";
    PagerBottom "pager_bottom" Pager Pager ["G", "end"] "to the bottom";
    /// Typed text keeps the lines that contain it; Enter keeps it, Esc clears.
    PagerSearch "pager_search" Pager Pager ["/"] "search: show only the lines with the text";
    PagerClose "pager_close" Pager Pager ["esc", "q", "?"] "close";
}

/// The actions of a scope, in declaration order: for `Scope::Main` the
/// help overlay's order.
pub fn in_scope(scope: Scope) -> impl Iterator<Item = &'static ActionSpec> {
    ACTIONS.iter().filter(move |a| a.scope == scope)
}

/// The number keys' actions: saved search 1 to 9.
pub const SAVED_SEARCHES: [Action; 9] = [
    Action::Search1,
    Action::Search2,
    Action::Search3,
    Action::Search4,
    Action::Search5,
    Action::Search6,
    Action::Search7,
    Action::Search8,
    Action::Search9,
];

impl Action {
    /// Which saved search (1-based) the action picks, if it is one.
    pub fn saved_search(self) -> Option<usize> {
        SAVED_SEARCHES
            .iter()
            .position(|a| *a == self)
            .map(|i| i + 1)
    }

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

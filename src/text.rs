//! Sanitizing untrusted text, once, at ingest. Everything the audience
//! writes passes through [`sanitize`] before it is stored, so no widget, log
//! line or NDJSON consumer ever sees a raw control character.
//!
//! Rules: escape sequences (CSI, OSC — including OSC 52 clipboard writes —,
//! DCS, SOS/PM/APC and two-byte ESC forms) become a visible `␛` placeholder
//! with a short, harmless preview; other C0 controls become their Unicode
//! control pictures, DEL becomes `␡`, C1 controls and bidi overrides/isolates
//! become `�`; tabs become spaces; CR and CRLF become LF. Emoji sequences,
//! combining marks and wide characters pass through unchanged.
//!
//! Drawing ([`one_line`], [`wrap`], [`for_terminal`]) shows emoji sequences
//! whose width terminals disagree on (ZWJ sequences, skin-tone modifiers,
//! VS16, keycaps, tag flags, regional-indicator flags) as what every
//! terminal draws alike: the base emoji, or a flag's letters, so no border
//! or column moves in tmux, VTE or xterm.

use std::borrow::Cow;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

mod clusters;
pub use clusters::graphemes;

/// Texts are capped here at ingest so one hostile question cannot eat memory.
pub const MAX_TEXT_BYTES: usize = 128 * 1024;
/// How many characters of an escape sequence the placeholder shows.
const PREVIEW: usize = 6;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&c)
}

/// Visible stand-in for one control character (never a control itself).
fn picture(c: char) -> char {
    match c {
        '\u{7f}' => '\u{2421}',
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        _ => '\u{fffd}',
    }
}

/// Makes untrusted text safe to store, print and draw.
pub fn sanitize(input: &str) -> String {
    sanitized(input).into_owned()
}

/// [`sanitize`] without a copy of a text that is safe already (most are):
/// borrowed then, owned only when something had to change.
pub fn sanitized(input: &str) -> Cow<'_, str> {
    if input.len() <= MAX_TEXT_BYTES && is_terminal_safe(input) {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(rewrite(input))
    }
}

/// The rewriting itself, character by character.
fn rewrite(input: &str) -> String {
    let mut out = String::with_capacity(input.len().min(MAX_TEXT_BYTES));
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() >= MAX_TEXT_BYTES {
            let rest = chars.count() + 1;
            out.push_str(&format!(" … [{rest} more characters cut]"));
            break;
        }
        match c {
            ESC => push_escape(&mut out, &mut chars),
            '\t' => out.push(' '),
            '\n' => out.push('\n'),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            c if is_bidi_control(c) => out.push('\u{fffd}'),
            c if (c as u32) < 0x20 || c == '\u{7f}' || is_c1(c) => out.push(picture(c)),
            c => out.push(c),
        }
    }
    out
}

/// Bytes that may not be UTF-8 (invalid sequences become U+FFFD first).
pub fn sanitize_bytes(input: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(input))
}

/// Consumes one escape sequence after ESC and writes its placeholder.
fn push_escape(out: &mut String, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut seq = String::new();
    match chars.peek().copied() {
        // CSI: parameters and intermediates, then one final byte 0x40..=0x7E.
        Some('[') => {
            seq.push(chars.next().unwrap_or('['));
            while let Some(&c) = chars.peek() {
                if c == ESC || (c as u32) < 0x20 {
                    break;
                }
                chars.next();
                seq.push(c);
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        // String sequences: OSC, DCS, SOS, PM, APC, ended by BEL or ST.
        Some(k @ (']' | 'P' | 'X' | '^' | '_')) => {
            chars.next();
            seq.push(k);
            while let Some(c) = chars.next() {
                if c == BEL || c == '\u{9c}' {
                    break;
                }
                if c == ESC {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
                seq.push(c);
            }
        }
        // Two-character forms (ESC 7, ESC c, charset selects ESC ( B ...).
        Some(c) if !c.is_control() && c != ESC => {
            chars.next();
            seq.push(c);
            if matches!(c, '(' | ')' | '*' | '+' | '#' | '%')
                && let Some(&n) = chars.peek()
                && !n.is_control()
            {
                chars.next();
                seq.push(n);
            }
        }
        _ => {}
    }
    out.push('\u{241b}');
    let preview: String = seq
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(PREVIEW)
        .collect();
    out.push_str(&preview);
    if seq.chars().count() > PREVIEW {
        out.push('…');
    }
}

/// True when `s` holds nothing a terminal would interpret.
pub fn is_terminal_safe(s: &str) -> bool {
    // A byte at a time: in UTF-8 every character `sanitize` rewrites starts
    // with a byte below 0x20, DEL, or the lead byte of C1 (0xC2) or of the
    // bidi controls (0xE2), so most characters are passed over unread.
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    for (i, &x) in b.iter().enumerate() {
        let unsafe_here = match x {
            b'\n' => false,
            0x00..=0x1f | 0x7f => true,
            // U+0080..U+009F
            0xc2 => at(i + 1) <= 0x9f,
            // U+202A..U+202E, U+2066..U+2069
            0xe2 => matches!(
                (at(i + 1), at(i + 2)),
                (0x80, 0xaa..=0xae) | (0x81, 0xa6..=0xa9)
            ),
            _ => false,
        };
        if unsafe_here {
            return false;
        }
    }
    true
}

fn is_emoji_base(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x2300..=0x23FF)
}

/// Marks that change an emoji's width in some terminals and not others.
fn is_width_mark(c: char) -> bool {
    matches!(c as u32, 0xFE0E | 0xFE0F | 0x1F3FB..=0x1F3FF | 0x20E3 | 0xE0020..=0xE007F)
}

fn is_regional(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// One grapheme as terminals agree to draw it (see the module doc).
fn grapheme_for_terminal(g: &str) -> Cow<'_, str> {
    use std::borrow::Cow;
    let mut chars = g.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !is_regional(c) && !is_width_mark(c) => return Cow::Borrowed(g),
        _ if g.chars().all(|c| (c as u32) < 0x200D) => return Cow::Borrowed(g),
        _ => {}
    }
    if g.chars().any(is_regional) {
        let letters: String = g
            .chars()
            .filter(|c| is_regional(*c))
            .filter_map(|c| char::from_u32(c as u32 - 0x1F1E6 + 'A' as u32))
            .collect();
        return Cow::Owned(format!("[{letters}]"));
    }
    let first = g.chars().next().unwrap_or(' ');
    let emoji = is_emoji_base(first) || g.contains('\u{20E3}');
    if !emoji || !g.chars().any(|c| c == '\u{200D}' || is_width_mark(c)) {
        return Cow::Borrowed(g);
    }
    // The base emoji: what comes before the first joiner, without marks.
    Cow::Owned(
        g.split('\u{200D}')
            .next()
            .unwrap_or(g)
            .chars()
            .filter(|c| !is_width_mark(*c))
            .collect(),
    )
}

/// Text as it is drawn: emoji sequences of disputed width become their
/// base emoji (or a flag's letters, `[DE]`).
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| (c as u32) < 0x200D) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(graphemes(s).map(grapheme_for_terminal).collect())
}

/// Display width in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// The width of one grapheme, without a table lookup for printable ASCII.
fn cells(g: &str) -> usize {
    match g.as_bytes() {
        [b' '..=b'~'] => 1,
        _ => UnicodeWidthStr::width(g),
    }
}

/// One line of at most `max` cells: newlines become `⏎`, excess is cut at a
/// grapheme boundary and marked with `…`. Work is bounded by `max`, not by the
/// length of the text, so huge questions cost nothing in lists.
pub fn one_line(s: &str, max: usize) -> String {
    one_line_cut(s, max).0
}

/// [`one_line`], also telling whether the text was cut.
pub fn one_line_cut(s: &str, max: usize) -> (String, bool) {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    let cut = one_line_each(s, max, |g, _| out.push_str(g));
    (out, cut)
}

/// [`one_line`] cluster by cluster, for who draws it straight into cells:
/// `emit` gets each cluster as drawn (the `…` too), with its width when
/// it is one printable character that needs no more looking at (its
/// width the same by every count); returns whether the text was cut.
pub fn one_line_each(s: &str, max: usize, mut emit: impl FnMut(&str, Option<usize>)) -> bool {
    let mut used = 0;
    let mut clusters = graphemes(s);
    while let Some((g, lone)) = clusters.next_lone() {
        // Keep one cell for the ellipsis unless this grapheme ends the text.
        let room = if clusters.is_done() {
            max
        } else {
            max.saturating_sub(1)
        };
        let plain = lone
            .filter(|c| !c.is_control())
            .and_then(unicode_width::UnicodeWidthChar::width);
        let (g, w) = match plain {
            Some(w) => (Cow::Borrowed(g), w),
            None if g == "\n" => ("⏎".into(), cells("⏎")),
            None => {
                let g = grapheme_for_terminal(g);
                let w = cells(&g);
                (g, w)
            }
        };
        if used + w > room {
            if max > 0 {
                emit("…", None);
            }
            return true;
        }
        emit(&g, plain);
        used += w;
    }
    false
}

/// Wraps text to `width` cells per line (words where possible, graphemes
/// otherwise). Used by the detail pane; each line is at most `width` wide.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let s = &*for_terminal(s);
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split_word_bounds() {
            let w = UnicodeWidthStr::width(word);
            if used + w <= width {
                line.push_str(word);
                used += w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                used = 0;
            }
            let word = if used == 0 { word.trim_start() } else { word };
            for g in word.graphemes(true) {
                let gw = UnicodeWidthStr::width(g);
                if used + gw > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push_str(g);
                used += gw;
            }
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_placeholders() {
        let s = sanitize("a\x1b[2Jb");
        assert_eq!(s, "a␛[2Jb");
        let s = sanitize("x\x1b]52;c;cm0gLXJmIH4vKgo=\x07y");
        assert!(s.starts_with("x␛]52;c;") && s.ends_with("…y"), "{s}");
        assert!(is_terminal_safe(&s));
        let s = sanitize("d\x1bP1$qm\x1b\\e");
        assert_eq!(s, "d␛P1$qme");
    }

    #[test]
    fn controls_bidi_tabs_and_newlines() {
        assert_eq!(sanitize("a\0b\x07c\x7fd"), "a␀b␇c␡d");
        assert_eq!(sanitize("\u{9b}31m"), "�31m");
        assert_eq!(sanitize("x\u{202e}y\u{2066}z"), "x�y�z");
        assert_eq!(sanitize("a\tb\r\nc\rd"), "a b\nc\nd");
    }

    #[test]
    fn a_safe_text_is_borrowed_and_anything_else_rewritten() {
        let safe = "Will the slides be shared? 次の e\u{301}\nthanks";
        assert!(matches!(sanitized(safe), Cow::Borrowed(s) if s == safe));
        for unsafe_text in ["a\tb", "a\r\nb", "x\u{202e}y", "\u{1b}[2J", "\u{9b}"] {
            assert!(
                matches!(sanitized(unsafe_text), Cow::Owned(_)),
                "{unsafe_text:?}"
            );
        }
        let long = "a".repeat(MAX_TEXT_BYTES + 1);
        assert!(sanitized(&long).ends_with("[1 more characters cut]"));
    }

    /// What `is_terminal_safe` means, a character at a time.
    fn safe_by_chars(s: &str) -> bool {
        !s.chars().any(|c| {
            c == ESC
                || (c as u32) < 0x20 && c != '\n'
                || c == '\u{7f}'
                || is_c1(c)
                || is_bidi_control(c)
        })
    }

    proptest::proptest! {
        #[test]
        fn the_byte_scan_finds_what_the_characters_say(
            s in "[a-z\\n\\x00-\\x1f\\x7f\\u{80}-\\u{a0}\\u{2000}-\\u{2070}é次👍]{0,24}"
        ) {
            proptest::prop_assert_eq!(is_terminal_safe(&s), safe_by_chars(&s));
        }

        #[test]
        fn the_fast_path_says_what_the_rewrite_says(
            s in "[a-z ~\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}é次👍]{0,24}"
        ) {
            let (fast, slow) = (sanitized(&s), rewrite(&s));
            proptest::prop_assert_eq!(fast.as_ref(), slow.as_str());
        }
    }

    #[test]
    fn meaning_and_width_survive() {
        let family = "👨‍👩‍👧‍👦 café 次の e\u{301}";
        assert_eq!(sanitize(family), family);
        assert_eq!(width("次の"), 4);
    }

    #[test]
    fn emoji_of_disputed_width_are_drawn_as_their_base() {
        // ZWJ family, skin tone, VS16 heart, keycap, flag, tag flag.
        let cases = [
            ("👨‍👩‍👧‍👦", "👨"),
            ("👍🏽", "👍"),
            ("❤️", "❤"),
            ("#️⃣", "#"),
            ("🇩🇪", "[DE]"),
            (
                "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
                "🏴",
            ),
            ("👩🏽‍💻 ok", "👩 ok"),
        ];
        for (text, drawn) in cases {
            assert_eq!(for_terminal(text), drawn, "{text}");
            assert_eq!(one_line(text, 20), drawn, "{text}");
            assert_eq!(wrap(text, 20), vec![drawn.to_string()], "{text}");
        }
        // Scripts that join with ZWJ keep it.
        let hindi = "क्\u{200D}ष";
        assert_eq!(for_terminal(hindi), hindi);
        assert_eq!(for_terminal("café 次の"), "café 次の");
    }

    #[test]
    fn huge_text_is_capped() {
        let s = sanitize(&"x".repeat(1_000_000));
        assert!(s.len() < MAX_TEXT_BYTES + 64);
        assert!(s.ends_with("characters cut]"));
    }

    #[test]
    fn one_line_cuts_by_width() {
        assert_eq!(one_line("hello world", 5), "hell…");
        assert_eq!(one_line("次の次の", 5), "次の…");
        assert_eq!(one_line("a\nb", 10), "a⏎b");
        assert!(width(&one_line(&"👨‍👩‍👧‍👦".repeat(50), 9)) <= 9);
    }

    #[test]
    fn wrap_respects_width() {
        let lines = wrap("the quick brown fox jumps over the lazy dog", 10);
        assert!(lines.iter().all(|l| width(l) <= 10), "{lines:?}");
        assert_eq!(
            lines.join(" "),
            "the quick brown fox jumps over the lazy dog"
        );
        let cjk = wrap(&"次".repeat(11), 4);
        assert!(cjk.iter().all(|l| width(l) <= 4));
    }
}

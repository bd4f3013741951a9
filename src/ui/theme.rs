//! Themes: TOML files built into the binary (`themes/*.toml`), overridable
//! by a file of the same name in `<config dir>/themes/`. A user file may set
//! any subset of the colours over a built-in one (`extends = "dark"`; a file
//! named like a built-in extends it). `NO_COLOR` keeps the layout and
//! emphasis but drops every color; `#rrggbb` colours are sent as 24-bit only
//! where `COLORTERM` says the terminal has them, else as the nearest of the
//! 256 or 16 colours.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::{Path, PathBuf};

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Names of the built-in themes.
pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// A built-in theme whose colours this file overrides.
    extends: Option<String>,
    #[serde(default)]
    colors: PartialColors,
}

/// Colours as a file writes them: any may be left to the theme it extends.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialColors {
    fg: Option<ColorName>,
    dim: Option<ColorName>,
    accent: Option<ColorName>,
    border: Option<ColorName>,
    focus_border: Option<ColorName>,
    cursor_fg: Option<ColorName>,
    cursor_bg: Option<ColorName>,
    pending: Option<ColorName>,
    selected: Option<ColorName>,
    answered: Option<ColorName>,
    rejected: Option<ColorName>,
    on_air: Option<ColorName>,
    inflight: Option<ColorName>,
    error: Option<ColorName>,
    ok: Option<ColorName>,
    toast: Option<ColorName>,
}

#[derive(Debug, Clone)]
struct Colors {
    fg: ColorName,
    dim: ColorName,
    accent: ColorName,
    border: ColorName,
    focus_border: ColorName,
    cursor_fg: ColorName,
    cursor_bg: ColorName,
    pending: ColorName,
    selected: ColorName,
    answered: ColorName,
    rejected: ColorName,
    on_air: ColorName,
    inflight: ColorName,
    error: ColorName,
    ok: ColorName,
    toast: ColorName,
}

impl PartialColors {
    fn over(self, base: PartialColors) -> PartialColors {
        PartialColors {
            fg: self.fg.or(base.fg),
            dim: self.dim.or(base.dim),
            accent: self.accent.or(base.accent),
            border: self.border.or(base.border),
            focus_border: self.focus_border.or(base.focus_border),
            cursor_fg: self.cursor_fg.or(base.cursor_fg),
            cursor_bg: self.cursor_bg.or(base.cursor_bg),
            pending: self.pending.or(base.pending),
            selected: self.selected.or(base.selected),
            answered: self.answered.or(base.answered),
            rejected: self.rejected.or(base.rejected),
            on_air: self.on_air.or(base.on_air),
            inflight: self.inflight.or(base.inflight),
            error: self.error.or(base.error),
            ok: self.ok.or(base.ok),
            toast: self.toast.or(base.toast),
        }
    }

    /// Every colour, or the first missing one by name.
    fn resolve(self) -> Result<Colors, &'static str> {
        let get = |c: Option<ColorName>, name: &'static str| c.ok_or(name);
        Ok(Colors {
            fg: get(self.fg, "fg")?,
            dim: get(self.dim, "dim")?,
            accent: get(self.accent, "accent")?,
            border: get(self.border, "border")?,
            focus_border: get(self.focus_border, "focus_border")?,
            cursor_fg: get(self.cursor_fg, "cursor_fg")?,
            cursor_bg: get(self.cursor_bg, "cursor_bg")?,
            pending: get(self.pending, "pending")?,
            selected: get(self.selected, "selected")?,
            answered: get(self.answered, "answered")?,
            rejected: get(self.rejected, "rejected")?,
            on_air: get(self.on_air, "on_air")?,
            inflight: get(self.inflight, "inflight")?,
            error: get(self.error, "error")?,
            ok: get(self.ok, "ok")?,
            toast: get(self.toast, "toast")?,
        })
    }
}

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
}

impl ColorDepth {
    /// From `COLORTERM` (`truecolor`, `24bit`) and `TERM` (`*256color*`).
    pub fn from_env() -> ColorDepth {
        ColorDepth::from_vars(
            std::env::var("COLORTERM").ok().as_deref(),
            std::env::var("TERM").ok().as_deref(),
        )
    }

    pub fn from_vars(colorterm: Option<&str>, term: Option<&str>) -> ColorDepth {
        match colorterm.map(str::to_ascii_lowercase).as_deref() {
            Some("truecolor" | "24bit") => ColorDepth::TrueColor,
            _ if term.is_some_and(|t| t.contains("256")) => ColorDepth::Ansi256,
            _ => ColorDepth::Ansi16,
        }
    }

    /// A colour this terminal can show: 24-bit ones become the nearest.
    pub fn fit(self, c: Color) -> Color {
        let Color::Rgb(r, g, b) = c else { return c };
        match self {
            ColorDepth::TrueColor => c,
            ColorDepth::Ansi256 => Color::Indexed(nearest_256(r, g, b)),
            ColorDepth::Ansi16 => nearest_16(r, g, b),
        }
    }
}

fn dist(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2) as u32;
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

/// The nearest of the 6x6x6 cube and the grey ramp of the 256 colours.
fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let level = |v: u8| {
        (0..6)
            .min_by_key(|i| (i32::from(LEVELS[*i]) - i32::from(v)).abs())
            .unwrap_or(0)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = 16 + 36 * ri + 6 * gi + bi;
    let cube_rgb = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let grey_i = ((u32::from(r) + u32::from(g) + u32::from(b)) / 3)
        .saturating_sub(8)
        .div_ceil(10)
        .min(23) as u8;
    let grey = 8 + 10 * grey_i;
    if dist((grey, grey, grey), (r, g, b)) < dist(cube_rgb, (r, g, b)) {
        232 + grey_i
    } else {
        cube as u8
    }
}

/// The nearest of the 16 colours (xterm's palette).
fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    const PALETTE: [(Color, (u8, u8, u8)); 16] = [
        (Color::Black, (0, 0, 0)),
        (Color::Red, (205, 0, 0)),
        (Color::Green, (0, 205, 0)),
        (Color::Yellow, (205, 205, 0)),
        (Color::Blue, (0, 0, 238)),
        (Color::Magenta, (205, 0, 205)),
        (Color::Cyan, (0, 205, 205)),
        (Color::Gray, (229, 229, 229)),
        (Color::DarkGray, (127, 127, 127)),
        (Color::LightRed, (255, 0, 0)),
        (Color::LightGreen, (0, 255, 0)),
        (Color::LightYellow, (255, 255, 0)),
        (Color::LightBlue, (92, 92, 255)),
        (Color::LightMagenta, (255, 0, 255)),
        (Color::LightCyan, (0, 255, 255)),
        (Color::White, (255, 255, 255)),
    ];
    PALETTE
        .iter()
        .min_by_key(|(_, rgb)| dist(*rgb, (r, g, b)))
        .map_or(Color::Reset, |(c, _)| *c)
}

#[derive(Debug, Clone, Copy)]
struct ColorName(Color);

impl<'de> Deserialize<'de> for ColorName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Color>().map(ColorName).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{s}` is not a color (try a name like `cyan` or `#rrggbb`)"
            ))
        })
    }
}

/// Resolved styles the drawing code uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub dim: Style,
    pub accent: Style,
    pub border: Style,
    pub focus_border: Style,
    pub cursor: Style,
    pub cursor_unfocused: Style,
    pub pending: Style,
    pub selected: Style,
    pub answered: Style,
    pub rejected: Style,
    pub on_air: Style,
    pub inflight: Style,
    pub error: Style,
    pub ok: Style,
    pub toast: Style,
}

/// A theme error names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{origin}{line}: {message}", line = line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ThemeError {
    pub origin: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Theme {
    /// Loads `name`: the user's file first, else the built-in one.
    pub fn load(name: &str, config_dir: &Path, no_color: bool) -> Result<Theme, ThemeError> {
        let user: PathBuf = config_dir.join("themes").join(format!("{name}.toml"));
        let (origin, text) = match std::fs::read_to_string(&user) {
            Ok(t) => (user.display().to_string(), t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match BUILT_IN.iter().find(|(n, _)| *n == name) {
                    Some((_, t)) => (format!("built-in theme {name}"), t.to_string()),
                    None => {
                        return Err(ThemeError {
                            origin: user.display().to_string(),
                            line: None,
                            message: format!(
                                "no theme named `{name}` (built in: {}; or create this file)",
                                built_in_names().join(", ")
                            ),
                        });
                    }
                }
            }
            Err(e) => {
                return Err(ThemeError {
                    origin: user.display().to_string(),
                    line: None,
                    message: e.to_string(),
                });
            }
        };
        Theme::parse(name, &text, &origin, no_color)
    }

    pub fn parse(
        name: &str,
        text: &str,
        origin: &str,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| ThemeError {
            origin: origin.to_string(),
            line: e.span().map(|s| crate::config::line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let error = |message: String| ThemeError {
            origin: origin.to_string(),
            line: None,
            message,
        };
        // A file named like a built-in theme extends it unless it says
        // otherwise; a built-in theme extends nothing.
        let base_name = file.extends.clone().or_else(|| {
            (!origin.starts_with("built-in"))
                .then(|| name.to_string())
                .filter(|n| BUILT_IN.iter().any(|(b, _)| b == n))
        });
        let colors = match base_name {
            Some(base) => {
                let Some((_, base_text)) = BUILT_IN.iter().find(|(n, _)| *n == base) else {
                    return Err(error(format!(
                        "extends `{base}`, which is no built-in theme ({})",
                        built_in_names().join(", ")
                    )));
                };
                let base_file: ThemeFile = toml::from_str(base_text)
                    .map_err(|e| error(format!("built-in theme {base}: {e}")))?;
                file.colors.over(base_file.colors)
            }
            None => file.colors,
        };
        let colors = colors.resolve().map_err(|missing| {
            error(format!(
                "missing colour `{missing}` (set it, or add extends = \"dark\" to take the rest from a built-in theme)"
            ))
        })?;
        Ok(Theme::from_colors(name, &colors, no_color))
    }

    /// The theme as this terminal can show it (see [`ColorDepth`]).
    pub fn with_depth(mut self, depth: ColorDepth) -> Theme {
        let fit = |s: &mut Style| {
            s.fg = s.fg.map(|c| depth.fit(c));
            s.bg = s.bg.map(|c| depth.fit(c));
        };
        for s in [
            &mut self.text,
            &mut self.dim,
            &mut self.accent,
            &mut self.border,
            &mut self.focus_border,
            &mut self.cursor,
            &mut self.cursor_unfocused,
            &mut self.pending,
            &mut self.selected,
            &mut self.answered,
            &mut self.rejected,
            &mut self.on_air,
            &mut self.inflight,
            &mut self.error,
            &mut self.ok,
            &mut self.toast,
        ] {
            fit(s);
        }
        self
    }

    fn from_colors(name: &str, c: &Colors, no_color: bool) -> Theme {
        let fg = |n: ColorName| {
            if no_color {
                Style::default()
            } else {
                Style::default().fg(n.0)
            }
        };
        let cursor = if no_color {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(c.cursor_fg.0).bg(c.cursor_bg.0)
        };
        Theme {
            name: name.to_string(),
            text: fg(c.fg),
            dim: fg(c.dim).add_modifier(if no_color {
                Modifier::DIM
            } else {
                Modifier::empty()
            }),
            accent: fg(c.accent).add_modifier(Modifier::BOLD),
            border: fg(c.border),
            focus_border: fg(c.focus_border).add_modifier(Modifier::BOLD),
            cursor,
            cursor_unfocused: Style::default().add_modifier(Modifier::UNDERLINED),
            pending: fg(c.pending),
            selected: fg(c.selected),
            answered: fg(c.answered),
            rejected: fg(c.rejected),
            on_air: fg(c.on_air).add_modifier(Modifier::BOLD),
            inflight: fg(c.inflight),
            error: fg(c.error).add_modifier(Modifier::BOLD),
            ok: fg(c.ok),
            toast: fg(c.toast),
        }
    }

    /// The default theme, for tests and fallbacks that cannot fail.
    #[allow(
        clippy::expect_used,
        reason = "built-in themes are checked by a unit test"
    )]
    pub fn builtin(name: &str) -> Theme {
        let text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(BUILT_IN[0].1, |(_, t)| t);
        Theme::parse(name, text, "built-in", false).expect("built-in themes parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_parse() {
        for n in built_in_names() {
            Theme::parse(
                n,
                BUILT_IN.iter().find(|(x, _)| *x == n).unwrap().1,
                n,
                false,
            )
            .unwrap();
        }
    }

    #[test]
    fn bad_color_names_file_and_line() {
        let text = BUILT_IN[0]
            .1
            .replace("accent = \"cyan\"", "accent = \"sparkly\"");
        let e = Theme::parse("dark", &text, "/x/dark.toml", false).unwrap_err();
        let line = text.lines().position(|l| l.contains("sparkly")).unwrap() + 1;
        assert_eq!(e.line, Some(line), "{e}");
        assert!(e.to_string().contains("sparkly"));
    }

    #[test]
    fn user_file_overrides_built_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let text = BUILT_IN[0]
            .1
            .replace("accent = \"cyan\"", "accent = \"#ff0000\"");
        std::fs::write(dir.path().join("themes/dark.toml"), text).unwrap();
        let t = Theme::load("dark", dir.path(), false).unwrap();
        assert_eq!(t.accent.fg, Some(Color::Rgb(255, 0, 0)));
        assert!(Theme::load("nope", dir.path(), false).is_err());
    }

    #[test]
    fn a_user_theme_overrides_a_subset() {
        let t = Theme::parse(
            "mine",
            "extends = \"dark\"\n[colors]\naccent = \"#ff0000\"\n",
            "/x/mine.toml",
            false,
        )
        .unwrap();
        assert_eq!(t.accent.fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(t.dim, Theme::builtin("dark").dim);
        let e = Theme::parse(
            "mine",
            "[colors]\naccent = \"red\"\n",
            "/x/mine.toml",
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("missing colour `fg`"), "{e}");
        assert!(e.to_string().contains("extends"), "{e}");
        // A file named like a built-in theme extends it.
        Theme::parse(
            "light",
            "[colors]\naccent = \"red\"\n",
            "/x/light.toml",
            false,
        )
        .unwrap();
        let e = Theme::parse("x", "extends = \"sepia\"\n", "/x/x.toml", false).unwrap_err();
        assert!(e.to_string().contains("sepia"), "{e}");
    }

    #[test]
    fn truecolor_only_where_colorterm_says_so() {
        assert_eq!(
            ColorDepth::from_vars(Some("truecolor"), Some("xterm")),
            ColorDepth::TrueColor
        );
        assert_eq!(
            ColorDepth::from_vars(Some("24bit"), None),
            ColorDepth::TrueColor
        );
        assert_eq!(
            ColorDepth::from_vars(None, Some("tmux-256color")),
            ColorDepth::Ansi256
        );
        assert_eq!(
            ColorDepth::from_vars(None, Some("vt100")),
            ColorDepth::Ansi16
        );
        let light = Theme::builtin("light");
        for depth in [ColorDepth::Ansi256, ColorDepth::Ansi16] {
            let t = light.clone().with_depth(depth);
            for s in [t.text, t.dim, t.pending, t.error, t.cursor] {
                assert!(!matches!(s.fg, Some(Color::Rgb(..))), "{depth:?} {s:?}");
            }
        }
        assert_eq!(
            ColorDepth::Ansi256.fit(Color::Rgb(255, 0, 0)),
            Color::Indexed(196)
        );
        assert_eq!(
            ColorDepth::Ansi256.fit(Color::Rgb(128, 128, 128)),
            Color::Indexed(244)
        );
        assert_eq!(
            ColorDepth::Ansi16.fit(Color::Rgb(0x1a, 0x7f, 0x37)),
            Color::Green
        );
    }

    #[test]
    fn the_light_theme_has_no_light_grey_text() {
        let t = Theme::builtin("light");
        for depth in [
            ColorDepth::TrueColor,
            ColorDepth::Ansi256,
            ColorDepth::Ansi16,
        ] {
            let t = t.clone().with_depth(depth);
            for s in [t.text, t.dim, t.border, t.accent, t.pending, t.inflight] {
                assert!(
                    !matches!(
                        s.fg,
                        Some(Color::Gray | Color::White | Color::LightYellow | Color::Yellow)
                    ),
                    "{depth:?}: {s:?} on a white background"
                );
            }
        }
    }

    #[test]
    fn no_color_has_no_colors() {
        let t = Theme::parse("dark", BUILT_IN[0].1, "x", true).unwrap();
        for s in [t.text, t.accent, t.pending, t.error, t.cursor] {
            assert_eq!((s.fg, s.bg), (None, None));
        }
    }
}

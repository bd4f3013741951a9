//! The sheet: every figure of issue 15 with its target, printed as a table
//! or as one JSON object.

use serde_json::{Value, json};

/// What a figure must reach (issue 15, "Targets").
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Reported beside others, no target of its own.
    None,
    AtMost(f64),
    Below(f64),
    AtLeast(f64),
    /// At most this many times another figure.
    AtMostTimes(&'static str, f64),
    /// At least this many times another figure.
    AtLeastTimes(&'static str, f64),
}

/// The figures in the order the sheet prints them, with their units and
/// targets.
pub const FIGURES: &[(&str, &str, Target)] = &[
    ("serde_parse_per_s", "q/s", Target::None),
    (
        "ingest_per_s",
        "q/s",
        Target::AtLeastTimes("serde_parse_per_s", 0.5),
    ),
    ("ingest_grouped_per_s", "q/s", Target::None),
    ("frame_us_10", "µs", Target::None),
    (
        "frame_us_1000",
        "µs",
        Target::AtMostTimes("frame_us_10", 1.2),
    ),
    (
        "frame_us_100000",
        "µs",
        Target::AtMostTimes("frame_us_10", 1.2),
    ),
    ("frame_bytes", "B", Target::None),
    ("key_us_100000", "µs", Target::Below(1000.0)),
    ("rss_mb_100000", "MB", Target::AtMost(60.0)),
    ("idle_cpu_pct", "%", Target::Below(0.5)),
    ("latency_p50_ms", "ms", Target::None),
    ("latency_p99_ms", "ms", Target::Below(5.0)),
    ("push_wait_p50_ms", "ms", Target::None),
    ("push_wait_p99_ms", "ms", Target::None),
    ("tty_bytes_per_s", "B/s", Target::Below(20_000.0)),
    ("drain_per_s_rtt100", "/s", Target::AtLeast(60.0)),
    ("dup_us_1000", "µs", Target::None),
    (
        "dup_us_100000",
        "µs",
        Target::AtMostTimes("dup_us_1000", 2.0),
    ),
    ("overload_wall_s", "s", Target::AtMost(3.5)),
    ("overload_rss_mb", "MB", Target::AtMost(500.0)),
];

/// One measured figure (`None`: not measured, the note says why).
#[derive(Debug, Clone)]
struct Figure {
    value: Option<f64>,
    note: String,
}

#[derive(Debug, Default)]
pub struct Sheet {
    figures: std::collections::HashMap<&'static str, Figure>,
}

impl Sheet {
    /// Records a figure; `name` must be one of [`FIGURES`].
    pub fn set(&mut self, name: &'static str, value: Option<f64>, note: impl Into<String>) {
        debug_assert!(FIGURES.iter().any(|f| f.0 == name), "{name}");
        self.figures.insert(
            name,
            Figure {
                value: value.filter(|v| v.is_finite()),
                note: note.into(),
            },
        );
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures.get(name).and_then(|f| f.value)
    }

    /// Whether a figure meets its target; `None` without a target, a value
    /// or the figure it is compared with.
    pub fn pass(&self, name: &str, target: Target) -> Option<bool> {
        let v = self.get(name)?;
        match target {
            Target::None => None,
            Target::AtMost(t) => Some(v <= t),
            Target::Below(t) => Some(v < t),
            Target::AtLeast(t) => Some(v >= t),
            Target::AtMostTimes(other, k) => self.get(other).map(|o| v <= k * o),
            Target::AtLeastTimes(other, k) => self.get(other).map(|o| v >= k * o),
        }
    }

    pub fn table(&self, quick: bool) -> String {
        let mut out = format!(
            "qadeck figure sheet{}\n\n| figure | value | target | pass | note |\n|---|---:|---|---|---|\n",
            if quick { " (--quick)" } else { "" }
        );
        for (name, unit, target) in FIGURES {
            let f = self.figures.get(name);
            let value = match f.and_then(|f| f.value) {
                Some(v) => format!("{} {unit}", number(v)),
                None => "n/a".into(),
            };
            let pass = match self.pass(name, *target) {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "",
            };
            let note = f.map_or("not measured", |f| f.note.as_str());
            out.push_str(&format!(
                "| {name} | {value} | {} | {pass} | {note} |\n",
                target_text(*target, unit)
            ));
        }
        out
    }

    pub fn json(&self, quick: bool) -> Value {
        let mut figures = serde_json::Map::new();
        for (name, unit, target) in FIGURES {
            let f = self.figures.get(name);
            figures.insert(
                (*name).to_string(),
                json!({
                    "value": f.and_then(|f| f.value),
                    "unit": unit,
                    "target": match target { Target::None => Value::Null, t => target_text(*t, unit).into() },
                    "pass": self.pass(name, *target),
                    "note": f.map_or("not measured", |f| f.note.as_str()),
                }),
            );
        }
        json!({ "quick": quick, "figures": figures })
    }
}

fn target_text(t: Target, unit: &str) -> String {
    match t {
        Target::None => "—".into(),
        Target::AtMost(v) => format!("≤ {} {unit}", number(v)),
        Target::Below(v) => format!("< {} {unit}", number(v)),
        Target::AtLeast(v) => format!("≥ {} {unit}", number(v)),
        Target::AtMostTimes(o, k) => format!("≤ {k} × {o}"),
        Target::AtLeastTimes(o, k) => format!("≥ {k} × {o}"),
    }
}

/// Three significant digits, thousands separated.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        let s = format!("{:.0}", v);
        let (sign, digits) = s.split_at(usize::from(s.starts_with('-')));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_with_other_figures() {
        let mut s = Sheet::default();
        s.set("frame_us_10", Some(100.0), "");
        s.set("frame_us_100000", Some(121.0), "");
        s.set("key_us_100000", Some(999.0), "");
        assert_eq!(
            s.pass("frame_us_100000", Target::AtMostTimes("frame_us_10", 1.2)),
            Some(false)
        );
        assert_eq!(s.pass("key_us_100000", Target::Below(1000.0)), Some(true));
        assert_eq!(s.pass("ingest_per_s", Target::AtLeast(1.0)), None);
        let j = s.json(true);
        assert_eq!(j["figures"]["frame_us_100000"]["pass"], false);
        assert_eq!(j["figures"]["dup_us_1000"]["value"], Value::Null);
        assert_eq!(number(1_234_567.0), "1,234,567");
        assert_eq!(number(3.14159), "3.14");
    }
}

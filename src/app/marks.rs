//! Stars and labels: the moderator's own marks on questions. Local to this
//! machine, durable (every change is a [`Command::SaveMarks`]) and never
//! sent to a platform.

use super::{App, Command, InputBox, InputPurpose};
use crate::domain::{Marks, QKey};
use crate::triage::fold::fold;

/// A label's longest length, in characters: it must fit on a row.
pub const LABEL_MAX: usize = 24;

impl App {
    /// A question's marks (`None`: nothing marked).
    pub fn marks_of(&self, key: &QKey) -> Option<&Marks> {
        self.marks.get(key)
    }

    /// Every label on some question, each once (the first spelling met
    /// when they differ only in case or accents), sorted.
    pub fn labels_in_use(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeMap::new();
        for m in self.marks.values() {
            for l in &m.labels {
                seen.entry(fold(l)).or_insert_with(|| l.clone());
            }
        }
        seen.into_values().collect()
    }

    /// `*`: stars the question, or takes its star away.
    pub(super) fn toggle_star(&mut self, key: QKey, cmds: &mut Vec<Command>) {
        let mut marks = self.marks.get(&key).cloned().unwrap_or_default();
        marks.starred = !marks.starred;
        self.toast(if marks.starred {
            "starred ★"
        } else {
            "star taken away"
        });
        self.set_marks(key, marks, cmds);
    }

    /// `#`: opens the label input for the question.
    pub(super) fn ask_label(&mut self, key: QKey) {
        self.open_input(InputPurpose::Label { key, typed: None }, "");
        let hint = label_hint(&self.labels_in_use());
        if let Some(ib) = self.input.as_mut() {
            ib.hint = Some(hint);
        }
    }

    /// Adds the label, or removes it when the question has it already
    /// (compared without case and accents). An error keeps the input open.
    pub(super) fn toggle_label(
        &mut self,
        key: QKey,
        text: &str,
        cmds: &mut Vec<Command>,
    ) -> Result<(), String> {
        let label = check_label(text)?;
        let mut marks = self.marks.get(&key).cloned().unwrap_or_default();
        let folded = fold(&label);
        match marks.labels.iter().position(|l| fold(l) == folded) {
            Some(at) => {
                let gone = marks.labels.remove(at);
                self.toast(format!("label #{gone} removed"));
            }
            None => {
                // The spelling already in use, so one label reads one way.
                let label = self
                    .labels_in_use()
                    .into_iter()
                    .find(|l| fold(l) == folded)
                    .unwrap_or(label);
                self.toast(format!("label #{label} added"));
                marks.labels.push(label);
            }
        }
        self.set_marks(key, marks, cmds);
        Ok(())
    }

    /// Tab in the label input: the next label in use that starts with what
    /// was typed (cycling), with the choices under the input.
    pub(super) fn complete_label_in(&self, ib: &mut InputBox) {
        let in_use = self.labels_in_use();
        let InputPurpose::Label { key, typed } = &ib.purpose else {
            return;
        };
        let current = ib.area.lines().join(" ").trim().to_string();
        let prefix = typed.clone().unwrap_or_else(|| current.clone());
        let (key, choices) = (key.clone(), completions(&in_use, &prefix));
        if choices.is_empty() {
            ib.hint = Some(match in_use.is_empty() {
                true => "no labels in use yet: type a new one".into(),
                false => format!("no label in use starts with “{prefix}”"),
            });
            return;
        }
        let next = match choices.iter().position(|c| *c == current) {
            Some(i) => &choices[(i + 1) % choices.len()],
            None => &choices[0],
        };
        ib.area = ratatui_textarea::TextArea::new(vec![next.clone()]);
        ib.area.move_cursor(ratatui_textarea::CursorMove::End);
        ib.purpose = InputPurpose::Label {
            key,
            typed: Some(prefix),
        };
        ib.error = None;
        ib.hint = Some(match choices.len() {
            1 => label_hint(&choices),
            _ => format!("{} (Tab: next)", label_hint(&choices)),
        });
    }

    /// Stores the marks in the core and has the runtime persist them.
    pub(super) fn set_marks(&mut self, key: QKey, marks: Marks, cmds: &mut Vec<Command>) {
        if marks.is_empty() {
            self.marks.remove(&key);
        } else {
            self.marks.insert(key.clone(), marks.clone());
        }
        self.saved_marks.insert(key.clone());
        self.changed(&key);
        cmds.push(Command::SaveMarks { key, marks });
    }

    /// Marks read back from the store; the ones this session already set
    /// stay as they are.
    pub(super) fn restore_marks(&mut self, marks: Vec<(QKey, Marks)>) {
        for (key, m) in marks {
            if self.saved_marks.contains(&key) || m.is_empty() {
                continue;
            }
            if self.marks.get(&key) != Some(&m) {
                self.marks.insert(key.clone(), m);
                self.changed(&key);
            }
        }
    }
}

/// A label as typed, checked: one word (letters, digits, `-`, `_`), at most
/// [`LABEL_MAX`] characters; a leading `#` is dropped.
pub fn check_label(text: &str) -> Result<String, String> {
    let label = text.trim().trim_start_matches('#');
    if label.is_empty() {
        return Err("type a label (Tab completes, Esc cancels)".into());
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "a label is one word: letters, digits, - and _ (not “{}”)",
            c.escape_debug()
        ));
    }
    if label.chars().count() > LABEL_MAX {
        return Err(format!("a label has at most {LABEL_MAX} characters"));
    }
    Ok(label.to_string())
}

/// The labels in use that start with `prefix` (without case and accents).
pub fn completions(in_use: &[String], prefix: &str) -> Vec<String> {
    let p = fold(prefix.trim().trim_start_matches('#'));
    in_use
        .iter()
        .filter(|l| fold(l).starts_with(&p))
        .cloned()
        .collect()
}

fn label_hint(labels: &[String]) -> String {
    match labels {
        [] => "a new label: one word (a label the question has is removed)".into(),
        _ => labels
            .iter()
            .map(|l| format!("#{l}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_word_and_short() {
        assert_eq!(check_label(" #press ").unwrap(), "press");
        assert_eq!(
            check_label("Presse-Österreich").unwrap(),
            "Presse-Österreich"
        );
        assert!(check_label("").is_err());
        assert!(check_label("two words").unwrap_err().contains("one word"));
        assert!(check_label("a|b").is_err());
        assert!(check_label(&"x".repeat(LABEL_MAX + 1)).is_err());
        assert!(check_label(&"x".repeat(LABEL_MAX)).is_ok());
    }

    #[test]
    fn completion_ignores_case_and_accents() {
        let in_use = vec!["press".to_string(), "Prêt".to_string(), "vip".to_string()];
        assert_eq!(completions(&in_use, "PR"), ["press", "Prêt"]);
        assert_eq!(completions(&in_use, "pret"), ["Prêt"]);
        assert_eq!(completions(&in_use, "#v"), ["vip"]);
        assert_eq!(completions(&in_use, ""), in_use);
        assert!(completions(&in_use, "zz").is_empty());
    }
}

//! Folding text for comparison: one canonical form for what a reader
//! would call the same word (Unicode NFKC, case, accents).

use std::borrow::Cow;
use unicode_normalization::char::{
    canonical_combining_class, compose, decompose_canonical, is_combining_mark,
};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC, then lower case, then accents removed ("Ｃafé" → "cafe").
/// Letters of every script are kept; only combining marks go.
///
/// Every arrival is folded, so the common cases are cheap: NFKC only when
/// the quick check says the text may not be NFKC already, ASCII as it is,
/// and the accents stripped character by character (canonical
/// decomposition without the marks); only where that could differ from
/// recomposing the whole text (Hangul jamo, marks of their own class)
/// does the text take the full NFD → NFC round.
pub fn fold(s: &str) -> String {
    let nfkc: Cow<str> = match is_nfkc_quick(s.chars()) {
        IsNormalized::Yes => Cow::Borrowed(s),
        _ => Cow::Owned(s.nfkc().collect()),
    };
    let lower = nfkc.to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    strip_marks(&lower).unwrap_or_else(|| {
        lower
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .nfc()
            .collect()
    })
}

/// `s` decomposed without its combining marks, when that is already its
/// composed form (no two characters left compose, none reorders); `None`
/// when it is not.
fn strip_marks(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    let mut plain = true;
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
            prev = Some(c);
            continue;
        }
        decompose_canonical(c, |d| {
            if !plain || is_combining_mark(d) {
                return;
            }
            if canonical_combining_class(d) != 0 || prev.is_some_and(|p| compose(p, d).is_some()) {
                plain = false;
                return;
            }
            out.push(d);
            prev = Some(d);
        });
        if !plain {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::fold;
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;

    /// The definition, in full.
    fn reference(s: &str) -> String {
        let nfkc: String = s.nfkc().collect();
        nfkc.to_lowercase()
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .nfc()
            .collect()
    }

    #[test]
    fn folds_width_case_and_accents() {
        assert_eq!(fold("Ｃafé"), "cafe");
        assert_eq!(fold("ÀÉÎÕÜ"), "aeiou");
        assert_eq!(fold("Straße"), "straße");
        assert_eq!(fold("ПРИВЕТ"), "привет");
        assert_eq!(fold("ﬁne"), "fine");
    }

    #[test]
    fn the_quick_paths_fold_as_the_definition() {
        for s in [
            "Какой доклад? Ёлка",
            "한국어 질문입니다",
            "\u{1100}\u{1161}\u{11a8} jamo",
            "ガイドはありますか",
            "Tiếng Việt có dấu",
            "ΟΔΟΣ Σ",
            "e\u{301}\u{302} a\u{316}\u{301}",
            "नमस्ते क़",
            "ما هي خطتكم آ",
            "İstanbul",
        ] {
            assert_eq!(fold(s), reference(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_folds_as_the_definition(s in "\\PC{0,40}") {
            prop_assert_eq!(fold(&s), reference(&s));
        }

        #[test]
        fn marks_and_jamo_fold_as_the_definition(cs in proptest::collection::vec(
            proptest::sample::select(vec![
                'a', 'E', ' ', '\u{301}', '\u{316}', '\u{3099}', '\u{1100}', '\u{1161}',
                '\u{11a8}', '가', 'Σ', 'ς', 'é', 'Й', 'ё', 'か', 'ﬁ', 'Ｃ', 'İ', 'ệ', 'क', '\u{93c}',
            ]),
            0..24,
        )) {
            let s: String = cs.into_iter().collect();
            prop_assert_eq!(fold(&s), reference(&s));
        }
    }
}

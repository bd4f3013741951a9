//! Folding text for comparison: one canonical form for what a reader
//! would call the same word (Unicode NFKC, case, accents).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// NFKC, then lower case, then accents removed ("Ｃafé" → "cafe").
/// Letters of every script are kept; only combining marks go.
pub fn fold(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    let lower = nfkc.to_lowercase();
    lower
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_width_case_and_accents() {
        assert_eq!(fold("Ｃafé"), "cafe");
        assert_eq!(fold("ÀÉÎÕÜ"), "aeiou");
        assert_eq!(fold("Straße"), "straße");
        assert_eq!(fold("ПРИВЕТ"), "привет");
        assert_eq!(fold("ﬁne"), "fine");
    }
}

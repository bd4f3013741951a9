//! Grapheme clusters, the same as `unicode_segmentation` finds them, but
//! cheap where they are one character: a character that can neither extend
//! its neighbour nor be extended by it (most Latin, Greek, Cyrillic,
//! Hebrew, Arabic letters, CJK, kana, Hangul syllables) ends its cluster
//! when the next one is such a character too, without the full rules'
//! table lookups. Everything else goes through `unicode_segmentation`,
//! started at the boundary found so far (no rule looks back across one)
//! and kept while the clusters need it.

use unicode_segmentation::UnicodeSegmentation;

/// The grapheme clusters of `s` (extended, as `s.graphemes(true)`).
pub fn graphemes(s: &str) -> Graphemes<'_> {
    Graphemes {
        rest: s,
        first_alone: false,
        full: None,
    }
}

pub struct Graphemes<'a> {
    rest: &'a str,
    /// The first character of `rest` is known to stand alone (looked at
    /// as the one after the last cluster), so each is looked at once.
    first_alone: bool,
    /// The full rules, at the start of `rest`, while clusters need them.
    full: Option<unicode_segmentation::Graphemes<'a>>,
}

impl<'a> Graphemes<'a> {
    /// Whether every cluster has been taken.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next cluster, and its character when it is one that stands
    /// alone (a cluster of one character that needed no rule table).
    #[inline]
    pub fn next_lone(&mut self) -> Option<(&'a str, Option<char>)> {
        // ASCII (but CR) before ASCII, the most common case, from the bytes.
        let bytes = self.rest.as_bytes();
        if let [first, rest @ ..] = bytes
            && first.is_ascii()
            && *first != b'\r'
            && rest.first().is_none_or(u8::is_ascii)
        {
            let (g, rest) = self.rest.split_at(1);
            self.rest = rest;
            self.first_alone = false;
            self.full = None;
            return Some((g, Some(char::from(*first))));
        }
        self.next_other()
    }

    /// [`Graphemes::next_lone`] past ASCII.
    fn next_other(&mut self) -> Option<(&'a str, Option<char>)> {
        let mut chars = self.rest.chars();
        let first = chars.next()?;
        let second = chars.next();
        let second_alone = second.is_some_and(stands_alone);
        let (end, lone) =
            if (self.first_alone || stands_alone(first)) && (second.is_none() || second_alone) {
                self.first_alone = second_alone;
                self.full = None;
                (first.len_utf8(), Some(first))
            } else {
                self.first_alone = false;
                let rest = self.rest;
                let full = self.full.get_or_insert_with(|| rest.graphemes(true));
                (full.next().map_or(0, str::len), None)
            };
        let (g, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some((g, lone))
    }
}

impl<'a> Iterator for Graphemes<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        self.next_lone().map(|(g, _)| g)
    }
}

/// A character whose grapheme break property is "any other" and that no
/// rule joins to a neighbour that is one too: neither CR (which joins an
/// LF), a mark, a joiner, a prepended sign, a regional indicator, a Hangul
/// jamo nor an Indic consonant. Other controls (LF included) always stand
/// alone, so they count.
fn stands_alone(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x0C | 0x0E..=0x7F // ASCII but CR
        | 0xA0..=0xAC | 0xAE..=0x2FF // Latin-1 (not the soft hyphen), Latin Extended, IPA, spacing modifiers
        | 0x370..=0x3FF // Greek
        | 0x400..=0x482 | 0x48A..=0x52F // Cyrillic
        | 0x5D0..=0x5EA // Hebrew letters
        | 0x60C | 0x61F | 0x620..=0x64A | 0x660..=0x66F | 0x671..=0x6D5 // Arabic
        | 0x2010..=0x2027 | 0x2030..=0x205E // punctuation
        | 0x3000..=0x3029 | 0x3041..=0x3096 | 0x309B..=0x30FF // CJK signs, kana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF // CJK ideographs
        | 0xAC00..=0xD7A3 // Hangul syllables
        | 0xFF01..=0xFF9D // full- and halfwidth forms, not the sound marks
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(s: &str) {
        let want: Vec<&str> = s.graphemes(true).collect();
        let got: Vec<&str> = graphemes(s).collect();
        assert_eq!(got, want, "{s:?}");
    }

    #[test]
    fn the_same_clusters_as_unicode_segmentation() {
        for s in [
            "",
            "plain ASCII, with punctuation!",
            "a\r\nb\rc\n\u{7}d",
            "café e\u{301} A\u{30a}\u{20dd}",
            "Как вы тестируете й\u{306}?",
            "次のバージョンはいつリリースされますか？ か\u{3099} ｶﾞ",
            "한국어 \u{1100}\u{1161}\u{11a8} 가\u{11a8}",
            "ما هي خطتكم لدعم اللغة العربية؟ \u{600}1 بِسْمِ",
            "क्या यह मोबाइल पर भी काम करेगा? क्\u{200D}ष",
            "שָׁלוֹם",
            "👨‍👩‍👧‍👦 👍🏽 ❤️ #️⃣ 🇩🇪🇫🇷🇮 ‼\u{fe0f}",
            "x\u{200d}y \u{ad}z",
        ] {
            same(s);
        }
    }

    /// Every character the fast path takes alone, beside ASCII, itself and
    /// a Hangul syllable: a mark, joiner, prepended sign, jamo or regional
    /// indicator among them would join one of those.
    #[test]
    fn every_lone_character_is_one() {
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| stands_alone(*c))
        {
            same(&format!("a{c}{c}가{c}a"));
        }
    }

    /// Characters from every class the fast path treats differently.
    fn tricky() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            'a',
            ' ',
            '\n',
            '\r',
            '\t',
            '\u{7}',
            'é',
            '\u{301}',
            '\u{ad}',
            'ж',
            '\u{483}',
            'ω',
            'ש',
            '\u{5b8}',
            'ل',
            '\u{64b}',
            '\u{600}',
            '؟',
            '\u{61c}',
            'क',
            '\u{94d}',
            'ा',
            '\u{200d}',
            '\u{200c}',
            '\u{200b}',
            '次',
            'か',
            '\u{3099}',
            'ｶ',
            '\u{ff9e}',
            '가',
            '각',
            '\u{1100}',
            '\u{1161}',
            '\u{11a8}',
            '👍',
            '\u{1f3fd}',
            '\u{fe0f}',
            '\u{20e3}',
            '\u{1f1e9}',
            '\u{1f1ea}',
            '‼',
            '\u{2028}',
            '\u{e0067}',
        ])
    }

    proptest! {
        #[test]
        fn any_mix_splits_the_same(chars in prop::collection::vec(tricky(), 0..24)) {
            same(&chars.into_iter().collect::<String>());
        }
    }
}

//! [`Str`]: an immutable string shared by reference count. A question's
//! id, text and author are held by the queue's server and view copies, the
//! provider's merge base and the keys of every index: with `Str` all of them
//! point at one allocation, and a clone costs a counter increment. Each
//! holder keeps one word (8 bytes; an `Option<Str>` too), not the 16 of an
//! `Arc<str>`: `cold-string`'s `ArcColdString32` keeps up to 8 bytes in the
//! word itself, and a longer string in one allocation with a 4-byte count
//! and its length in a byte or two before the text (arcstr's header was
//! 16 bytes, so a 10-character id took a 32-byte block and now takes 16).

use cold_string::ArcColdString32;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// A shared, immutable string. Reads as `&str` (deref), builds with
/// `.into()`, compares, hashes and serializes as its text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(ArcColdString32);

impl Str {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether both are one copy: the same allocation, or for a string
    /// short enough to sit in the word (no allocation), the same text. For
    /// the tests that check holders share one copy; `==` already looks at
    /// the allocation before the bytes.
    #[cfg(test)]
    pub fn same(&self, other: &Str) -> bool {
        let (a, b) = (self.as_str(), other.as_str());
        if self.0.is_inline() {
            a == b
        } else {
            std::ptr::eq(a, b)
        }
    }
}

impl Default for Str {
    fn default() -> Str {
        Str::from("")
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str(ArcColdString32::new(s))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str(ArcColdString32::new(s))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Str {
        Str(ArcColdString32::new(&*s))
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0.to_string()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        **self == *other.0
    }
}

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        String::deserialize(d).map(Str::from)
    }
}

/// One copy of each distinct string (author names repeat across thousands
/// of questions): [`Pool::share`] gives back the copy already held.
#[derive(Debug, Default)]
pub struct Pool {
    held: std::collections::HashSet<Str>,
}

impl Pool {
    pub fn share(&mut self, s: Str) -> Str {
        match self.held.get(&*s) {
            Some(held) => held.clone(),
            None => {
                self.held.insert(s.clone());
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_gives_back_the_copy_it_holds() {
        let mut pool = Pool::default();
        let first = pool.share("Zoë".into());
        let again = pool.share(String::from("Zoë").into());
        assert!(first.same(&again));
        assert!(!first.same(&pool.share("Ana".into())));
    }

    #[test]
    fn a_string_in_its_word_is_one_copy_by_its_text() {
        let a: Str = "id-1".into();
        let b: Str = String::from("id-1").into();
        assert!(a.same(&b), "no allocation to tell them apart");
        assert!(!a.same(&"id-2".into()));
        let long: Str = "clq0000000000000000000001".into();
        assert!(long.same(&long.clone()));
        assert!(!long.same(&"clq0000000000000000000001".into()));
    }

    #[test]
    fn a_holder_keeps_one_thin_pointer() {
        assert_eq!(size_of::<Str>(), 8);
        assert_eq!(size_of::<Option<Str>>(), 8);
    }

    #[test]
    fn reads_compares_and_serializes_as_its_text() {
        let s: Str = "grüße 👋".into();
        let copy = s.clone();
        assert!(s.same(&copy));
        assert_eq!(s, "grüße 👋");
        assert_eq!(&*s, "grüße 👋");
        assert_eq!(s.len(), "grüße 👋".len());
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"grüße 👋\"");
        let back: Str = serde_json::from_str("\"grüße 👋\"").unwrap();
        assert_eq!(back, s);
        assert!(!back.same(&s));
        assert_eq!(format!("{s} {s:?}"), "grüße 👋 \"grüße 👋\"");
    }
}

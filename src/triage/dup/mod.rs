//! Duplicate questions: which questions ask the same thing, across
//! sources too, robust to case, punctuation, word order, contractions,
//! small typos, spacing and digits-as-words, and not fooled by a shared
//! frame ("What is the price?" is not "What is the roadmap?").
//!
//! [`Index`] is incremental: an arrival costs the same at 1,000 and at
//! 100,000 questions. It keeps a compact signature per question (content
//! tokens as ids of a token dictionary, a few bytes in one shared arena),
//! never the text.

mod dict;
mod index;
mod normalize;
mod posts;
mod sig;
mod sigs;
mod similarity;
mod words;

#[cfg(test)]
mod tests;

pub use index::{Index, Regroup};
use sig::Sig;

/// Whether two texts ask the same thing (the measure the index applies).
pub fn same_question(a: &str, b: &str) -> bool {
    let mut dict = dict::Dict::default();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    Sig::pack(a, &mut dict, &mut x);
    Sig::pack(b, &mut dict, &mut y);
    Sig::read(&x).0.same(Sig::read(&y).0, &dict)
}

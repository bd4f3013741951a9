use super::{Index, same_question};
use proptest::prelude::*;

/// Pairs that ask the same thing.
const SAME: &[(&str, &str)] = &[
    // The acceptance group of issue 14.
    ("What is the roadmap?", "what's the road map"),
    ("What is the roadmap?", "What is the roadmap for 2025??"),
    ("What is the roadmap?", "roadmap - what is it?"),
    ("what's the road map", "What is the roadmap for 2025??"),
    ("what's the road map", "roadmap - what is it?"),
    ("What is the roadmap for 2025??", "roadmap - what is it?"),
    // Case, punctuation, order, contractions, typos, numbers.
    ("Can you share the slides?", "Will the slides be shared?"),
    ("CAN YOU SHARE THE SLIDES", "can you share the slides?!"),
    ("Is the session recorded?", "Is the session being recordd?"),
    (
        "Why isn't the stream working?",
        "why is not the stream working",
    ),
    ("Do you have two tracks?", "Do you have 2 tracks?"),
    ("Are there twenty-five speakers?", "Are there 25 speakers?"),
    (
        "When does the keynote start?",
        "the keynote - when does it start",
    ),
    (
        "Will there be a data base migration?",
        "Will there be a database migration?",
    ),
    ("What is it?", "what is it"),
    // Spanish, German, French, Portuguese, Russian, Chinese.
    (
        "¿Cuándo empieza la conferencia?",
        "cuando empieza la conferencia",
    ),
    (
        "¿Habrá grabación de la sesión?",
        "Habra grabacion de la sesion?",
    ),
    (
        "Wann beginnt die Keynote?",
        "Die Keynote, wann beginnt sie?",
    ),
    ("Gibt es zwei Pausen?", "Gibt es 2 Pausen?"),
    (
        "Quand commence la conférence ?",
        "La conférence commence quand ?",
    ),
    ("Qu'est-ce que l'agenda ?", "l'agenda, c'est quoi ?"),
    ("Quando começa a palestra?", "A palestra começa quando?"),
    ("Когда начнётся доклад?", "Доклад когда начнется?"),
    ("Будет ли запись доклада?", "будет ли запис доклада"),
    ("路线图是什么？", "什么是路线图"),
];

/// Pairs that share words but ask something else.
const DIFFERENT: &[(&str, &str)] = &[
    // The acceptance group of issue 14.
    ("What is the price?", "What is the roadmap?"),
    (
        "What is the roadmap of the city council?",
        "What is the roadmap?",
    ),
    (
        "What is the roadmap of the city council?",
        "what's the road map",
    ),
    (
        "What is the roadmap of the city council?",
        "What is the roadmap for 2025??",
    ),
    ("What is the price?", "What is the roadmap for 2025??"),
    // Shared frames, other subjects.
    ("What is the rate?", "What is the date?"),
    ("Can you share the slides?", "Can you share the recording?"),
    ("Is the session recorded?", "Is the session free?"),
    (
        "Why is the stream working?",
        "Why is the stream not working?",
    ),
    ("What happened in 2024?", "What happened in 2025?"),
    ("What is it?", "What is this?"),
    (
        "¿Cuándo empieza la conferencia?",
        "¿Cuándo termina la conferencia?",
    ),
    ("Wann beginnt die Keynote?", "Wann beginnt die Pause?"),
    (
        "Quand commence la conférence ?",
        "Quel est le prix de la conférence ?",
    ),
    ("Quando começa a palestra?", "Quanto custa a palestra?"),
    ("Когда начнётся доклад?", "Где будет доклад?"),
    ("路线图是什么？", "价格是什么？"),
];

#[test]
fn pairs_that_ask_the_same_thing_group() {
    for (a, b) in SAME {
        assert!(same_question(a, b), "{a:?} and {b:?} should group");
        assert!(same_question(b, a), "{b:?} and {a:?} should group");
    }
}

#[test]
fn pairs_that_ask_something_else_do_not() {
    for (a, b) in DIFFERENT {
        assert!(!same_question(a, b), "{a:?} and {b:?} should not group");
        assert!(!same_question(b, a), "{b:?} and {a:?} should not group");
    }
}

#[test]
fn the_acceptance_questions_form_one_group() {
    let texts = [
        "What is the roadmap?",
        "what's the road map",
        "What is the roadmap for 2025??",
        "roadmap - what is it?",
        "What is the price?",
        "What is the roadmap of the city council?",
    ];
    let mut index = Index::new();
    for (slot, t) in texts.iter().enumerate() {
        index.insert(slot as u32, t);
    }
    let g = index.group_of(0).expect("a group");
    assert_eq!(index.members(g), [0, 1, 2, 3]);
    assert_eq!(index.group_of(4), None);
    assert_eq!(index.group_of(5), None);
}

#[test]
fn a_removed_bridge_splits_its_group() {
    // The middle question is close to both others; they are not close.
    let mut index = Index::new();
    index.insert(0, "Will the keynote be recorded?");
    index.insert(1, "Will the keynote be recorded and shared?");
    index.insert(2, "Will the keynote be shared?");
    let g = index.group_of(0).expect("a group");
    assert_eq!(index.members(g), [0, 1, 2]);
    let r = index.remove(1);
    assert!(r.gone.contains(&g) || !r.changed.is_empty());
    assert_eq!(index.group_of(0), None);
    assert_eq!(index.group_of(2), None);
    assert_eq!(index.len(), 2);
}

/// A removal from a group of more than 64 costs the group's size, not its
/// square: the rest stays one group, even where the one that left was all
/// that joined two halves.
#[test]
fn a_big_group_loses_a_member_without_splitting() {
    let mut index = Index::new();
    for i in 0..40 {
        index.insert(i, "Will the keynote be recorded?");
    }
    index.insert(40, "Will the keynote be recorded and shared?");
    for i in 41..81 {
        index.insert(i, "Will the keynote be shared?");
    }
    let g = index.group_of(0).expect("a group");
    assert_eq!(index.members(g).len(), 81);
    let r = index.remove(40);
    assert_eq!(r.slots, [40], "only the one that left is alone");
    let g = index.group_of(0).expect("still a group");
    assert_eq!(r.changed, [g]);
    assert_eq!(index.members(g).len(), 80);
    assert_eq!(index.group_of(80), Some(g));
    index.remove(0);
    assert_eq!(index.members(index.group_of(80).unwrap()).len(), 79);
}

#[test]
fn a_changed_text_leaves_its_group() {
    let mut index = Index::new();
    index.insert(0, "Can you share the slides?");
    index.insert(1, "Will the slides be shared?");
    assert!(index.group_of(0).is_some());
    let r = index.insert(1, "What is the price?");
    assert!(r.slots.contains(&0) && r.slots.contains(&1));
    assert_eq!(index.group_of(0), None);
}

/// Groups as sorted lists of texts, whatever the slots and ids.
fn grouping(texts: &[&str], order: &[usize]) -> Vec<Vec<String>> {
    let mut index = Index::new();
    for &i in order {
        index.insert(i as u32, texts[i]);
    }
    let mut groups: Vec<Vec<String>> = Vec::new();
    for i in 0..texts.len() {
        let members = match index.group_of(i as u32) {
            Some(g) => index.members(g).to_vec(),
            None => vec![i as u32],
        };
        let mut g: Vec<String> = members.iter().map(|s| format!("{s}")).collect();
        g.sort();
        groups.push(g);
    }
    groups.sort();
    groups.dedup();
    groups
}

const POOL: &[&str] = &[
    "What is the roadmap?",
    "what's the road map",
    "What is the roadmap for 2025??",
    "roadmap - what is it?",
    "What is the price?",
    "what's the prize",
    "What is the roadmap of the city council?",
    "Can you share the slides?",
    "Will the slides be shared?",
    "Will the keynote be recorded?",
    "Will the keynote be recorded and shared?",
    "Will the keynote be shared?",
    "Is the session recorded?",
    "What is it?",
    "what is it",
    "路线图是什么？",
    "什么是路线图",
];

proptest! {
    #[test]
    fn grouping_does_not_depend_on_arrival_order(
        order in Just((0..POOL.len()).collect::<Vec<usize>>()).prop_shuffle(),
        removed in proptest::collection::vec(0..POOL.len(), 0..4),
    ) {
        let natural: Vec<usize> = (0..POOL.len()).collect();
        prop_assert_eq!(grouping(POOL, &natural), grouping(POOL, &order));
        // Removing questions gives the grouping of never having had them.
        let mut index = Index::new();
        for &i in &order {
            index.insert(i as u32, POOL[i]);
        }
        for &r in &removed {
            index.remove(r as u32);
        }
        let mut fresh = Index::new();
        for &i in &natural {
            if !removed.contains(&i) {
                fresh.insert(i as u32, POOL[i]);
            }
        }
        for i in natural.iter().filter(|i| !removed.contains(i)) {
            let a = index.group_of(*i as u32).map(|g| index.members(g).to_vec());
            let b = fresh.group_of(*i as u32).map(|g| fresh.members(g).to_vec());
            prop_assert_eq!(a, b);
        }
    }
}

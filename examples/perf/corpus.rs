//! Realistic audience questions as PostoBox sends them: texts of 20–300
//! characters in several scripts, authors repeating (and some anonymous),
//! every status, in the documented list-page envelope.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Phrases in several scripts; a text strings a few together.
const PHRASES: &[&str] = &[
    "How do you handle backwards compatibility when the protocol changes?",
    "What is the roadmap for the next release",
    "Could you say more about the pricing for small teams?",
    "Wie skaliert das System bei zehntausend gleichzeitigen Nutzern?",
    "Est-ce que les données restent en Europe ?",
    "¿Cuándo estará disponible la versión en español?",
    "Как вы тестируете отказоустойчивость в продакшене?",
    "Почему выбрали именно этот стек?",
    "这个功能什么时候支持离线模式？",
    "请问有没有开源的计划",
    "この機能は日本語の入力に対応していますか？",
    "ما هي خطتكم لدعم اللغة العربية؟",
    "Ποιο είναι το επόμενο βήμα;",
    "क्या यह मोबाइल पर भी काम करेगा?",
    "Thanks for the talk! 🎉 Any tips for getting started?",
    "Is there a migration guide from version one 🙏",
    "What did you learn from the outage last spring?",
    "Can moderators see who voted?",
];

const FIRST: &[&str] = &[
    "Ana",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emre",
    "Fatima",
    "Giulia",
    "Hiro",
    "Ines",
    "Jonas",
    "Kateryna",
    "Liam",
    "María",
    "Noah",
    "Olu",
    "Priya",
    "Quentin",
    "Rania",
    "Sven",
    "Tomasz",
    "Ume",
    "Viktor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoë",
    "李娜",
    "Алексей",
];

/// The `i`-th question of a deterministic audience, as a wire item.
pub fn question(rng: &mut SmallRng, i: usize, created_ms: i64) -> Value {
    let target = rng.random_range(20..=300);
    let mut text = String::new();
    while text.chars().count() < target {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(PHRASES[rng.random_range(0..PHRASES.len())]);
    }
    let text: String = text.chars().take(target).collect();
    let anonymous = rng.random_bool(0.2);
    // About 2,000 distinct authors for 100,000 questions: people ask again.
    let author = format!(
        "{} {}",
        FIRST[rng.random_range(0..FIRST.len())],
        rng.random_range(0..72)
    );
    let status = match rng.random_range(0..100) {
        0..80 => "DEFAULT",
        80..88 => "ANSWERED",
        88..96 => "REJECTED",
        _ => "SELECTED",
    };
    let iso = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default()
    };
    json!({
        "id": format!("clq{i:07}"),
        "text": text,
        "voteCount": rng.random_range(0..40),
        "status": status,
        "isAnonymous": anonymous,
        "authorUsername": if anonymous { Value::Null } else { author.into() },
        "createdAt": iso(created_ms),
        "updatedAt": iso(created_ms),
    })
}

/// `n` questions, one a second from a fixed start.
pub fn questions(n: usize) -> Vec<Value> {
    let mut rng = SmallRng::seed_from_u64(15);
    let start = 1_780_000_000_000i64;
    (0..n)
        .map(|i| question(&mut rng, i, start + i as i64 * 1000))
        .collect()
}

/// The documented page envelope around `items` (page numbers from 1).
pub fn page(items: &[Value], page: usize, limit: usize, total: usize) -> Vec<u8> {
    let body = json!({
        "data": items,
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "totalPages": total.div_ceil(limit.max(1)),
        }
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Every page of a listing of `qs`, 100 a page (the documented maximum).
pub fn pages(qs: &[Value]) -> Vec<Vec<u8>> {
    qs.chunks(100)
        .enumerate()
        .map(|(i, c)| page(c, i + 1, 100, qs.len()))
        .collect()
}

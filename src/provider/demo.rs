//! The embedded demo platform: a simulated live audience that asks questions
//! in several scripts, votes on them over time, and a moderation API that
//! answers after a small latency and now and then refuses, so qadeck's
//! in-flight and rollback paths are exercised without any account.

use super::{BuildCtx, FeedTx, Provider, SourceSpec};
use crate::domain::{
    Capabilities, Connection, Delivery, EventInfo, Feed, Millis, MyVote, Op, Outcome,
    ProviderError, ProviderResult, Question, SourceId, Status, VoteKind,
};
use crate::provider::BuildError;
use crate::text::sanitize;
use async_trait::async_trait;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `[[source]] provider = "demo"` settings (also built from `qadeck demo`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    /// New questions a second.
    #[serde(default = "default_rate")]
    pub rate: f64,
    pub seed: Option<u64>,
    /// Mix in terminal escapes, control characters and huge texts.
    #[serde(default)]
    pub hostile: bool,
    /// Share of actions the simulated platform refuses (0..1).
    #[serde(default = "default_fail_rate")]
    pub fail_rate: f64,
    /// Simulated action latency ceiling in ms.
    #[serde(default = "default_latency")]
    pub latency_ms: u64,
}

fn default_name() -> String {
    "demo".into()
}
fn default_rate() -> f64 {
    1.0
}
fn default_fail_rate() -> f64 {
    0.05
}
fn default_latency() -> u64 {
    600
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            name: default_name(),
            rate: default_rate(),
            seed: None,
            hostile: false,
            fail_rate: default_fail_rate(),
            latency_ms: default_latency(),
        }
    }
}

impl SourceSpec for Settings {
    fn name(&self) -> &str {
        &self.name
    }
    fn event(&self) -> Option<&str> {
        Some("demo-live")
    }
    fn has_literal_secret(&self) -> bool {
        false
    }
    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, BuildError> {
        if !(self.rate >= 0.0 && self.rate.is_finite()) {
            return Err(BuildError::invalid(
                "rate",
                format!("demo rate must be a number >= 0, not {}", self.rate),
            ));
        }
        Ok(Arc::new(Demo::new(self.clone(), ctx.source)))
    }
}

/// Questions already waiting when a demo with an audience starts.
const WAITING_AT_START: u64 = 5;
/// Most questions in one feed event.
const CHUNK: u64 = 256;
/// The demo makes questions only while fewer feed events than this wait for
/// the loop: it never holds (nor has queued) much that the core has not
/// taken, however high the rate.
const QUEUED_AT_MOST: usize = 2;

/// The simulated platform.
pub struct Demo {
    settings: Settings,
    source: SourceId,
    world: Mutex<World>,
    generated: Arc<AtomicU64>,
}

/// What the simulated platform keeps: a few numbers per question. A
/// question's text and author are made again from the seed and its number
/// when they are needed, so the world holds no second copy of the texts.
struct World {
    seed: u64,
    rng: SmallRng,
    /// Question `q{n}` at `n - 1`.
    sims: Vec<Sim>,
    /// Texts the moderator submitted (not the audience's), by number.
    submitted: HashMap<u64, String>,
    open: bool,
}

/// The changing part of one question.
#[derive(Debug, Clone, Copy)]
struct Sim {
    votes: i64,
    created: Millis,
    updated: Millis,
    status: Status,
    my_vote: MyVote,
    gone: bool,
}

impl Sim {
    fn new(now: Millis) -> Sim {
        Sim {
            votes: 0,
            created: now,
            updated: now,
            status: Status::Pending,
            my_vote: MyVote::None,
            gone: false,
        }
    }
}

/// The number in a demo id (`q17` → 17).
fn number(id: &str) -> Option<u64> {
    id.strip_prefix('q')?.parse().ok().filter(|n| *n > 0)
}

impl World {
    fn sim_mut(&mut self, id: &str) -> Option<&mut Sim> {
        let n = number(id)?;
        self.sims.get_mut(n as usize - 1).filter(|s| !s.gone)
    }

    /// The whole question `q{n}`, text made again from the seed.
    fn question(&self, source: SourceId, n: u64, hostile: bool) -> Option<Question> {
        let sim = self.sims.get(n as usize - 1).filter(|s| !s.gone)?;
        let (text, author) = match self.submitted.get(&n) {
            Some(text) => (text.clone(), Some("moderator".to_string())),
            None => {
                let mut rng = SmallRng::seed_from_u64(self.seed ^ n.wrapping_mul(SPREAD));
                let (raw, author) = audience::question(&mut rng, hostile);
                (sanitize(&raw), author.map(|a| sanitize(&a)))
            }
        };
        Some(Question {
            source,
            id: format!("q{n}").into(),
            text: text.into(),
            author: author.map(Into::into),
            votes: sim.votes,
            my_vote: sim.my_vote,
            status: sim.status,
            on_air: false,
            created: sim.created,
            updated: sim.updated,
        })
    }
}

/// Spreads question numbers over the seed space (a 64-bit golden ratio).
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

impl Demo {
    pub fn new(settings: Settings, source: SourceId) -> Demo {
        let seed = settings.seed.unwrap_or_else(rand::random);
        Demo {
            settings,
            source,
            world: Mutex::new(World {
                seed,
                rng: SmallRng::seed_from_u64(seed),
                sims: Vec::new(),
                submitted: HashMap::new(),
                open: true,
            }),
            generated: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counter of questions the audience produced and the loop was given
    /// (for the headless summary).
    pub fn generated(&self) -> Arc<AtomicU64> {
        self.generated.clone()
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn new_questions(&self, n: u64, now: Millis) -> Vec<Question> {
        let mut w = self.world();
        let first = w.sims.len() as u64 + 1;
        w.sims.extend((0..n).map(|_| Sim::new(now)));
        (first..first + n)
            .filter_map(|k| w.question(self.source, k, self.settings.hostile))
            .collect()
    }

    /// The audience votes: a few recent questions gain votes.
    fn audience_votes(&self, now: Millis) -> Vec<Question> {
        let mut w = self.world();
        if w.sims.is_empty() {
            return Vec::new();
        }
        let most = 3usize.min(w.sims.len());
        let picks = w.rng.random_range(1..=most);
        let mut out = Vec::new();
        for _ in 0..picks {
            // Bias toward recent questions: they are what people just read.
            let len = w.sims.len();
            let window = len.min(40);
            let back = w.rng.random_range(0..window);
            let idx = len - 1 - back;
            let gain: i64 = w.rng.random_range(1..=3);
            let sim = &mut w.sims[idx];
            if sim.gone || sim.status == Status::Rejected {
                continue;
            }
            sim.votes += gain;
            sim.updated = now;
            out.extend(w.question(self.source, idx as u64 + 1, self.settings.hostile));
        }
        out
    }

    /// Every question the platform holds, for a (re)started feed.
    fn snapshot(&self) -> Vec<Question> {
        let w = self.world();
        (1..=w.sims.len() as u64)
            .filter_map(|n| w.question(self.source, n, self.settings.hostile))
            .collect()
    }
}

/// How often the audience is looked at: coarse at low rates (an idle demo
/// stays near 0% CPU), fine at high ones (each look makes at most
/// [`QUEUED_AT_MOST`] × [`CHUNK`] questions).
fn tick_for(rate: f64) -> Duration {
    if rate == 0.0 {
        Duration::from_secs(3600)
    } else if rate <= 20.0 {
        Duration::from_millis(100)
    } else if rate <= 50_000.0 {
        Duration::from_millis(20)
    } else {
        Duration::from_millis(2)
    }
}

#[async_trait]
impl Provider for Demo {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            questions: true,
            server_statuses: Status::ALL.to_vec(),
            delete: true,
            vote: VoteKind::Toggle,
            submit_question: true,
            delivery: Delivery::InProcess,
            open_close: true,
            ..Capabilities::none()
        }
    }

    async fn run_feed(&self, tx: FeedTx) {
        if !tx.send(Feed::Connection(Connection::Live)).await {
            return;
        }
        // A live event is already under way: a few questions are waiting
        // when the moderator arrives (none when the audience is silent).
        let mut waiting = 0;
        if self.world().sims.is_empty() && self.settings.rate > 0.0 {
            self.new_questions(WAITING_AT_START, super::now_ms() - 30_000);
            waiting = WAITING_AT_START;
        }
        if !tx.send(Feed::Snapshot(self.snapshot())).await {
            return;
        }
        self.generated.fetch_add(waiting, Ordering::SeqCst);
        let start = tokio::time::Instant::now();
        let rate = self.settings.rate;
        let mut interval = tokio::time::interval(tick_for(rate));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_votes = start + Duration::from_millis(700);
        let mut asked = 0u64;
        loop {
            interval.tick().await;
            let now = super::now_ms();
            let due = (start.elapsed().as_secs_f64() * rate) as u64;
            // Made only while the loop has room: what the audience would
            // have asked beyond what the core takes is never generated.
            while asked < due {
                let Some(permit) = tx.reserve_within(QUEUED_AT_MOST) else {
                    break;
                };
                let n = (due - asked).min(CHUNK);
                permit.send(Feed::Upsert(self.new_questions(n, now)));
                // Counted as it is handed over, so the summary's count is
                // exactly what the loop was given.
                self.generated.fetch_add(n, Ordering::SeqCst);
                asked += n;
            }
            asked = due;
            if tx.is_closed() {
                return;
            }
            if rate > 0.0 && tokio::time::Instant::now() >= next_votes {
                next_votes += Duration::from_millis(900);
                let voted = self.audience_votes(now);
                if !voted.is_empty() && !tx.send(Feed::Upsert(voted)).await {
                    return;
                }
            }
        }
    }

    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        Ok(vec![EventInfo {
            id: "demo-live".into(),
            title: "qadeck demo: live keynote".into(),
            active: Some(self.world().open),
            starts: None,
        }])
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        let (delay, fail) = {
            let mut w = self.world();
            let max = self.settings.latency_ms.max(1);
            let delay = w.rng.random_range(max / 5..=max);
            let fail = w.rng.random_bool(self.settings.fail_rate.clamp(0.0, 1.0));
            (delay, fail)
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if fail {
            return Err(ProviderError::Conflict(
                "the demo platform refused this one (simulated failure)".into(),
            ));
        }
        let now = super::now_ms();
        let hostile = self.settings.hostile;
        let mut w = self.world();
        let missing = |id: &str| ProviderError::NotFound(format!("question {id}"));
        match op {
            Op::SetStatus { id, status } => {
                let sim = w.sim_mut(id).ok_or_else(|| missing(id))?;
                sim.status = *status;
                sim.updated = now;
                let n = number(id).ok_or_else(|| missing(id))?;
                w.question(self.source, n, hostile)
                    .map(Outcome::Question)
                    .ok_or_else(|| missing(id))
            }
            Op::Delete { id } => {
                w.sim_mut(id).ok_or_else(|| missing(id))?.gone = true;
                if let Some(n) = number(id) {
                    w.submitted.remove(&n);
                }
                Ok(Outcome::QuestionGone(id.clone()))
            }
            Op::Vote { id, want } => {
                let sim = w.sim_mut(id).ok_or_else(|| missing(id))?;
                let had = sim.my_vote == MyVote::Up;
                let wants = *want == MyVote::Up;
                if had != wants {
                    sim.votes += if wants { 1 } else { -1 };
                    sim.my_vote = if wants { MyVote::Up } else { MyVote::None };
                    sim.updated = now;
                }
                Ok(Outcome::Voted {
                    id: id.clone(),
                    my_vote: sim.my_vote,
                    votes: sim.votes,
                })
            }
            Op::SubmitQuestion { text } => {
                w.sims.push(Sim::new(now));
                let n = w.sims.len() as u64;
                w.submitted.insert(n, sanitize(text));
                w.question(self.source, n, hostile)
                    .map(Outcome::Question)
                    .ok_or_else(|| missing(&format!("q{n}")))
            }
            Op::SetOpen { questions, .. } => {
                if let Some(open) = questions {
                    w.open = *open;
                }
                Ok(Outcome::Done)
            }
            other => Err(ProviderError::Unsupported(other.label())),
        }
    }

    async fn fetch_question(&self, id: &str) -> ProviderResult<Question> {
        let missing = || ProviderError::NotFound(format!("question {id}"));
        let n = number(id).ok_or_else(missing)?;
        self.world()
            .question(self.source, n, self.settings.hostile)
            .ok_or_else(missing)
    }
}

/// What the simulated audience writes.
mod audience {
    use rand::Rng;
    use rand::rngs::SmallRng;

    const QUESTIONS: &[&str] = &[
        "What is the roadmap for the next release?",
        "How do you handle backwards compatibility when the protocol changes?",
        "Can you share the slides after the talk?",
        "Which part of the migration surprised you the most?",
        "How big is the team that maintains this today?",
        "Is there a plan to support offline mode for field teams?",
        "What would you do differently if you started over?",
        "How do you test this against real traffic without risking production?",
        "Does the new pricing apply to existing customers too?",
        "What is the one metric you watch every morning?",
        "Wie geht ihr mit Datenschutz und der DSGVO um?",
        "¿Cuándo estará disponible en América Latina?",
        "Quelle est la prochaine étape pour la communauté open source ?",
        "Quanto tempo levou a migração completa?",
        "次のバージョンはいつリリースされますか？",
        "这个功能会支持中文界面吗？",
        "다음 로드맵에서 가장 중요한 것은 무엇인가요?",
        "متى سيتم دعم اللغة العربية بالكامل؟",
        "האם יש תוכנית לתמיכה בעברית?",
        "Какие метрики вы используете для оценки успеха?",
        "Great talk! 🎉 How do I get started as a beginner? 👩‍💻",
        "Will the recording be online? 🙏🏽",
        "How does this compare to last year's approach? 🤔 Family plan 👨‍👩‍👧‑👦 included?",
        "Is the café in the lobby open after the session? ☕",
        "Can you say more about the naïve implementation you mentioned — the one with the cache?",
    ];

    /// Long questions, each its own: an audience writes context for its
    /// own question, it does not paste one paragraph onto many.
    const LONG: &[&str] = &[
        "Our team tried something similar last year and the moderation queue fell over during peaks. How do you plan capacity, and what are your fallbacks when the network at the venue is unreliable?",
        "We run three events a month with volunteers who change every time. How long does it take a new moderator to become confident with the console, and is there a training mode that does not touch the live event?",
        "You said the sync survives a restart. If two moderators approve and reject the same question at the same moment from different machines, whose decision wins, and does the other one ever find out?",
        "Wir haben bei unserer letzten Konferenz sehr viele doppelte Fragen bekommen, oft nur leicht umformuliert. Wie erkennt ihr Duplikate, und kann man eine falsche Zusammenfassung wieder rückgängig machen?",
        "会場のWi-Fiが不安定なときでも、承認や却下の操作が失われないというお話でしたが、オフラインの間に溜まった操作はどの順番で送られるのでしょうか？また、重複して送られることはありませんか？",
        "En nuestro último evento recibimos cientos de preguntas en pocos minutos y no pudimos leerlas todas. ¿Qué reglas automáticas recomiendan para filtrar el spam sin perder preguntas legítimas del público?",
    ];

    const NAMES: &[&str] = &[
        "Ana",
        "Björn",
        "Chen Wei",
        "Dmitri",
        "Émilie",
        "Fatima",
        "Gabriel",
        "Hiro",
        "Ingrid",
        "José",
        "Kwame",
        "Leila",
        "Mateus",
        "Nadia",
        "Oluwaseun",
        "Priya",
        "Quentin",
        "Rania",
        "佐藤",
        "김민준",
        "محمد",
        "Zoë",
    ];

    const HOSTILE: &[&str] = &[
        "\x1b[2J\x1b[HYour terminal is mine now",
        "copy this \x1b]52;c;cm0gLXJmIH4vKgo=\x07 please",
        "title \x1b]0;pwned\x07 and \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
        "bidi \u{202e}gnp.exe\u{202c} and \u{2067}isolate\u{2069}",
        "NUL\0byte and bell\x07 and backspace\x08\x08\x08 and DEL\x7f",
        "C1 \u{9b}31mred\u{9b}0m and DCS \x1bP1$qm\x1b\\ end",
        "tabs\tand\r\ncarriage returns\rover",
        "\x1b[31m\x1b[5mblinking red\x1b[0m question?",
    ];

    /// One question text and maybe an author.
    pub fn question(rng: &mut SmallRng, hostile: bool) -> (String, Option<String>) {
        let mut template = None;
        let text = if hostile && rng.random_bool(0.35) {
            if rng.random_bool(0.05) {
                // 100 KB of text with escapes sprinkled through it.
                let mut t = String::with_capacity(100 * 1024 + 64);
                while t.len() < 100 * 1024 {
                    t.push_str(HOSTILE[rng.random_range(0..HOSTILE.len())]);
                    t.push_str(QUESTIONS[rng.random_range(0..QUESTIONS.len())]);
                }
                t
            } else {
                HOSTILE[rng.random_range(0..HOSTILE.len())].to_string()
            }
        } else {
            let i = rng.random_range(0..QUESTIONS.len());
            template = Some(i);
            QUESTIONS[i].to_string()
        };
        let text = match (rng.random_bool(0.15), template) {
            (true, Some(i)) => LONG[i % LONG.len()].to_string(),
            _ => text,
        };
        let author = if rng.random_bool(0.3) {
            None
        } else {
            let mut name = NAMES[rng.random_range(0..NAMES.len())].to_string();
            if hostile && rng.random_bool(0.2) {
                name.push_str("\x1b[8m\u{202e}");
            }
            Some(name)
        };
        (text, author)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SourceFeed;
    use tokio::sync::mpsc;

    fn demo(fail_rate: f64) -> Demo {
        Demo::new(
            Settings {
                seed: Some(7),
                fail_rate,
                latency_ms: 1,
                ..Settings::default()
            },
            SourceId(0),
        )
    }

    #[test]
    fn same_seed_same_questions() {
        let texts = |d: Demo| -> Vec<String> {
            d.new_questions(20, 0)
                .into_iter()
                .map(|q| q.text.to_string())
                .collect()
        };
        assert_eq!(texts(demo(0.0)), texts(demo(0.0)));
    }

    #[tokio::test]
    async fn a_question_reads_back_the_same_with_its_votes() {
        let d = demo(0.0);
        let made = d.new_questions(3, 0);
        let id = made[2].id.to_string();
        d.perform(&Op::Vote {
            id: id.clone(),
            want: MyVote::Up,
        })
        .await
        .unwrap();
        let read = d.fetch_question(&id).await.unwrap();
        assert_eq!((&read.text, &read.author), (&made[2].text, &made[2].author));
        assert_eq!((read.votes, read.my_vote), (1, MyVote::Up));
        d.perform(&Op::Delete { id: id.clone() }).await.unwrap();
        assert!(d.fetch_question(&id).await.is_err());
        assert_eq!(d.snapshot().len(), 2);
    }

    #[tokio::test]
    async fn vote_converges_to_intent() {
        let d = demo(0.0);
        let id = d.new_questions(1, 0)[0].id.to_string();
        let want = Op::Vote {
            id: id.clone(),
            want: MyVote::Up,
        };
        d.perform(&want).await.unwrap();
        // A retry of the same intent does not toggle back.
        let out = d.perform(&want).await.unwrap();
        assert_eq!(
            out,
            Outcome::Voted {
                id,
                my_vote: MyVote::Up,
                votes: 1
            }
        );
    }

    #[tokio::test]
    async fn refusals_happen_when_configured() {
        let d = demo(1.0);
        let id = d.new_questions(1, 0)[0].id.to_string();
        let r = d
            .perform(&Op::SetStatus {
                id,
                status: Status::Selected,
            })
            .await;
        assert!(matches!(r, Err(ProviderError::Conflict(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_makes_only_what_the_loop_has_room_for() {
        let d = Arc::new(Demo::new(
            Settings {
                seed: Some(3),
                rate: 1e9,
                ..Settings::default()
            },
            SourceId(0),
        ));
        let (tx, mut rx) = mpsc::channel::<SourceFeed>(1024);
        let feed = tokio::spawn({
            let d = d.clone();
            async move { d.run_feed(FeedTx::new(SourceId(0), tx)).await }
        });
        // Nobody takes anything for ten simulated seconds.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let mut ids = std::collections::HashSet::new();
        while let Ok(sf) = rx.try_recv() {
            if let Feed::Snapshot(qs) | Feed::Upsert(qs) = sf.feed {
                ids.extend(qs.into_iter().map(|q| q.id.to_string()));
            }
        }
        let generated = d.generated().load(Ordering::SeqCst);
        assert_eq!(ids.len() as u64, generated);
        assert!(
            generated <= WAITING_AT_START + QUEUED_AT_MOST as u64 * CHUNK,
            "{generated}"
        );
        assert_eq!(d.world().sims.len() as u64, generated);
        feed.abort();
    }
}

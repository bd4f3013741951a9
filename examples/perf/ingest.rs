//! `ingest_per_s` beside `serde_parse_per_s`: PostoBox list-page bytes
//! through the provider's own parsing (`Postobox::ingest_page`: JSON, page,
//! items, merge) and `App::update` with what a first sync sends (a page's
//! upsert per page, then the listing's ids),
//! against a bare `serde_json::from_slice::<Value>` of the same bytes.
//! Duplicate grouping waits for the core's work steps after the arrivals:
//! `ingest_grouped_per_s` counts them too, until every question is grouped.

use crate::clock::Clock;
use crate::figure::Sheet;
use qadeck::app::{App, Event, KeyMap, SourceView};
use qadeck::domain::{Feed, Moderator, SourceFeed, SourceId};
use qadeck::provider::postobox::{Postobox, Settings};
use qadeck::provider::{BuildCtx, Provider};
use serde_json::Value;
use std::collections::HashSet;

/// A provider bound to an event (never connected: only its parsing runs).
pub fn provider() -> Postobox {
    let mut s = Settings::new("perf");
    s.api_key = Some("pk_test_perf".into());
    s.event = Some("ev-perf".into());
    let ctx = BuildCtx {
        source: SourceId(0),
        moderator: Moderator::default(),
        event: None,
    };
    Postobox::new(&s, &ctx).expect("a literal key and the default base URL build")
}

/// A core with one PostoBox source, sized to `width`x`height`.
pub fn app(p: &Postobox, width: u16, height: u16) -> App {
    let view = SourceView::new("perf", p.capabilities(), true);
    let mut app = App::new(vec![view], KeyMap::default(), "perf".into(), 0);
    app.update(Event::Resize { width, height });
    app
}

/// Every page through the provider and into the core as a first sync
/// hands them over: one `Feed::Upsert` a page, then `Feed::Listed` with
/// the ids of the complete listing.
pub fn load(p: &Postobox, app: &mut App, pages: &[Vec<u8>]) -> usize {
    let mut ids = HashSet::new();
    for body in pages {
        let page = p.ingest_page(body).expect("a listing page");
        ids.extend(page.iter().map(|q| q.id.clone()));
        app.update(Event::Feed(SourceFeed {
            source: SourceId(0),
            feed: Feed::Upsert(page),
        }));
    }
    let n = ids.len();
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Listed(ids),
    }));
    n
}

/// Works off the grouping the arrivals left waiting, as the runtime's loops
/// do between their batches: `Event::Work` until none waits.
pub fn settle(app: &mut App) {
    while app.has_work() {
        app.update(Event::Work);
    }
}

pub fn run(sheet: &mut Sheet, pages: &[Vec<u8>], quick: bool) {
    let runs = if quick { 2 } else { 4 };
    let total: usize = pages.len() * 100;
    let mut serde_best = f64::MAX;
    let mut ingest_best = f64::MAX;
    let mut grouped_best = f64::MAX;
    let mut held = 0;
    let mut groups = 0;
    let clock = Clock::new();
    for _ in 0..runs {
        let t = clock.now();
        let mut items = 0;
        for body in pages {
            let v: Value = serde_json::from_slice(body).expect("valid JSON");
            items += v["data"].as_array().map_or(0, Vec::len);
        }
        serde_best = serde_best.min((clock.now() - t).as_secs_f64());
        assert_eq!(items, total);
        let p = provider();
        let mut app = app(&p, 200, 60);
        let t = clock.now();
        held = load(&p, &mut app, pages);
        ingest_best = ingest_best.min((clock.now() - t).as_secs_f64());
        settle(&mut app);
        grouped_best = grouped_best.min((clock.now() - t).as_secs_f64());
        groups = app.groups.count();
        drop(app);
    }
    sheet.set(
        "serde_parse_per_s",
        Some(total as f64 / serde_best),
        format!(
            "serde_json::Value of {} pages of 100, best {} of {runs}",
            pages.len(),
            clock.kind()
        ),
    );
    sheet.set(
        "ingest_per_s",
        Some(held as f64 / ingest_best),
        format!(
            "Postobox::ingest_page + App::update (an Upsert a page, then Listed), {held} held, grouping left waiting, best {} of {runs}",
            clock.kind()
        ),
    );
    sheet.set(
        "ingest_grouped_per_s",
        Some(held as f64 / grouped_best),
        format!(
            "the same and then every Event::Work step until all {held} are grouped ({groups} groups), best {} of {runs}",
            clock.kind()
        ),
    );
}

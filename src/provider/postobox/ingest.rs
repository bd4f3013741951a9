//! One listing page as a sync reads it, public so the figure sheet
//! (`examples/perf`) measures the provider's own parsing rather than a copy.

use super::Postobox;
use super::wire;
use crate::domain::{Question, Status};

impl Postobox {
    /// The questions of one `GET .../questions` page body, through the
    /// steps a sync takes (`list_all` reads each page with the same
    /// `wire::question_page`): the JSON, the page envelope, each item, and
    /// the merge over the last known copy (which it records). `None` when the
    /// body is not a listing.
    pub fn ingest_page(&self, body: &[u8]) -> Option<Vec<Question>> {
        let page = wire::question_page(body)?;
        Some(
            page.items
                .iter()
                .filter_map(|w| self.absorb(w, Status::Pending))
                .map(|(q, _)| q)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Moderator, SourceId};
    use crate::provider::BuildCtx;
    use crate::provider::postobox::{Postobox, Settings};

    #[test]
    fn a_page_becomes_questions_and_garbage_does_not() {
        let mut s = Settings::new("p");
        s.api_key = Some("pk_test_ingest".into());
        s.event = Some("ev".into());
        let ctx = BuildCtx {
            source: SourceId(3),
            moderator: Moderator::default(),
            event: None,
        };
        let p = Postobox::new(&s, &ctx).unwrap();
        let body = br#"{"data":[{"id":"a","text":"hi","status":"SELECTED"},{"id":""},{"id":"b","text":"yo"}],
            "pagination":{"page":1,"limit":100,"total":3,"totalPages":1}}"#;
        let qs = p.ingest_page(body).unwrap();
        let ids: Vec<&str> = qs.iter().map(|q| &*q.id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(qs[0].source, SourceId(3));
        assert!(p.ingest_page(b"{\"error\":{}}").is_none());
        assert!(p.ingest_page(b"<html>").is_none());
    }
}

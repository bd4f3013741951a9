//! Questions on the wire and their mapping to domain questions.

use super::{
    as_int, as_text, author, created_of, field, id_of, is_taken_down, items, unwrap_data,
    updated_of,
};
use crate::domain::{Millis, MyVote, ProviderError, Question, SourceId, Status};
use crate::text::sanitize;
use serde_json::Value;

/// One question as read from the wire, before the provider fills in what the
/// platform did not say (first-seen time, the moderator's own vote).
#[derive(Debug, Clone, PartialEq)]
pub struct WireQuestion {
    pub id: String,
    pub text: String,
    pub author: Option<String>,
    pub votes: i64,
    /// Whether the object carried any vote field (else `votes` is 0 by
    /// default and says nothing).
    pub votes_known: bool,
    pub my_vote: Option<MyVote>,
    pub archived: bool,
    pub created: Option<Millis>,
    pub updated: Option<Millis>,
}

impl WireQuestion {
    /// Reads one question object. Accepted: id in `id`/`hash_id`/
    /// `question_id`/`questionId`/`uuid`; text in `question`/`message`/
    /// `text`/`body`/`content`/`data`; votes in `votes` (a number, or an
    /// object with `up`/`down`), `votes_count`/`votesCount`/`vote_count`/
    /// `score`, or up minus down (`upvotes`/`up_votes`/`upVotes`/`votes_up`/
    /// `likes` and the `down`/`dislikes` forms); the moderator's vote in `my_vote`/
    /// `myVote`/`user_vote`/`userVote`/`voted` as 2/"up" or 1/"down".
    pub fn from_value(v: &Value) -> Option<WireQuestion> {
        let v = unwrap_data(v);
        if !v.is_object() {
            return None;
        }
        let id = id_of(v, &["question_id", "questionId"])?;
        let text = field(
            v,
            &["question", "message", "text", "body", "content", "data"],
        )
        .and_then(as_text)
        .unwrap_or_default();
        let votes = votes_of(v);
        Some(WireQuestion {
            id,
            text: sanitize(&text),
            author: author(v),
            votes: votes.unwrap_or(0),
            votes_known: votes.is_some(),
            my_vote: field(v, &["my_vote", "myVote", "user_vote", "userVote", "voted"])
                .and_then(vote_of),
            archived: is_taken_down(v),
            created: created_of(v),
            updated: updated_of(v),
        })
    }
}

fn votes_of(v: &Value) -> Option<i64> {
    const UP: [&str; 7] = [
        "upvotes", "up_votes", "upVotes", "votes_up", "votesUp", "up", "likes",
    ];
    const DOWN: [&str; 7] = [
        "downvotes",
        "down_votes",
        "downVotes",
        "votes_down",
        "votesDown",
        "down",
        "dislikes",
    ];
    let up_down = |o: &Value| -> Option<i64> {
        let up = field(o, &UP).and_then(as_int);
        let down = field(o, &DOWN).and_then(as_int);
        (up.is_some() || down.is_some()).then(|| up.unwrap_or(0).saturating_sub(down.unwrap_or(0)))
    };
    if let Some(votes) = v.get("votes") {
        if let Some(n) = as_int(votes).filter(|_| !votes.is_boolean()) {
            return Some(n);
        }
        if votes.is_object()
            && let Some(n) = up_down(votes)
        {
            return Some(n);
        }
        if let Value::Array(a) = votes {
            return Some(a.len() as i64);
        }
    }
    field(v, &["votes_count", "votesCount", "vote_count", "score"])
        .and_then(as_int)
        .or_else(|| up_down(v))
}

fn vote_of(v: &Value) -> Option<MyVote> {
    match v {
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "up" | "2" => Some(MyVote::Up),
            "down" | "1" => Some(MyVote::Down),
            "" | "0" | "none" => Some(MyVote::None),
            _ => None,
        },
        Value::Number(_) => match as_int(v)? {
            2 => Some(MyVote::Up),
            1 => Some(MyVote::Down),
            0 => Some(MyVote::None),
            _ => None,
        },
        _ => None,
    }
}

/// All questions of a `questions/read` answer (entries without an id are
/// skipped and logged).
pub fn questions(v: &Value) -> Result<Vec<WireQuestion>, ProviderError> {
    let list = items(v).ok_or_else(|| {
        ProviderError::Protocol("questions/read did not answer with a list".into())
    })?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        match WireQuestion::from_value(item) {
            Some(q) => out.push(q),
            None => tracing::debug!("streams.live: skipped a question without an id"),
        }
    }
    Ok(out)
}

/// Builds the domain question.
pub fn to_question(
    w: &WireQuestion,
    source: SourceId,
    status: Status,
    my_vote: MyVote,
    created: Millis,
    updated: Millis,
) -> Question {
    Question {
        source,
        id: w.id.as_str().into(),
        text: w.text.as_str().into(),
        author: w.author.as_deref().map(Into::into),
        votes: w.votes,
        my_vote,
        status,
        on_air: false,
        created,
        updated,
    }
}

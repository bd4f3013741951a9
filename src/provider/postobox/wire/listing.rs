//! A listing page read straight from its bytes into questions: typed, with
//! strings borrowed from the body where they hold no escapes, and no
//! `Value` of the page in between. Exactly as lenient as reading a `Value`
//! field by field: an item that is not an object or has no usable id is
//! skipped, a mistyped field is absent, and unknown fields are ignored.

use super::{Field, Fields, WireQuestion};
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use std::borrow::Cow;
use std::fmt;

/// One page of a listing.
#[derive(Debug, PartialEq)]
pub struct ListPage<T> {
    /// The usable items, in page order.
    pub items: Vec<T>,
    /// Elements the page's list held, usable or not (what paging counts).
    pub len: usize,
    pub total: Option<u64>,
    pub total_pages: Option<u64>,
    pub limit: Option<u64>,
}

impl<T> Default for ListPage<T> {
    fn default() -> ListPage<T> {
        ListPage {
            items: Vec::new(),
            len: 0,
            total: None,
            total_pages: None,
            limit: None,
        }
    }
}

/// Reads a page of questions, `{"data": [...], "pagination": {...}}` (a
/// bare array also works); `None` for a body that is not JSON or holds no
/// list.
pub fn question_page(body: &[u8]) -> Option<ListPage<WireQuestion>> {
    // UTF-8 checked once for the whole body, not string by string.
    let body = std::str::from_utf8(body).ok()?;
    let mut de = serde_json::Deserializer::from_str(body);
    let page = de.deserialize_any(PageVisitor).ok()?;
    de.end().ok()?;
    page
}

struct PageVisitor;

impl<'de> Visitor<'de> for PageVisitor {
    type Value = Option<ListPage<WireQuestion>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a listing page")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let (items, len) = ItemsVisitor.visit_seq(seq)?;
        Ok(Some(ListPage {
            items,
            len,
            ..ListPage::default()
        }))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data = None;
        let mut pagination = Pagination::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Data => data = map.next_value_seed(DataSeed)?,
                Key::Pagination => pagination = map.next_value::<Pagination>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(data.map(|(items, len)| ListPage {
            items,
            len,
            total: pagination.total,
            total_pages: pagination.total_pages,
            limit: pagination.limit,
        }))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// The keys this reading knows, in pages and in questions.
enum Key {
    Data,
    Pagination,
    Id,
    Text,
    VoteCount,
    Status,
    IsAnonymous,
    AuthorUsername,
    CreatedAt,
    UpdatedAt,
    Total,
    TotalPages,
    Limit,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, k: &str) -> Result<Key, E> {
        Ok(match k {
            "data" => Key::Data,
            "pagination" => Key::Pagination,
            "id" => Key::Id,
            "text" => Key::Text,
            "voteCount" => Key::VoteCount,
            "status" => Key::Status,
            "isAnonymous" => Key::IsAnonymous,
            "authorUsername" => Key::AuthorUsername,
            "createdAt" => Key::CreatedAt,
            "updatedAt" => Key::UpdatedAt,
            "total" => Key::Total,
            "totalPages" => Key::TotalPages,
            "limit" => Key::Limit,
            _ => Key::Other,
        })
    }
}

/// `data`: the list (its questions and length), or `None` for anything
/// else (null, an object: not a listing).
struct DataSeed;

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = Option<(Vec<WireQuestion>, usize)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Lenient(ItemsVisitor))
    }
}

/// A list's usable questions and its length.
struct ItemsVisitor;

impl ItemsVisitor {
    fn visit_seq<'de, A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<(Vec<WireQuestion>, usize), A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut len = 0;
        while let Some(item) = seq.next_element::<Item>()? {
            len += 1;
            items.extend(item.0);
        }
        Ok((items, len))
    }
}

/// Any JSON value: `visit_seq` on a list, `None` for everything else
/// (consumed whole).
struct Lenient(ItemsVisitor);

impl<'de> Visitor<'de> for Lenient {
    type Value = Option<(Vec<WireQuestion>, usize)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(seq).map(Some)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map).map(|_| None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// One element of the list: a question, or nothing usable.
struct Item(Option<WireQuestion>);

impl<'de> de::Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Item, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a question")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut f = Fields::default();
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::Id => &mut f.id,
                Key::Text => &mut f.text,
                Key::VoteCount => &mut f.vote_count,
                Key::Status => &mut f.status,
                Key::IsAnonymous => &mut f.is_anonymous,
                Key::AuthorUsername => &mut f.author_username,
                Key::CreatedAt => &mut f.created_at,
                Key::UpdatedAt => &mut f.updated_at,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<Field<'de>>()?);
        }
        Ok(Item(f.question()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item, A::Error> {
        drain_seq(seq).map(|_| Item(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
        Ok(Item(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
        Ok(Item(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
        Ok(Item(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
        Ok(Item(None))
    }
    fn visit_str<E>(self, _: &str) -> Result<Item, E> {
        Ok(Item(None))
    }
    fn visit_unit<E>(self) -> Result<Item, E> {
        Ok(Item(None))
    }
}

impl<'de> de::Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(s)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Field<'de>, E> {
        Ok(Field::Num(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Field<'de>, E> {
        Ok(Field::Num(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Field<'de>, E> {
        Ok(Number::from_f64(n).map_or(Field::Other, Field::Num))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Field<'de>, E> {
        Ok(Field::Bool(b))
    }
    fn visit_unit<E>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
        drain_map(map).map(|_| Field::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
        drain_seq(seq).map(|_| Field::Other)
    }
}

/// `pagination`: its numbers, each absent unless a whole non-negative one.
#[derive(Default)]
struct Pagination {
    total: Option<u64>,
    total_pages: Option<u64>,
    limit: Option<u64>,
}

impl<'de> de::Deserialize<'de> for Pagination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pagination, D::Error> {
        d.deserialize_any(PaginationVisitor)
    }
}

struct PaginationVisitor;

impl<'de> Visitor<'de> for PaginationVisitor {
    type Value = Pagination;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("pagination")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pagination, A::Error> {
        let mut p = Pagination::default();
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::Total => &mut p.total,
                Key::TotalPages => &mut p.total_pages,
                Key::Limit => &mut p.limit,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let n = map.next_value::<Field<'de>>()?;
            *slot = n.int().and_then(|n| u64::try_from(n).ok());
        }
        Ok(p)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Pagination, A::Error> {
        drain_seq(seq).map(|_| Pagination::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Pagination, E> {
        Ok(Pagination::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Pagination, E> {
        Ok(Pagination::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Pagination, E> {
        Ok(Pagination::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Pagination, E> {
        Ok(Pagination::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Pagination, E> {
        Ok(Pagination::default())
    }
    fn visit_unit<E>(self) -> Result<Pagination, E> {
        Ok(Pagination::default())
    }
}

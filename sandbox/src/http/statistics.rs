//! `/statistics/*` (admin console figures): registrations and group creations per day, and
//! the most (or least) active senders and groups over the stored chat messages.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, HResult, Pagination, data, not_found, parse, to_value};
use crate::error::CodeError;
use crate::state::State;

/// `{start, end}` in Unix ms.
#[derive(Deserialize)]
struct RangeReq {
    #[serde(default)]
    start: i64,
    #[serde(default)]
    end: i64,
}

/// `YYYY-MM-DD` (UTC) of a Unix ms time.
fn utc_day(ms: i64) -> String {
    // Civil date from a day count (proleptic Gregorian, days since 1970-01-01).
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `{total, before, count: {day: n}}` over creation times (ms), zero fields left out as Go
/// does: all rows, those created before `start`, and per UTC day those in `[start, end)`.
fn creation_counts(times: &[i64], r: &RangeReq) -> Value {
    let before = times.iter().filter(|t| **t < r.start).count();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for t in times.iter().filter(|t| (r.start..r.end).contains(*t)) {
        *per_day.entry(utc_day(*t)).or_default() += 1;
    }
    let mut out = serde_json::Map::new();
    if !times.is_empty() {
        out.insert("total".into(), json!(times.len()));
    }
    if before != 0 {
        out.insert("before".into(), json!(before));
    }
    if !per_day.is_empty() {
        out.insert("count".into(), json!(per_day));
    }
    Value::Object(out)
}

/// `/statistics/user/active` and `/statistics/group/active` request.
#[derive(Deserialize)]
struct ActiveReq {
    #[serde(default)]
    start: i64,
    #[serde(default)]
    end: i64,
    /// Least active first.
    #[serde(default)]
    ase: bool,
    /// Users only: count group chats too (single chats always count).
    #[serde(default)]
    group: bool,
    pagination: Option<Pagination>,
}

/// What [`rank`] counted.
struct Ranked {
    /// Messages in range.
    total: usize,
    /// Distinct senders (or groups).
    distinct: usize,
    /// The page of `(ID, count)`.
    ranking: Vec<(String, u64)>,
    /// Messages per UTC day.
    per_day: BTreeMap<String, u64>,
}

/// `MsgData.sendID`, the key of the active-user ranking.
const SEND_ID_FIELD: u32 = 1;
/// `MsgData.groupID`, the key of the active-group ranking.
const GROUP_ID_FIELD: u32 = 3;

/// Messages sent in `[start, end)` in the chat conversations `keep` selects, counted per
/// `key_field` (sender or group) and per UTC day, as v3.8.3's message-document aggregation does:
/// `(message count, ranking, per-day counts)`; the ranking sorted by count (ascending when
/// `ase`; ties by ID here, unordered upstream) and cut as upstream's `$slice` does, from index
/// `pageNumber - 1` (not a page offset), `showNumber` entries.
fn rank(
    st: &State,
    r: &ActiveReq,
    keep: impl Fn(&str) -> bool,
    key_field: u32,
) -> Result<Ranked, CodeError> {
    let Some(page) = &r.pagination else {
        // Upstream dereferences the missing pagination and the call fails.
        return Err(CodeError::internal("pagination is required"));
    };
    let mut per_key: BTreeMap<&[u8], u64> = BTreeMap::new();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0;
    for (cid, conv) in &st.seqs {
        if !keep(&cid.to_ascii_lowercase()) {
            continue;
        }
        for stored in conv.msgs.values() {
            let t = stored.send_time();
            if (r.start..r.end).contains(&t) {
                total += 1;
                // read from the stored bytes, without decoding the message
                let key = crate::wire::bytes_field(stored.encoded(), key_field).unwrap_or_default();
                *per_key.entry(key).or_default() += 1;
                *per_day.entry(utc_day(t)).or_default() += 1;
            }
        }
    }
    let distinct = per_key.len();
    let mut ranking: Vec<(String, u64)> = per_key
        .into_iter()
        .map(|(k, n)| (String::from_utf8_lossy(k).into_owned(), n))
        .collect();
    if r.ase {
        ranking.sort_by_key(|(_, n)| *n);
    } else {
        ranking.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    }
    let from = usize::try_from(page.page_number.saturating_sub(1)).unwrap_or(0);
    let take = usize::try_from(page.show_number).unwrap_or(0);
    let ranking = ranking.into_iter().skip(from).take(take).collect();
    Ok(Ranked {
        total,
        distinct,
        ranking,
        per_day,
    })
}

/// `{msgCount, <countKey>, dateCount, <listKey>: [{<itemKey>: …, count}]}`, zero fields left out.
fn active_json(
    Ranked {
        total,
        distinct,
        ranking,
        per_day,
    }: Ranked,
    count_key: &str,
    list_key: &str,
    item: impl Fn(&str) -> Value,
    item_key: &str,
) -> Value {
    let mut out = serde_json::Map::new();
    if total != 0 {
        out.insert("msgCount".into(), json!(total));
    }
    if distinct != 0 {
        out.insert(count_key.into(), json!(distinct));
    }
    if !per_day.is_empty() {
        out.insert("dateCount".into(), json!(per_day));
    }
    if !ranking.is_empty() {
        let list: Vec<Value> = ranking
            .iter()
            .map(|(id, n)| json!({ item_key: item(id), "count": n }))
            .collect();
        out.insert(list_key.into(), Value::Array(list));
    }
    Value::Object(out)
}

/// Any valid token (v3.8.3 checks nothing more); `start > end` → 1001 on the counts.
pub(crate) fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let st = || ctx.inner.state.lock();
    if path == "/statistics/user/active" || path == "/statistics/group/active" {
        let r: ActiveReq = parse(body)?;
        let st = st();
        if path.ends_with("user/active") {
            let keep = |cid: &str| {
                cid.starts_with("si_")
                    || (r.group && (cid.starts_with("g_") || cid.starts_with("sg_")))
            };
            let ranked = rank(&st, &r, keep, SEND_ID_FIELD)?;
            let user = |id: &str| match st.users.get(id) {
                Some(u) => to_value(u),
                None => json!({"userID": id, "nickname": id}),
            };
            return data(active_json(ranked, "userCount", "users", user, "user"));
        }
        let keep = |cid: &str| cid.starts_with("g_") || cid.starts_with("sg_");
        let ranked = rank(&st, &r, keep, GROUP_ID_FIELD)?;
        let group = |id: &str| match st.group_info(id) {
            Some(g) => to_value(&g),
            None => json!({"groupID": id, "groupName": id}),
        };
        return data(active_json(ranked, "groupCount", "groups", group, "group"));
    }
    let times: Vec<i64> = match path {
        "/statistics/user/register" => st().users.values().map(|u| u.create_time).collect(),
        "/statistics/group/create" => st().groups.values().map(|g| g.info.create_time).collect(),
        _ => return not_found(),
    };
    let r: RangeReq = parse(body)?;
    if r.start > r.end {
        return Err(CodeError::args(format!(
            "start > end: {} > {}",
            r.start, r.end
        )));
    }
    data(creation_counts(&times, &r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(86_399_999), "1970-01-01");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_709_251_199_999), "2024-02-29");
        assert_eq!(utc_day(1_735_689_600_000), "2025-01-01");
        assert_eq!(utc_day(-1), "1969-12-31");
    }

    #[test]
    fn counts_like_the_mongo_queries() {
        let day = 86_400_000;
        let times = [10 * day, 20 * day + 5, 20 * day + 6, 30 * day];
        let r = RangeReq {
            start: 20 * day,
            end: 30 * day,
        };
        assert_eq!(
            creation_counts(&times, &r),
            json!({"total": 4, "before": 1, "count": {"1970-01-21": 2}})
        );
        let r = RangeReq { start: 0, end: 0 };
        assert_eq!(creation_counts(&times, &r), json!({"total": 4}));
        assert_eq!(creation_counts(&[], &r), json!({}));
    }
}

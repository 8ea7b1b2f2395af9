//! `/statistics/*` (admin console figures). Served: the registration and group-creation
//! counts; the active-user and active-group rankings (v3.8.3 computes them with a message
//! document aggregation) are not.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, HResult, data, not_found, parse};
use crate::error::CodeError;

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

/// Any valid token (v3.8.3 checks nothing more); `start > end` → 1001.
pub(crate) fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let st = || ctx.inner.state.lock();
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

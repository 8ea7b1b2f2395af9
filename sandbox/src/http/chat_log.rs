//! `/msg/search_msg`: the admin-console chat-log search (http-api.md §5.4).
//!
//! Upstream scans the stored messages of single and group chats (never the `n_`
//! notification conversations), filters them, sorts them newest first and pages the
//! result; revoked messages come back as their 2101 revoke notice. The API layer
//! then decorates each hit: the recipient's nickname for single chats, the group's
//! name, owner, size and type for group chats, where it also reports the groupID as
//! `recvID` and the group's avatar as `senderFaceURL` (an upstream quirk kept here).

use openim_protocol::api::msg::{ChatLog, SearchChatLog, SearchMsgReq, SearchMsgResp};

use super::{Ctx, HResult, data, parse, to_value};
use crate::error::CodeError;
use crate::state::{State, detail_content};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Handles `/msg/search_msg` (any token).
pub(crate) fn search(ctx: &Ctx, body: &[u8]) -> HResult {
    let r: SearchMsgReq = parse(body)?;
    let day = if r.send_time.is_empty() {
        None
    } else {
        let start = day_start_ms(&r.send_time).ok_or_else(|| {
            CodeError::args(format!(
                "invalid sendTime {:?}, want YYYY-MM-DD",
                r.send_time
            ))
        })?;
        Some(start..start + DAY_MS)
    };
    let st = ctx.inner.state.lock();
    let mut hits: Vec<SearchChatLog> = Vec::new();
    for (conversation_id, conv) in &st.seqs {
        if !is_chat_conversation(conversation_id) {
            continue;
        }
        for stored in conv.msgs.values() {
            // the fields kept beside the encoding first: most messages are decoded for nothing
            if (r.session_type != 0 && stored.session_type() != r.session_type)
                || day
                    .as_ref()
                    .is_some_and(|d| !d.contains(&stored.send_time()))
            {
                continue;
            }
            let m = &stored.msg();
            let matches = (r.send_id.is_empty() || m.send_id.contains(&r.send_id))
                && (r.recv_id.is_empty()
                    || m.recv_id.contains(&r.recv_id)
                    || m.group_id.contains(&r.recv_id))
                && (r.content_type == 0 || m.content_type == r.content_type)
                && (r.session_type == 0 || m.session_type == r.session_type)
                && day.as_ref().is_none_or(|d| d.contains(&m.send_time));
            if !matches {
                continue;
            }
            let mut log = chat_log(&st, m);
            if let Some(revoked) = stored.revoked() {
                log.content_type = 2101;
                log.content = String::from_utf8_lossy(&detail_content(revoked)).into_owned();
            }
            hits.push(SearchChatLog {
                chat_log: Some(log),
                is_revoked: stored.revoked().is_some(),
            });
        }
    }
    // Newest first; the seq keeps messages of one millisecond in a stable order.
    hits.sort_by_key(|h| {
        h.chat_log
            .as_ref()
            .map(|l| (std::cmp::Reverse(l.send_time), std::cmp::Reverse(l.seq)))
    });
    let total = i32::try_from(hits.len()).unwrap_or(i32::MAX);
    let page = r.pagination.unwrap_or_default();
    if page.page_number < 1 {
        return Err(CodeError::args("pageNumber is invalid"));
    }
    let show = usize::try_from(page.show_number.max(0)).unwrap_or(0);
    let start = usize::try_from(page.page_number - 1)
        .unwrap_or(0)
        .saturating_mul(show);
    let chat_logs = hits.into_iter().skip(start).take(show).collect();
    data(to_value(&SearchMsgResp {
        chat_logs,
        chat_logs_num: total,
    }))
}

/// Single and group chats; notification conversations (`n_…`) are not searched.
fn is_chat_conversation(conversation_id: &str) -> bool {
    ["si_", "sg_", "g_"]
        .iter()
        .any(|p| conversation_id.starts_with(p))
}

/// A stored message as the search reports it.
fn chat_log(st: &State, m: &openim_protocol::pb::sdkws::MsgData) -> ChatLog {
    let mut log = ChatLog {
        server_msg_id: m.server_msg_id.clone(),
        client_msg_id: m.client_msg_id.clone(),
        send_id: m.send_id.clone(),
        recv_id: m.recv_id.clone(),
        group_id: m.group_id.clone(),
        sender_platform_id: m.sender_platform_id,
        sender_nickname: m.sender_nickname.clone(),
        sender_face_url: m.sender_face_url.clone(),
        session_type: m.session_type,
        msg_from: m.msg_from,
        content_type: m.content_type,
        content: String::from_utf8_lossy(&m.content).into_owned(),
        status: m.status,
        send_time: m.send_time,
        create_time: m.create_time,
        ex: m.ex.clone(),
        seq: m.seq,
        ..Default::default()
    };
    if m.group_id.is_empty() {
        log.recv_nickname = st.nickname(&m.recv_id);
    } else if let Some(group) = st.group_info(&m.group_id) {
        log.recv_id = m.group_id.clone();
        log.sender_face_url = group.face_url.clone();
        log.group_name = group.group_name.clone();
        log.group_member_count = group.member_count;
        log.group_owner = group.owner_user_id.clone();
        log.group_type = group.group_type;
    }
    log
}

/// Midnight UTC of a `YYYY-MM-DD` day, in ms since the epoch.
fn day_start_ms(day: &str) -> Option<i64> {
    let mut parts = day.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max_day = if m == 2 && leap {
        29
    } else {
        *month_days.get(m.checked_sub(1)? as usize)?
    };
    if d == 0 || d > max_day {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY_MS)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_parsed_as_utc_midnights() {
        assert_eq!(day_start_ms("1970-01-01"), Some(0));
        assert_eq!(day_start_ms("2000-03-01"), Some(951_868_800_000));
        assert_eq!(day_start_ms("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(day_start_ms("2023-02-29"), None);
        for bad in [
            "",
            "2024-1-01",
            "2024-13-01",
            "2024-00-10",
            "24-01-01",
            "2024-01-01-01",
            "yesterday",
        ] {
            assert_eq!(day_start_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_chat_conversations_are_searched() {
        assert!(is_chat_conversation("si_a_b"));
        assert!(is_chat_conversation("sg_123"));
        assert!(!is_chat_conversation("n_si_a_b"));
        assert!(!is_chat_conversation("n_123"));
    }
}

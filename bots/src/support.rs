//! support: a customer-service desk.
//!
//! A customer writes to the bot privately. A question matching an FAQ entry is answered at once;
//! anything else (or `/human`) opens a numbered ticket — one open ticket per customer — posted to
//! the agents group. Outside opening hours the customer is told when someone will answer.
//! An agent takes a ticket with `/claim N`; from then on the customer's messages are relayed to the
//! agents group (mentioning the agent) and the agent answers with `#N text` (or `/reply N text`) in
//! the group, or simply by writing to the bot privately (an agent with no ticket in hand who writes
//! privately gets a hint instead of opening a ticket). Pictures, files, voice messages and
//! stickers go both ways too: a line saying what it is (`#3 Ann: [picture]`), then the item
//! itself; a picture as a customer's first message opens a ticket. `/close N` (agent) or `/close`
//! (customer) closes the ticket and asks the satisfaction question; a 1–5 answer is recorded.
//!
//! Every state change is written to the [`StateStore`] before the actions are returned, and each
//! conversation's last handled seq is remembered, so a restart loses nothing and a message
//! redelivered after a crash is not handled twice.
//!
//! What cannot be posted to the agents group (the bot is not a member yet, the group is gone) is
//! kept, oldest first and at most [`BACKLOG_MAX`] messages, and posted marked late once the group
//! can be reached; the customer is told (`agents_unreachable`). An entry is taken out before it
//! is posted, so a crash loses it rather than posting it twice, and dropped after
//! [`BACKLOG_TRIES`] failed posts.

use chrono::{DateTime, Datelike, FixedOffset, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::action::{Action, Attachment, MessageView, Target};
use crate::settings::{Invalid, compile_regex};
use crate::state::{StateError, StateExt, StateStore};

/// `[bots.support.hours]`: when humans are around.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSettings {
    /// Open days: `mon` … `sun`.
    #[serde(default = "default_days")]
    pub days: Vec<String>,
    /// Opening time, `HH:MM`.
    pub open: String,
    /// Closing time, `HH:MM` (after `open`).
    pub close: String,
    /// The time zone as an offset from UTC, e.g. `+08:00`.
    #[serde(default = "default_offset")]
    pub utc_offset: String,
}

fn default_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .map(String::from)
        .to_vec()
}
fn default_offset() -> String {
    "+00:00".to_owned()
}

/// One `[[bots.support.faq]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaqSettings {
    /// Regex matched against the question.
    pub pattern: String,
    /// The answer.
    pub answer: String,
}

/// `[bots.support]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupportSettings {
    /// Run this bot (default true when the table is present).
    #[serde(default = "crate::settings::default_true")]
    pub enabled: bool,
    /// The group where agents receive and claim tickets (the bot must be a member).
    #[serde(default)]
    pub agents_group: String,
    /// Opening hours; absent = always open.
    #[serde(default)]
    pub hours: Option<HoursSettings>,
    /// FAQ entries, tried in order.
    #[serde(default)]
    pub faq: Vec<FaqSettings>,
    /// Sent when a ticket opens (`{n}` = ticket number).
    #[serde(default = "default_opened")]
    pub ticket_opened: String,
    /// Added when a ticket opens outside the hours (`{hours}` = the opening hours).
    #[serde(default = "default_out_of_hours")]
    pub out_of_hours: String,
    /// Asked when a ticket closes.
    #[serde(default = "default_satisfaction")]
    pub satisfaction_question: String,
    /// Sent to a customer whose message could not be passed to the agents group (the bot is
    /// not a member, the group is gone, the server refused it). The message is kept and posted
    /// to the group, marked late, once the group can be reached.
    #[serde(default = "default_unreachable")]
    pub agents_unreachable: String,
}

fn default_opened() -> String {
    "Thanks! Your ticket #{n} is open; an agent will answer you here.".to_owned()
}
fn default_out_of_hours() -> String {
    "We are closed right now (opening hours: {hours}); an agent will answer when we open."
        .to_owned()
}
fn default_satisfaction() -> String {
    "How satisfied are you with our help? Answer 1 (poor) to 5 (excellent).".to_owned()
}
fn default_unreachable() -> String {
    "Sorry, we cannot reach our agents right now; your message will be passed on as soon as we \
     can."
        .to_owned()
}

impl Default for SupportSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            agents_group: String::new(),
            hours: None,
            faq: Vec::new(),
            ticket_opened: default_opened(),
            out_of_hours: default_out_of_hours(),
            satisfaction_question: default_satisfaction(),
            agents_unreachable: default_unreachable(),
        }
    }
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TicketState {
    /// Waiting for an agent.
    Waiting,
    /// An agent is handling it.
    Claimed,
    /// Closed; the satisfaction answer is pending.
    AwaitingRating,
    /// Done.
    Closed,
}

/// A support ticket (persisted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Ticket number (1, 2, …).
    pub number: u64,
    /// The customer.
    pub user_id: String,
    /// The customer's name.
    pub nickname: String,
    /// State.
    pub state: TicketState,
    /// The first message.
    pub subject: String,
    /// The agent handling it.
    pub agent_id: Option<String>,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// Messages exchanged so far (both ways).
    pub messages: u32,
    /// The satisfaction answer (1–5).
    pub rating: Option<u8>,
    /// Opening time (ms).
    pub opened_ms: i64,
}

#[derive(Debug, Clone)]
struct Hours {
    days: Vec<Weekday>,
    open: NaiveTime,
    close: NaiveTime,
    offset: FixedOffset,
    text: String,
}

impl Hours {
    fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.offset);
        let t = local.time();
        self.days.contains(&local.weekday()) && t >= self.open && t < self.close
    }
}

/// The compiled desk.
#[derive(Debug, Clone)]
pub struct Desk {
    agents_group: String,
    hours: Option<Hours>,
    faq: Vec<(regex::Regex, String)>,
    ticket_opened: String,
    out_of_hours: String,
    satisfaction_question: String,
    agents_unreachable: String,
}

const PREFIX: &str = "bots.support";

const AGENT_USAGE: &str =
    "Agent commands: /claim N · #N text (or /reply N text) · /close N · /tickets";

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * secs)
}

impl Desk {
    /// Compiles and checks the settings.
    pub fn from_settings(s: &SupportSettings) -> Result<Self, Invalid> {
        if s.enabled && s.agents_group.trim().is_empty() {
            return Err(Invalid::new(
                format!("{PREFIX}.agents_group"),
                "set the group ID where agents work",
            ));
        }
        let hours = match &s.hours {
            None => None,
            Some(h) => {
                let key = |k: &str| format!("{PREFIX}.hours.{k}");
                let time = |k: &str, v: &str| {
                    NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
                        Invalid::new(
                            key(k),
                            format!("{v:?} is not a time; write HH:MM, e.g. \"09:00\""),
                        )
                    })
                };
                let open = time("open", &h.open)?;
                let close = time("close", &h.close)?;
                if close <= open {
                    return Err(Invalid::new(key("close"), "must be after `open`"));
                }
                let days = h
                    .days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        parse_weekday(d).ok_or_else(|| {
                            Invalid::new(
                                format!("{PREFIX}.hours.days[{i}]"),
                                format!("{d:?} is not a day; use mon … sun"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if days.is_empty() {
                    return Err(Invalid::new(key("days"), "list at least one day"));
                }
                let offset = parse_offset(&h.utc_offset).ok_or_else(|| {
                    Invalid::new(
                        key("utc_offset"),
                        format!("{:?} is not an offset; write e.g. \"+08:00\"", h.utc_offset),
                    )
                })?;
                let text = format!(
                    "{} {}–{} (UTC{})",
                    h.days.join("/"),
                    open.format("%H:%M"),
                    close.format("%H:%M"),
                    offset
                );
                Some(Hours {
                    days,
                    open,
                    close,
                    offset,
                    text,
                })
            }
        };
        let faq = s
            .faq
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Ok((
                    compile_regex(&format!("{PREFIX}.faq[{i}].pattern"), &f.pattern)?,
                    f.answer.clone(),
                ))
            })
            .collect::<Result<Vec<_>, Invalid>>()?;
        Ok(Self {
            agents_group: s.agents_group.clone(),
            hours,
            faq,
            ticket_opened: s.ticket_opened.clone(),
            out_of_hours: s.out_of_hours.clone(),
            satisfaction_question: s.satisfaction_question.clone(),
            agents_unreachable: s.agents_unreachable.clone(),
        })
    }

    /// The agents group.
    pub fn agents_group(&self) -> &str {
        &self.agents_group
    }

    /// What to tell `customer` when the actions of their message that `failed` include one for
    /// the agents group: the ticket notice or the relay never reached a person, and the
    /// customer was told (or assumes) that it did. What was meant for the agents is kept, to be
    /// posted once the group can be reached ([`Desk::backlog`]).
    pub fn undelivered(
        &self,
        customer: &str,
        failed: &[(Action, String)],
        state: &dyn StateStore,
    ) -> Result<Option<Action>, StateError> {
        let kept = self.keep_for_agents(state, failed.iter().map(|(a, _)| a))?;
        // Once until the group is reached again (see `Desk::reached`), not after every message.
        let told = told_key(customer);
        if !kept || state.get_raw(&told)?.is_some() {
            return Ok(None);
        }
        state.put_json(&told, &true)?;
        Ok(Some(Action::Send {
            to: Target::User(customer.to_owned()),
            text: self.agents_unreachable.clone(),
        }))
    }

    /// The agents group was reached and its backlog is empty: a customer whose message misses it
    /// from now on is told again ([`Desk::undelivered`]). Returns whether anything changed.
    pub fn reached(&self, state: &dyn StateStore) -> Result<bool, StateError> {
        let told = state.scan_prefix(TOLD_PREFIX)?;
        for (key, _) in &told {
            state.remove(key)?;
        }
        Ok(!told.is_empty())
    }

    /// Whether `action` is meant for the agents group.
    pub fn is_for_agents(&self, action: &Action) -> bool {
        match action {
            Action::Send { to, .. } | Action::Forward { to, .. } => {
                matches!(to, Target::Group(g) if *g == self.agents_group)
            }
            Action::Mention { group_id, .. } => *group_id == self.agents_group,
            _ => false,
        }
    }

    /// The text an action meant for the agents group carries (a forwarded attachment as a line
    /// saying what it was), or `None` if it is meant for someone else.
    fn meant_for_agents(&self, action: &Action) -> Option<(String, Vec<String>)> {
        if !self.is_for_agents(action) {
            return None;
        }
        match action {
            Action::Send { text, .. } => Some((text.clone(), Vec::new())),
            Action::Forward { attachment, .. } => Some((
                format!("{} (could not be forwarded)", attachment.summary),
                Vec::new(),
            )),
            Action::Mention { text, user_ids, .. } => Some((text.clone(), user_ids.clone())),
            _ => None,
        }
    }

    /// Keeps what `actions` meant for the agents group, after what is kept already (the oldest
    /// dropped beyond [`BACKLOG_MAX`]); returns whether one was.
    pub fn keep_for_agents<'a>(
        &self,
        state: &dyn StateStore,
        actions: impl IntoIterator<Item = &'a Action>,
    ) -> Result<bool, StateError> {
        let mut kept = false;
        for (text, user_ids) in actions.into_iter().filter_map(|a| self.meant_for_agents(a)) {
            let n = state.get_json::<u64>(BACKLOG_NEXT)?.unwrap_or(1);
            let missed = Missed {
                key: String::new(),
                text,
                mentions: user_ids,
                tries: 0,
            };
            state.put_json(&backlog_key(n), &missed)?;
            state.put_json(BACKLOG_NEXT, &(n + 1))?;
            kept = true;
        }
        if kept {
            let all = state.scan_prefix(BACKLOG_PREFIX)?;
            let over = all.len().saturating_sub(BACKLOG_MAX);
            if over > 0 {
                tracing::warn!(
                    dropped = over,
                    group = %self.agents_group,
                    "support: the agents group's backlog is full; its oldest messages are dropped"
                );
            }
            for (key, _) in all.into_iter().take(over) {
                state.remove(&key)?;
            }
        }
        Ok(kept)
    }

    /// What the agents group missed while it could not be reached, oldest first. An entry that
    /// does not decode is dropped with a warning (it would block the rest).
    pub fn backlog(&self, state: &dyn StateStore) -> Result<Vec<Missed>, StateError> {
        let mut out = Vec::new();
        for (key, v) in state.scan_prefix(BACKLOG_PREFIX)? {
            match serde_json::from_slice::<Missed>(&v) {
                Ok(m) => out.push(Missed { key, ..m }),
                Err(e) => {
                    tracing::warn!(key, error = %e, "support: a backlog entry does not decode; dropped");
                    state.remove(&key)?;
                }
            }
        }
        Ok(out)
    }

    /// The post of a [`Desk::backlog`] entry, marked as late.
    pub fn late_post(&self, missed: &Missed) -> Action {
        let text = format!("(late: the group was out of reach) {}", missed.text);
        if missed.mentions.is_empty() {
            return self.to_agents(text);
        }
        // The relay to a claimed ticket's agent @-mentions them, late as well.
        Action::Mention {
            group_id: self.agents_group.clone(),
            text,
            user_ids: missed.mentions.clone(),
        }
    }

    /// Takes an entry out of the backlog before it is posted: a crash while posting loses it
    /// rather than posting it twice, as every action of the bots (`crate::replay`).
    pub fn posting(&self, state: &dyn StateStore, missed: &Missed) -> Result<(), StateError> {
        state.remove(&missed.key)
    }

    /// Puts back an entry whose post failed, or drops it (with a warning) after
    /// [`BACKLOG_TRIES`] failures: one the server always refuses must not block the rest.
    pub fn post_failed(&self, state: &dyn StateStore, missed: &Missed) -> Result<(), StateError> {
        let tries = missed.tries + 1;
        if tries >= BACKLOG_TRIES {
            tracing::warn!(
                key = %missed.key,
                tries,
                "support: a message for the agents group failed every try; dropped"
            );
            return Ok(());
        }
        state.put_json(
            &missed.key,
            &Missed {
                tries,
                ..missed.clone()
            },
        )
    }

    /// Reads a ticket.
    pub fn ticket(&self, state: &dyn StateStore, n: u64) -> Result<Option<Ticket>, StateError> {
        state.get_json(&ticket_key(n))
    }

    /// Tickets not yet closed, oldest first.
    pub fn open_tickets(&self, state: &dyn StateStore) -> Result<Vec<Ticket>, StateError> {
        let mut out = Vec::new();
        for (k, v) in state.scan_prefix("v1/support/ticket/")? {
            let t: Ticket =
                serde_json::from_slice(&v).map_err(|source| StateError::Json { key: k, source })?;
            if matches!(t.state, TicketState::Waiting | TicketState::Claimed) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Handles any message the bot receives (private or group). Returns what to send.
    pub fn handle(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
    ) -> Result<Vec<Action>, StateError> {
        self.handle_from(msg, state, false)
    }

    /// [`Desk::handle`], told whether the sender is a member of the agents group: an agent with
    /// no ticket in hand who writes privately gets a hint instead of opening a ticket of their
    /// own (unless they have one open as a customer).
    pub fn handle_from(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
        sender_is_agent: bool,
    ) -> Result<Vec<Action>, StateError> {
        // Idempotency: a message redelivered after a restart is not handled twice.
        let seen_key = format!("v1/support/seen/{}", msg.conversation_id);
        if crate::replay::is_redelivery(state, &seen_key, msg)? {
            return Ok(Vec::new());
        }
        crate::replay::record(state, &seen_key, msg)?;
        match msg.group_id.as_deref() {
            Some(g) if g == self.agents_group => self.agents_message(msg, state),
            Some(_) => Ok(Vec::new()),
            None => {
                let active_key = agent_active_key(&msg.sender_id);
                if let Some(n) = state.get_json::<u64>(&active_key)? {
                    match self.ticket(state, n)? {
                        Some(t)
                            if t.state == TicketState::Claimed
                                && t.agent_id.as_deref() == Some(&msg.sender_id) =>
                        {
                            return self.agent_private(msg, t, state);
                        }
                        _ => state.remove(&active_key)?,
                    }
                }
                if sender_is_agent && !self.has_open_ticket(state, &msg.sender_id)? {
                    return Ok(vec![Action::Send {
                        to: Target::User(msg.sender_id.clone()),
                        text: format!(
                            "You have no ticket in hand. In the agents group: /tickets lists the \
                             open ones, /claim N takes one. ({AGENT_USAGE})"
                        ),
                    }]);
                }
                self.customer_message(msg, state)
            }
        }
    }

    /// Whether `user` has a ticket of their own (as a customer) not yet closed.
    fn has_open_ticket(&self, state: &dyn StateStore, user: &str) -> Result<bool, StateError> {
        let Some(n) = state.get_json::<u64>(&customer_key(user))? else {
            return Ok(false);
        };
        Ok(self
            .ticket(state, n)?
            .is_some_and(|t| t.state != TicketState::Closed))
    }

    fn save(&self, state: &dyn StateStore, t: &Ticket) -> Result<(), StateError> {
        state.put_json(&ticket_key(t.number), t)
    }

    fn to_agents(&self, text: String) -> Action {
        Action::Send {
            to: Target::Group(self.agents_group.clone()),
            text,
        }
    }

    fn customer_message(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
    ) -> Result<Vec<Action>, StateError> {
        let user = &msg.sender_id;
        let text = msg.text.trim();
        let to_user = |text: String| Action::Send {
            to: Target::User(user.clone()),
            text,
        };
        // A picture, file or sticker is passed on as it is, after a line saying what it is.
        let forward = |to: Target| {
            msg.attachment
                .clone()
                .map(|attachment| Action::Forward { to, attachment })
        };
        let shown = match &msg.attachment {
            Some(a) => a.summary.as_str(),
            None => text,
        };
        if shown.is_empty() {
            // An empty text has nothing to pass on; an attachment that says nothing of itself
            // cannot be shown to an agent.
            return Ok(match msg.attachment {
                None => Vec::new(),
                Some(_) => vec![to_user("I can only read text messages, sorry.".to_owned())],
            });
        }
        let customer_key = customer_key(user);
        if let Some(n) = state.get_json::<u64>(&customer_key)?
            && let Some(mut t) = self.ticket(state, n)?
        {
            match t.state {
                TicketState::AwaitingRating => {
                    state.remove(&customer_key)?;
                    if let Ok(r @ 1..=5) = text.parse::<u8>() {
                        t.rating = Some(r);
                        t.state = TicketState::Closed;
                        self.save(state, &t)?;
                        return Ok(vec![
                            to_user(format!("Thank you for rating ticket #{n} {r}/5!")),
                            self.to_agents(format!(
                                "Ticket #{n} ({}) was rated {r}/5.",
                                t.nickname
                            )),
                        ]);
                    }
                    // Anything else: close without a rating and treat the text as a new request.
                    t.state = TicketState::Closed;
                    self.save(state, &t)?;
                }
                TicketState::Closed => state.remove(&customer_key)?,
                TicketState::Waiting | TicketState::Claimed => {
                    if text.eq_ignore_ascii_case("/close") {
                        return self.close(state, t, msg.display_name());
                    }
                    t.messages += 1;
                    self.save(state, &t)?;
                    let relay = format!("#{n} {}: {shown}", t.nickname);
                    let mut actions = vec![match (&t.state, &t.agent_id) {
                        (TicketState::Claimed, Some(agent)) => Action::Mention {
                            group_id: self.agents_group.clone(),
                            text: format!("@{} {relay}", t.agent_name.as_deref().unwrap_or(agent)),
                            user_ids: vec![agent.clone()],
                        },
                        _ => self.to_agents(relay),
                    }];
                    actions.extend(forward(Target::Group(self.agents_group.clone())));
                    return Ok(actions);
                }
            }
        }
        if text.eq_ignore_ascii_case("/help") {
            return Ok(vec![to_user(
                "Ask me anything: I answer common questions myself and pass the rest to a human. \
                 Write /human to talk to a person, /close to end a conversation."
                    .to_owned(),
            )]);
        }
        if text.eq_ignore_ascii_case("/close") {
            return Ok(vec![to_user("You have no open ticket.".to_owned())]);
        }
        let wants_human = text.eq_ignore_ascii_case("/human");
        if !wants_human
            && !text.is_empty()
            && let Some((_, answer)) = self.faq.iter().find(|(re, _)| re.is_match(text))
        {
            return Ok(vec![to_user(format!(
                "{answer}\n(Not what you needed? Write /human to reach a person.)"
            ))]);
        }
        // Open a ticket.
        let n = state
            .get_json::<u64>("v1/support/next_ticket")?
            .unwrap_or(1);
        state.put_json("v1/support/next_ticket", &(n + 1))?;
        let t = Ticket {
            number: n,
            user_id: user.clone(),
            nickname: msg.display_name().to_owned(),
            state: TicketState::Waiting,
            subject: if wants_human {
                "(asked for a human)".to_owned()
            } else {
                shown.to_owned()
            },
            agent_id: None,
            agent_name: None,
            messages: 1,
            rating: None,
            opened_ms: msg.send_time_ms,
        };
        self.save(state, &t)?;
        state.put_json(&customer_key, &n)?;
        let mut reply = self.ticket_opened.replace("{n}", &n.to_string());
        if let Some(h) = &self.hours
            && let Some(at) = DateTime::<Utc>::from_timestamp_millis(msg.send_time_ms)
            && !h.is_open(at)
        {
            reply.push(' ');
            reply.push_str(&self.out_of_hours.replace("{hours}", &h.text));
        }
        let mut actions = vec![
            to_user(reply),
            self.to_agents(format!(
                "New ticket #{n} from {} ({user}): {} — take it with /claim {n}",
                t.nickname, t.subject
            )),
        ];
        actions.extend(forward(Target::Group(self.agents_group.clone())));
        Ok(actions)
    }

    fn close(
        &self,
        state: &dyn StateStore,
        mut t: Ticket,
        by: &str,
    ) -> Result<Vec<Action>, StateError> {
        let n = t.number;
        t.state = TicketState::AwaitingRating;
        self.save(state, &t)?;
        if let Some(agent) = &t.agent_id
            && state.get_json::<u64>(&agent_active_key(agent))? == Some(n)
        {
            state.remove(&agent_active_key(agent))?;
        }
        Ok(vec![
            Action::Send {
                to: Target::User(t.user_id.clone()),
                text: format!("Ticket #{n} is closed. {}", self.satisfaction_question),
            },
            self.to_agents(format!("Ticket #{n} closed by {by}.")),
        ])
    }

    /// An agent's answer to the customer: `text`, or an attachment's summary followed by the
    /// attachment itself.
    fn relay_to_customer(
        &self,
        state: &dyn StateStore,
        mut t: Ticket,
        agent_name: &str,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<Vec<Action>, StateError> {
        t.messages += 1;
        self.save(state, &t)?;
        let to = Target::User(t.user_id.clone());
        let shown = attachment.map_or(text, |a| a.summary.as_str());
        let mut actions = vec![Action::Send {
            to: to.clone(),
            text: format!("{agent_name} (support): {shown}"),
        }];
        if let Some(a) = attachment {
            actions.push(Action::Forward {
                to,
                attachment: a.clone(),
            });
        }
        Ok(actions)
    }

    fn agent_private(
        &self,
        msg: &MessageView,
        t: Ticket,
        state: &dyn StateStore,
    ) -> Result<Vec<Action>, StateError> {
        let text = msg.text.trim();
        if text.eq_ignore_ascii_case("/close") {
            return self.close(state, t, msg.display_name());
        }
        if text.is_empty() && msg.attachment.is_none() {
            return Ok(Vec::new());
        }
        self.relay_to_customer(state, t, msg.display_name(), text, msg.attachment.as_ref())
    }

    fn agents_message(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
    ) -> Result<Vec<Action>, StateError> {
        // An agent may address the bot (or a colleague) first: "@Bot #1 text".
        let mut text = msg.text.trim();
        while let Some(rest) = msg
            .at_names
            .iter()
            .find_map(|name| text.strip_prefix(name.as_str()))
        {
            text = rest.trim_start();
        }
        let reply = |s: String| Ok(vec![self.to_agents(s)]);
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or_default().to_ascii_lowercase();
        let number =
            |w: Option<&str>| w.and_then(|w| w.trim_start_matches('#').parse::<u64>().ok());
        match first.as_str() {
            "/tickets" => {
                let open = self.open_tickets(state)?;
                if open.is_empty() {
                    return reply("No open tickets.".to_owned());
                }
                let lines: Vec<String> = open
                    .iter()
                    .map(|t| match &t.agent_name {
                        Some(a) => format!(
                            "#{} {} — {} (claimed by {a})",
                            t.number, t.nickname, t.subject
                        ),
                        None => format!("#{} {} — {} (waiting)", t.number, t.nickname, t.subject),
                    })
                    .collect();
                reply(format!("Open tickets:\n{}", lines.join("\n")))
            }
            "/claim" => {
                let Some(n) = number(words.next()) else {
                    return reply("Usage: /claim N".to_owned());
                };
                let Some(mut t) = self.ticket(state, n)? else {
                    return reply(format!("There is no ticket #{n}."));
                };
                match t.state {
                    TicketState::Waiting => {
                        t.state = TicketState::Claimed;
                        t.agent_id = Some(msg.sender_id.clone());
                        t.agent_name = Some(msg.display_name().to_owned());
                        self.save(state, &t)?;
                        state.put_json(&agent_active_key(&msg.sender_id), &n)?;
                        Ok(vec![
                            self.to_agents(format!(
                                "Ticket #{n} claimed by {}. Answer with #{n} <text> here, or write to me privately.",
                                msg.display_name()
                            )),
                            Action::Send {
                                to: Target::User(t.user_id.clone()),
                                text: format!("{} from our team is now handling your ticket #{n}.", msg.display_name()),
                            },
                        ])
                    }
                    TicketState::Claimed => reply(format!(
                        "Ticket #{n} is already handled by {}.",
                        t.agent_name.as_deref().unwrap_or("another agent")
                    )),
                    _ => reply(format!("Ticket #{n} is closed.")),
                }
            }
            "/close" => {
                let Some(n) = number(words.next()) else {
                    return reply("Usage: /close N".to_owned());
                };
                match self.ticket(state, n)? {
                    Some(t) if matches!(t.state, TicketState::Waiting | TicketState::Claimed) => {
                        self.close(state, t, msg.display_name())
                    }
                    Some(_) => reply(format!("Ticket #{n} is already closed.")),
                    None => reply(format!("There is no ticket #{n}.")),
                }
            }
            w if w == "/reply" || (w.starts_with('#') && w.len() > 1) => {
                // The answer as the agent wrote it (line breaks and spacing kept).
                let (n, body) = if w == "/reply" {
                    (number(words.next()), after_words(text, 2).to_owned())
                } else {
                    (number(Some(w)), after_words(text, 1).to_owned())
                };
                let (Some(n), false) = (n, body.is_empty()) else {
                    return reply("Usage: #N text  (or /reply N text)".to_owned());
                };
                match self.ticket(state, n)? {
                    Some(t)
                        if t.state == TicketState::Claimed
                            && t.agent_id.as_deref() == Some(&msg.sender_id) =>
                    {
                        self.relay_to_customer(state, t, msg.display_name(), &body, None)
                    }
                    Some(t) if t.state == TicketState::Claimed => reply(format!(
                        "Ticket #{n} is handled by {}.",
                        t.agent_name.as_deref().unwrap_or("another agent")
                    )),
                    Some(t) if t.state == TicketState::Waiting => {
                        reply(format!("Claim ticket #{n} first: /claim {n}"))
                    }
                    Some(_) => reply(format!("Ticket #{n} is closed.")),
                    None => reply(format!("There is no ticket #{n}.")),
                }
            }
            "/help" => reply(AGENT_USAGE.to_owned()),
            _ => Ok(Vec::new()),
        }
    }
}

/// Where the agents group's backlog is kept (see [`Desk::backlog`]), and its next number.
const BACKLOG_PREFIX: &str = "v1/support/backlog/";
const BACKLOG_NEXT: &str = "v1/support/backlog_next";

/// Most messages the agents group's backlog keeps (the oldest go first).
pub const BACKLOG_MAX: usize = 200;

/// Failed posts after which a backlog entry is dropped.
pub const BACKLOG_TRIES: u32 = 5;

/// A message the agents group missed (see [`Desk::backlog`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missed {
    /// Its key in the state store.
    #[serde(skip)]
    pub key: String,
    /// The text meant for the group.
    pub text: String,
    /// Who it @-mentions (a relay to a claimed ticket's agent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Failed posts so far.
    pub tries: u32,
}

/// `text` after its first `n` words, as written (line breaks and spacing kept).
fn after_words(text: &str, n: usize) -> &str {
    let mut rest = text.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

/// Customers told that the agents group cannot be reached (see [`Desk::undelivered`]).
const TOLD_PREFIX: &str = "v1/support/told_unreachable/";

fn told_key(customer: &str) -> String {
    format!("{TOLD_PREFIX}{customer}")
}

fn backlog_key(n: u64) -> String {
    format!("{BACKLOG_PREFIX}{n:012}")
}
fn ticket_key(n: u64) -> String {
    format!("v1/support/ticket/{n:012}")
}
fn customer_key(user: &str) -> String {
    format!("v1/support/customer/{user}")
}
fn agent_active_key(agent: &str) -> String {
    format!("v1/support/agent/{agent}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryState;

    fn desk() -> Desk {
        Desk::from_settings(&SupportSettings {
            agents_group: "agents".into(),
            hours: Some(HoursSettings {
                days: default_days(),
                open: "09:00".into(),
                close: "18:00".into(),
                utc_offset: "+00:00".into(),
            }),
            faq: vec![FaqSettings {
                pattern: "(?i)price|cost".into(),
                answer: "It is free.".into(),
            }],
            ..Default::default()
        })
        .unwrap()
    }

    // 2026-11-26 is a Thursday; 10:00 UTC is inside the hours, 22:00 outside.
    const THU_10H: i64 = 1_795_687_200_000;
    const THU_22H: i64 = THU_10H + 12 * 3600 * 1000;

    struct Chat {
        seq: i64,
    }
    impl Chat {
        fn msg(&mut self, from: &str, group: Option<&str>, text: &str, t: i64) -> MessageView {
            self.seq += 1;
            MessageView {
                conversation_id: match group {
                    Some(g) => format!("sg_{g}"),
                    None => format!("si_bot_{from}"),
                },
                seq: self.seq,
                group_id: group.map(Into::into),
                sender_id: from.into(),
                sender_nickname: from.to_uppercase(),
                text: text.into(),
                send_time_ms: t,
                ..Default::default()
            }
        }
    }

    fn texts(a: &[Action]) -> Vec<String> {
        a.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn faq_then_ticket_claim_relay_close_rate_across_restart() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        let a = d
            .handle(&c.msg("cus", None, "What does it cost?", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("It is free."), "{a:?}");
        let a = d
            .handle(&c.msg("cus", None, "My login fails", THU_10H), &st)
            .unwrap();
        assert!(
            texts(&a)[0].contains("ticket #1 is open")
                && !texts(&a)[0].contains("closed right now"),
            "{a:?}"
        );
        assert!(
            matches!(&a[1], Action::Send { to: Target::Group(g), text } if g == "agents" && text.contains("/claim 1"))
        );
        // Waiting: further messages go to the agents group.
        let a = d
            .handle(&c.msg("cus", None, "error 42", THU_10H), &st)
            .unwrap();
        assert!(
            matches!(&a[..], [Action::Send { to: Target::Group(_), text }] if text == "#1 CUS: error 42")
        );
        let a = d
            .handle(&c.msg("ag", Some("agents"), "/claim 1", THU_10H), &st)
            .unwrap();
        assert!(
            matches!(&a[1], Action::Send { to: Target::User(u), text } if u == "cus" && text.contains("AG"))
        );
        // Restart: a new Desk over the same state.
        let d = desk();
        let a = d
            .handle(&c.msg("cus", None, "still broken", THU_10H), &st)
            .unwrap();
        assert!(
            matches!(&a[..], [Action::Mention { user_ids, text, .. }] if user_ids == &["ag"] && text.contains("#1 CUS: still broken"))
        );
        let a = d
            .handle(
                &c.msg(
                    "ag",
                    Some("agents"),
                    "#1 try resetting your password",
                    THU_10H,
                ),
                &st,
            )
            .unwrap();
        assert_eq!(
            a,
            vec![Action::Send {
                to: Target::User("cus".into()),
                text: "AG (support): try resetting your password".into()
            }]
        );
        let a = d
            .handle(&c.msg("ag", None, "did it work?", THU_10H), &st)
            .unwrap();
        assert!(matches!(&a[..], [Action::Send { to: Target::User(u), .. }] if u == "cus"));
        let a = d
            .handle(&c.msg("ag", Some("agents"), "/close 1", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("How satisfied"), "{a:?}");
        let a = d.handle(&c.msg("cus", None, "5", THU_10H), &st).unwrap();
        assert!(texts(&a)[0].contains("5/5"));
        let t = d.ticket(&st, 1).unwrap().unwrap();
        assert_eq!(
            (t.state, t.rating, t.messages),
            (TicketState::Closed, Some(5), 5)
        );
        // A new question opens ticket #2.
        let a = d
            .handle(&c.msg("cus", None, "/human", THU_22H), &st)
            .unwrap();
        assert!(
            texts(&a)[0].contains("#2") && texts(&a)[0].contains("closed right now"),
            "{a:?}"
        );
    }

    #[test]
    fn redelivered_message_is_not_handled_twice() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        let m = c.msg("cus", None, "help me", THU_10H);
        assert_eq!(d.handle(&m, &st).unwrap().len(), 2);
        assert!(d.handle(&m, &st).unwrap().is_empty());
        assert_eq!(d.open_tickets(&st).unwrap().len(), 1);
    }

    #[test]
    fn an_agent_with_no_ticket_in_hand_gets_a_hint_not_a_ticket() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        let a = d
            .handle_from(
                &c.msg("ag", None, "are you still there?", THU_10H),
                &st,
                true,
            )
            .unwrap();
        assert!(
            matches!(&a[..], [Action::Send { to: Target::User(u), text }] if u == "ag" && text.contains("/claim N")),
            "{a:?}"
        );
        assert!(d.open_tickets(&st).unwrap().is_empty());
        // The same words from a customer open a ticket.
        let a = d
            .handle_from(
                &c.msg("cus", None, "are you still there?", THU_10H),
                &st,
                false,
            )
            .unwrap();
        assert!(texts(&a).iter().any(|t| t.contains("ticket #1")), "{a:?}");
    }

    #[test]
    fn an_empty_text_is_left_alone() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        for text in ["", "   "] {
            let a = d.handle(&c.msg("cus", None, text, THU_10H), &st).unwrap();
            assert!(a.is_empty(), "{text:?}: {a:?}");
        }
        assert!(d.open_tickets(&st).unwrap().is_empty());
    }

    #[test]
    fn an_agents_answer_reaches_the_customer_as_written() {
        assert_eq!(
            after_words("#1 Steps:\n1. unplug\n2. wait  10s", 1),
            "Steps:\n1. unplug\n2. wait  10s"
        );
        assert_eq!(after_words("/reply  1 A\nB", 2), "A\nB");
        assert_eq!(after_words("/reply 1", 2), "");
    }

    #[test]
    fn agent_command_errors_get_usage() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        for (cmd, want) in [
            ("/claim", "Usage: /claim N"),
            ("/claim x", "Usage: /claim N"),
            ("/claim 9", "no ticket #9"),
            ("/close", "Usage: /close N"),
            ("#1", "Usage: #N text"),
            ("/reply 1", "Usage: #N text"),
            ("/tickets", "No open tickets"),
        ] {
            let a = d
                .handle(&c.msg("ag", Some("agents"), cmd, THU_10H), &st)
                .unwrap();
            assert!(
                texts(&a).first().is_some_and(|t| t.contains(want)),
                "{cmd}: {a:?}"
            );
        }
        // Chatter in the agents group and messages in other groups are ignored.
        assert!(
            d.handle(&c.msg("ag", Some("agents"), "coffee?", THU_10H), &st)
                .unwrap()
                .is_empty()
        );
        assert!(
            d.handle(&c.msg("x", Some("other"), "/claim 1", THU_10H), &st)
                .unwrap()
                .is_empty()
        );
        // Replying before claiming is refused; a second claim is refused.
        d.handle(&c.msg("cus", None, "hello?", THU_10H), &st)
            .unwrap();
        let a = d
            .handle(&c.msg("ag", Some("agents"), "#1 hi", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("Claim ticket #1 first"));
        d.handle(&c.msg("ag", Some("agents"), "/claim 1", THU_10H), &st)
            .unwrap();
        let a = d
            .handle(&c.msg("ag2", Some("agents"), "/claim 1", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("already handled by AG"));
        let a = d
            .handle(&c.msg("ag2", Some("agents"), "#1 hi", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("handled by AG"));
        // The bot addressed first ("@Help Bot #1 …"): the answer is relayed all the same.
        let mut addressed = c.msg(
            "ag",
            Some("agents"),
            "@Help Bot #1 Try again\nplease",
            THU_10H,
        );
        addressed.at_names = vec!["@Help Bot".into()];
        let a = d.handle(&addressed, &st).unwrap();
        assert_eq!(
            a,
            [Action::Send {
                to: Target::User("cus".into()),
                text: "AG (support): Try again\nplease".into(),
            }]
        );
    }

    #[test]
    fn customer_close_and_non_rating_answer() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        d.handle(&c.msg("cus", None, "problem", THU_10H), &st)
            .unwrap();
        let a = d
            .handle(&c.msg("cus", None, "/close", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("How satisfied"));
        // Not a rating: the ticket closes unrated and the text is handled afresh (FAQ here).
        let a = d
            .handle(&c.msg("cus", None, "what is the price", THU_10H), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("It is free."));
        assert_eq!(d.ticket(&st, 1).unwrap().unwrap().rating, None);
    }

    #[test]
    fn bad_settings_name_the_key() {
        let e = Desk::from_settings(&SupportSettings::default()).unwrap_err();
        assert_eq!(e.key, "bots.support.agents_group");
        let mut s = SupportSettings {
            agents_group: "a".into(),
            ..Default::default()
        };
        s.hours = Some(HoursSettings {
            days: vec!["funday".into()],
            open: "09:00".into(),
            close: "17:00".into(),
            utc_offset: "+01:00".into(),
        });
        assert_eq!(
            Desk::from_settings(&s).unwrap_err().key,
            "bots.support.hours.days[0]"
        );
        s.hours = Some(HoursSettings {
            days: default_days(),
            open: "9am".into(),
            close: "17:00".into(),
            utc_offset: "+01:00".into(),
        });
        assert_eq!(
            Desk::from_settings(&s).unwrap_err().key,
            "bots.support.hours.open"
        );
        s.hours = Some(HoursSettings {
            days: default_days(),
            open: "09:00".into(),
            close: "17:00".into(),
            utc_offset: "CET".into(),
        });
        assert_eq!(
            Desk::from_settings(&s).unwrap_err().key,
            "bots.support.hours.utc_offset"
        );
        s.hours = None;
        s.faq = vec![FaqSettings {
            pattern: "(".into(),
            answer: "x".into(),
        }];
        assert_eq!(
            Desk::from_settings(&s).unwrap_err().key,
            "bots.support.faq[0].pattern"
        );
    }

    fn with_picture(mut m: MessageView) -> MessageView {
        let content = openim_bot::content::parse_lossless(
            102,
            br#"{"sourcePicture":{"url":"http://x/shot.png"}}"#,
        );
        m.attachment = crate::action::Attachment::of(&content);
        m.text.clear();
        m
    }

    #[test]
    fn pictures_open_tickets_and_are_forwarded_both_ways() {
        let st = MemoryState::new();
        let mut c = Chat { seq: 0 };
        let d = desk();
        // A screenshot as the first message opens a ticket and reaches the agents.
        let a = d
            .handle(&with_picture(c.msg("cus", None, "", THU_10H)), &st)
            .unwrap();
        assert!(texts(&a)[0].contains("ticket #1 is open"), "{a:?}");
        assert!(texts(&a)[1].contains("[picture]"), "{a:?}");
        let shot = with_picture(c.msg("cus", None, "", THU_10H))
            .attachment
            .unwrap();
        assert_eq!(
            a[2],
            Action::Forward {
                to: Target::Group("agents".into()),
                attachment: shot.clone()
            }
        );
        d.handle(&c.msg("ag", Some("agents"), "/claim 1", THU_10H), &st)
            .unwrap();
        // Claimed: the agent is mentioned with the summary, then gets the picture.
        let a = d
            .handle(&with_picture(c.msg("cus", None, "", THU_10H)), &st)
            .unwrap();
        assert!(
            matches!(&a[0], Action::Mention { user_ids, text, .. } if user_ids == &["ag"] && text.ends_with("#1 CUS: [picture]")),
            "{a:?}"
        );
        assert_eq!(
            a[1],
            Action::Forward {
                to: Target::Group("agents".into()),
                attachment: shot.clone()
            }
        );
        // The agent answers with a picture privately: the customer gets it.
        let a = d
            .handle(&with_picture(c.msg("ag", None, "", THU_10H)), &st)
            .unwrap();
        assert_eq!(
            a,
            vec![
                Action::Send {
                    to: Target::User("cus".into()),
                    text: "AG (support): [picture]".into()
                },
                Action::Forward {
                    to: Target::User("cus".into()),
                    attachment: shot
                }
            ]
        );
        assert_eq!(d.ticket(&st, 1).unwrap().unwrap().messages, 3);
    }

    #[test]
    fn a_customer_is_told_when_the_agents_never_got_their_message() {
        let d = desk();
        let st = MemoryState::new();
        let to_agents = |text: &str| Action::Send {
            to: Target::Group("agents".into()),
            text: text.into(),
        };
        let to_customer = Action::Send {
            to: Target::User("cus".into()),
            text: "ticket #1 is open".into(),
        };
        let err = || "1004 RecordNotFoundError".to_owned();
        match d.undelivered("cus", &[(to_agents("New ticket #1"), err())], &st) {
            Ok(Some(Action::Send {
                to: Target::User(u),
                text,
            })) => {
                assert_eq!(u, "cus");
                assert!(text.contains("cannot reach our agents"), "{text}");
            }
            other => panic!("no notice to the customer: {other:?}"),
        }
        assert_eq!(
            d.undelivered("cus", &[(to_customer.clone(), err())], &st)
                .unwrap(),
            None
        );
        // Told once until the group is reached again; the message is kept all the same.
        assert_eq!(
            d.undelivered("cus", &[(to_agents("#1 are you there?"), err())], &st)
                .unwrap(),
            None
        );
        assert!(d.reached(&st).unwrap());
        assert!(!d.reached(&st).unwrap());
        assert!(matches!(
            d.undelivered("cus", &[(to_agents("#1 still?"), err())], &st),
            Ok(Some(Action::Send { .. }))
        ));
        for m in d.backlog(&st).unwrap().iter().skip(1) {
            d.posting(&st, m).unwrap();
        }
        assert_eq!(d.undelivered("cus", &[], &st).unwrap(), None);
        // What the agents missed is kept, in order, until posted.
        d.undelivered("cus", &[(to_agents("#1 hello?"), err())], &st)
            .unwrap();
        let kept = d.backlog(&st).unwrap();
        assert_eq!(
            kept.iter().map(|m| d.late_post(m)).collect::<Vec<_>>(),
            [
                to_agents("(late: the group was out of reach) New ticket #1"),
                to_agents("(late: the group was out of reach) #1 hello?"),
            ]
        );
        // Taken out before it is posted (at most once); a failed post puts it back, counted.
        d.posting(&st, &kept[0]).unwrap();
        d.post_failed(&st, &kept[0]).unwrap();
        let again = d.backlog(&st).unwrap();
        assert_eq!(
            (again[0].key.as_str(), again[0].tries),
            (kept[0].key.as_str(), 1)
        );
        d.posting(&st, &again[0]).unwrap();
        let rest = d.backlog(&st).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].key, kept[1].key);
        let kept_texts = || -> Vec<String> {
            d.backlog(&st)
                .unwrap()
                .into_iter()
                .map(|m| m.text)
                .collect()
        };
        // Numbered on: a later miss goes after what is left.
        d.undelivered("cus", &[(to_agents("#1 still there?"), err())], &st)
            .unwrap();
        assert_eq!(kept_texts(), ["#1 hello?", "#1 still there?"]);
        // A post that always fails is dropped after BACKLOG_TRIES tries, not kept forever.
        let mut head = d.backlog(&st).unwrap().remove(0);
        for _ in 0..BACKLOG_TRIES {
            d.posting(&st, &head).unwrap();
            d.post_failed(&st, &head).unwrap();
            match d
                .backlog(&st)
                .unwrap()
                .into_iter()
                .find(|m| m.key == head.key)
            {
                Some(m) => head = m,
                None => break,
            }
        }
        assert_eq!(kept_texts(), ["#1 still there?"]);
        // Bounded: the oldest go first.
        let many: Vec<Action> = (0..BACKLOG_MAX + 3)
            .map(|i| to_agents(&format!("n{i}")))
            .collect();
        assert!(d.keep_for_agents(&st, &many).unwrap());
        let kept = d.backlog(&st).unwrap();
        assert_eq!(kept.len(), BACKLOG_MAX);
        assert_eq!(kept[0].text, "n3");
        assert_eq!(kept[BACKLOG_MAX - 1].text, format!("n{}", BACKLOG_MAX + 2));
        // A relay mentioning the claimed ticket's agent is posted late as a mention.
        let relay = Action::Mention {
            group_id: "agents".into(),
            text: "@Sam #1 Cus: hi".into(),
            user_ids: vec!["sam".into()],
        };
        d.keep_for_agents(&st, [&relay]).unwrap();
        let last = d.backlog(&st).unwrap().pop().unwrap();
        assert_eq!(
            d.late_post(&last),
            Action::Mention {
                group_id: "agents".into(),
                text: "(late: the group was out of reach) @Sam #1 Cus: hi".into(),
                user_ids: vec!["sam".into()],
            }
        );
        // Nothing meant for anyone else is kept.
        assert!(!d.keep_for_agents(&st, &[to_customer]).unwrap());
    }
}

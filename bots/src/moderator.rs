//! moderator: keeps configured groups clean.
//!
//! Each message from an ordinary member of a moderated group is checked for banned words (regexes),
//! links (outside an allow-list of domains), flooding (more than N messages in T, pictures,
//! files and stickers included) and repetition (the same text, picture, sticker or file K times
//! in T); words and links are looked for in text messages. A violation revokes the message and adds a strike, persisted in
//! the [`StateStore`]; the strike count then escalates: a warning, a mute for `mute_duration` from
//! `mute_after` strikes on, a kick at `kick_after` strikes (each notice after its action, and not
//! sent if the server refused the action). Messages of a removed member still coming in (a
//! flood's tail) are revoked without further strikes; a member who comes back starts with none.
//! What the bot cannot enforce is not held against the member: a message it could not revoke
//! (it lost its rights) gives no strike, and a failed removal is tried again at the next
//! violation.
//! Join applications are approved when
//! their message matches `join_answer` and refused otherwise; new members are welcomed.
//! Owners and admins have the commands `/warn`, `/mute @user 10m`, `/unmute`, `/kick` and
//! `/strikes`; every member has `/rules`. As on the server, none of them acts on the owner, and
//! only the owner's act on an admin (the bot answers why instead of trying).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::action::{Action, JoinRequestView, MessageView, Role, Target};
use crate::settings::{HumanDuration, Invalid, compile_regex};
use crate::state::{StateError, StateExt, StateStore};
use crate::template::{Template, vars};

/// `[bots.moderator.flood]`: more than `max_messages` within `window` is flooding.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSettings {
    /// Messages allowed within the window.
    pub max_messages: u32,
    /// The sliding window.
    pub window: HumanDuration,
}

/// `[bots.moderator.repeat]`: the same text `max_repeats` times within `window` is spam.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatSettings {
    /// Identical messages that trigger the rule (the `max_repeats`-th one is the violation).
    pub max_repeats: u32,
    /// The sliding window.
    pub window: HumanDuration,
}

/// `[bots.moderator]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModeratorSettings {
    /// Run this bot (default true when the table is present).
    #[serde(default = "crate::settings::default_true")]
    pub enabled: bool,
    /// Group IDs to moderate (the bot must be their owner or an admin).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Regexes; a message matching any of them is a violation.
    #[serde(default)]
    pub banned_words: Vec<String>,
    /// Treat links as violations.
    #[serde(default = "crate::settings::default_true")]
    pub block_links: bool,
    /// Domains (and their subdomains) whose links are allowed.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Flood detection; absent = off.
    #[serde(default)]
    pub flood: Option<FloodSettings>,
    /// Repeated-message detection; absent = off.
    #[serde(default)]
    pub repeat: Option<RepeatSettings>,
    /// Strike count from which an offender is muted.
    #[serde(default = "default_mute_after")]
    pub mute_after: u32,
    /// Mute duration.
    #[serde(default = "default_mute_duration")]
    pub mute_duration: HumanDuration,
    /// Strike count at which an offender is kicked.
    #[serde(default = "default_kick_after")]
    pub kick_after: u32,
    /// Regex the join application message must match; absent = applications are left to humans.
    #[serde(default)]
    pub join_answer: Option<String>,
    /// Message attached to a refused join application.
    #[serde(default = "default_join_refused")]
    pub join_refuse_message: String,
    /// Welcome for new members; placeholders `{nickname}`, `{user_id}`, `{group_id}`. Empty = none.
    #[serde(default = "default_welcome")]
    pub welcome: String,
    /// The text `/rules` shows.
    #[serde(default = "default_rules")]
    pub rules: String,
}

fn default_mute_after() -> u32 {
    2
}
fn default_kick_after() -> u32 {
    3
}
fn default_mute_duration() -> HumanDuration {
    HumanDuration::secs(600)
}
fn default_join_refused() -> String {
    "Sorry, that is not the answer we were looking for.".to_owned()
}
fn default_welcome() -> String {
    "Welcome {nickname}! Please be kind; write /rules to see the rules.".to_owned()
}
fn default_rules() -> String {
    "1. Be kind. 2. No spam, no flooding, no repeated messages. 3. No links.".to_owned()
}

impl Default for ModeratorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            groups: Vec::new(),
            banned_words: Vec::new(),
            block_links: true,
            allowed_domains: Vec::new(),
            flood: None,
            repeat: None,
            mute_after: default_mute_after(),
            mute_duration: default_mute_duration(),
            kick_after: default_kick_after(),
            join_answer: None,
            join_refuse_message: default_join_refused(),
            welcome: default_welcome(),
            rules: default_rules(),
        }
    }
}

/// Why a message broke the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A banned-word regex matched this text.
    BannedWord(String),
    /// A link to this host.
    Link(String),
    /// Too many messages in the window.
    Flood {
        /// Messages counted.
        count: usize,
        /// The window.
        window: Duration,
    },
    /// The same text too often.
    Repeat {
        /// Copies counted.
        count: usize,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::BannedWord(w) => write!(f, "banned word {w:?}"),
            Violation::Link(h) => write!(f, "link to {h}"),
            Violation::Flood { count, window } => write!(
                f,
                "flooding ({count} messages in {})",
                humantime::format_duration(*window)
            ),
            Violation::Repeat { count } => write!(f, "the same message {count} times"),
        }
    }
}

/// A member's persisted strike record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strikes {
    /// Number of strikes.
    pub count: u32,
    /// The latest reason.
    pub last_reason: String,
}

#[derive(Debug, Default)]
struct Trackers {
    /// (group, user) → recent send times (ms).
    recent: HashMap<(String, String), VecDeque<i64>>,
    /// (group, user) → recent (normalised text, time ms).
    texts: HashMap<(String, String), VecDeque<(String, i64)>>,
}

/// The compiled moderation policy with its in-memory flood/repeat trackers.
#[derive(Debug)]
pub struct Moderator {
    groups: HashSet<String>,
    banned: Vec<regex::Regex>,
    block_links: bool,
    allowed_domains: Vec<String>,
    flood: Option<(usize, Duration)>,
    repeat: Option<(usize, Duration)>,
    mute_after: u32,
    mute_duration: Duration,
    kick_after: u32,
    join_answer: Option<regex::Regex>,
    join_refuse_message: String,
    welcome: Option<Template>,
    rules: String,
    link_re: regex::Regex,
    trackers: Mutex<Trackers>,
}

const PREFIX: &str = "bots.moderator";

const USAGE: &str = "Moderator commands (owner and admins): /warn @user [reason] · /mute @user 10m · \
/unmute @user · /kick @user [reason] · /strikes @user [clear]; for everyone: /rules";

impl Moderator {
    /// Compiles and checks the settings.
    pub fn from_settings(s: &ModeratorSettings) -> Result<Self, Invalid> {
        if s.enabled && s.groups.is_empty() {
            return Err(Invalid::new(
                format!("{PREFIX}.groups"),
                "list at least one group ID to moderate",
            ));
        }
        let banned = s
            .banned_words
            .iter()
            .enumerate()
            .map(|(i, p)| compile_regex(&format!("{PREFIX}.banned_words[{i}]"), p))
            .collect::<Result<Vec<_>, _>>()?;
        if s.kick_after == 0 {
            return Err(Invalid::new(
                format!("{PREFIX}.kick_after"),
                "must be at least 1",
            ));
        }
        if s.mute_after == 0 || s.mute_after > s.kick_after {
            return Err(Invalid::new(
                format!("{PREFIX}.mute_after"),
                format!("must be between 1 and kick_after ({})", s.kick_after),
            ));
        }
        if s.mute_duration.0 < Duration::from_secs(1) {
            return Err(Invalid::new(
                format!("{PREFIX}.mute_duration"),
                "must be at least 1s",
            ));
        }
        // `table` is the rule's table (`flood`, `repeat`), `count` its count key.
        let window = |table: &str, count: &str, n: u32, w: HumanDuration, min: u32| {
            if n < min {
                Err(Invalid::new(
                    format!("{PREFIX}.{table}.{count}"),
                    format!("must be at least {min}"),
                ))
            } else if w.0.is_zero() {
                Err(Invalid::new(
                    format!("{PREFIX}.{table}.window"),
                    "must be longer than 0s",
                ))
            } else {
                Ok((n as usize, w.0))
            }
        };
        let flood = s
            .flood
            .as_ref()
            .map(|f| window("flood", "max_messages", f.max_messages, f.window, 1))
            .transpose()?;
        let repeat = s
            .repeat
            .as_ref()
            .map(|r| window("repeat", "max_repeats", r.max_repeats, r.window, 2))
            .transpose()?;
        let join_answer = s
            .join_answer
            .as_deref()
            .map(|p| compile_regex(&format!("{PREFIX}.join_answer"), p))
            .transpose()?;
        let welcome = if s.welcome.trim().is_empty() {
            None
        } else {
            Some(
                Template::parse(
                    &s.welcome,
                    |n| matches!(n, "nickname" | "user_id" | "group_id"),
                    "{nickname}, {user_id}, {group_id}",
                )
                .map_err(|e| Invalid::new(format!("{PREFIX}.welcome"), e.to_string()))?,
            )
        };
        let link_re = regex::Regex::new(
            r"(?i)\b(?:https?://([^\s/:?#]+)\S*|www\.([^\s/:?#]+)\S*|((?:[a-z0-9-]+\.)+(?:com|net|org|io|ly|me|info|biz|ru|cn|xyz|top|app|dev|gg|co|tk|link|site|online|shop))\b)",
        )
        .map_err(|e| Invalid::new(PREFIX, format!("internal link pattern: {e}")))?;
        Ok(Self {
            groups: s.groups.iter().cloned().collect(),
            banned,
            block_links: s.block_links,
            allowed_domains: s
                .allowed_domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            flood,
            repeat,
            mute_after: s.mute_after,
            mute_duration: s.mute_duration.0,
            kick_after: s.kick_after,
            join_answer,
            join_refuse_message: s.join_refuse_message.clone(),
            welcome,
            rules: s.rules.clone(),
            link_re,
            trackers: Mutex::new(Trackers::default()),
        })
    }

    /// Whether `group_id` is moderated.
    pub fn moderates(&self, group_id: &str) -> bool {
        self.groups.contains(group_id)
    }

    /// The moderated group IDs.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(String::as_str)
    }

    fn find_link(&self, text: &str) -> Option<String> {
        for c in self.link_re.captures_iter(text) {
            let host = c
                .get(1)
                .or_else(|| c.get(2))
                .or_else(|| c.get(3))
                .map(|m| m.as_str().trim_start_matches("www.").to_ascii_lowercase())
                .unwrap_or_default();
            let allowed = self
                .allowed_domains
                .iter()
                .any(|d| host == *d || host.ends_with(&format!(".{d}")));
            if !allowed {
                return Some(host);
            }
        }
        None
    }

    /// Checks a message against the content rules and records it for flood/repeat tracking.
    pub fn check(&self, msg: &MessageView) -> Option<Violation> {
        // Words and links are looked for in text only (an attachment's text is empty, which a
        // pattern such as `^$` would match); flood and repetition count every message.
        let has_text = !msg.text.is_empty();
        if let Some(re) = self
            .banned
            .iter()
            .find(|re| has_text && re.is_match(&msg.text))
        {
            let word = re
                .find(&msg.text)
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default();
            return Some(Violation::BannedWord(word));
        }
        if self.block_links
            && let Some(host) = self.find_link(&msg.text)
        {
            return Some(Violation::Link(host));
        }
        let group = msg.group_id.clone().unwrap_or_default();
        let key = (group, msg.sender_id.clone());
        let now = msg.send_time_ms;
        let mut t = match self.trackers.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        if let Some((max, window)) = self.flood {
            let q = t.recent.entry(key.clone()).or_default();
            q.push_back(now);
            let since = now - window.as_millis() as i64;
            while q.front().is_some_and(|&ts| ts <= since) {
                q.pop_front();
            }
            if q.len() > max {
                let count = q.len();
                q.clear();
                return Some(Violation::Flood { count, window });
            }
        }
        if let Some((max, window)) = self.repeat {
            // The same text, or the same picture, sticker or file sent again.
            let norm = match &msg.attachment {
                Some(a) => format!(
                    "{}\0{}",
                    a.content_type,
                    String::from_utf8_lossy(&a.content)
                ),
                None => msg.text.trim().to_lowercase(),
            };
            if !norm.is_empty() {
                let q = t.texts.entry(key).or_default();
                q.push_back((norm.clone(), now));
                let since = now - window.as_millis() as i64;
                while q.front().is_some_and(|(_, ts)| *ts <= since) {
                    q.pop_front();
                }
                let count = q.iter().filter(|(s, _)| *s == norm).count();
                if count >= max {
                    q.retain(|(s, _)| *s != norm);
                    return Some(Violation::Repeat { count });
                }
            }
        }
        None
    }

    fn strikes_key(group: &str, user: &str) -> String {
        format!("v1/moderator/strikes/{group}/{user}")
    }

    /// The stored strikes of a member.
    pub fn strikes(
        &self,
        state: &dyn StateStore,
        group: &str,
        user: &str,
    ) -> Result<Strikes, StateError> {
        Ok(state
            .get_json(&Self::strikes_key(group, user))?
            .unwrap_or_default())
    }

    /// Takes back the strike [`Moderator::judge`] just gave `user` for a message that could not
    /// be revoked (the bot lacks the rights, or the message is gone): what the bot cannot
    /// enforce is not held against the member.
    pub fn take_back_strike(
        &self,
        state: &dyn StateStore,
        group: &str,
        user: &str,
    ) -> Result<(), StateError> {
        self.recount(state, group, user, |n| n.checked_sub(1))
    }

    /// A removal of `user` failed: if their strikes reached it, they are counted one short of
    /// it, so that their next violation tries the removal again instead of being taken for the
    /// tail of a flood that removed them.
    pub fn removal_failed(
        &self,
        state: &dyn StateStore,
        group: &str,
        user: &str,
    ) -> Result<(), StateError> {
        let k = self.kick_after;
        self.recount(state, group, user, |n| {
            (n >= k).then(|| k.saturating_sub(1))
        })
    }

    /// Stores the strike count `to` makes of the current one (`None`: left as it is).
    fn recount(
        &self,
        state: &dyn StateStore,
        group: &str,
        user: &str,
        to: impl FnOnce(u32) -> Option<u32>,
    ) -> Result<(), StateError> {
        let mut s = self.strikes(state, group, user)?;
        match to(s.count) {
            Some(n) => {
                s.count = n;
                state.put_json(&Self::strikes_key(group, user), &s)
            }
            None => Ok(()),
        }
    }

    /// Adds a strike and returns the escalation actions (warning, mute or kick).
    fn strike(
        &self,
        state: &dyn StateStore,
        group: &str,
        user: &str,
        name: &str,
        reason: &str,
    ) -> Result<Vec<Action>, StateError> {
        let mut s = self.strikes(state, group, user)?;
        if s.count >= self.kick_after {
            // Removed already: messages sent before the removal took effect (a flood's tail)
            // are revoked by the caller, without another strike, notice or removal each.
            return Ok(Vec::new());
        }
        s.count += 1;
        s.last_reason = reason.to_owned();
        state.put_json(&Self::strikes_key(group, user), &s)?;
        let n = s.count;
        let k = self.kick_after;
        let mention = |text: String| Action::Mention {
            group_id: group.to_owned(),
            text,
            user_ids: vec![user.to_owned()],
        };
        // Each notice follows the action it announces, and is not sent if the action failed
        // (see `handlers::ModeratorHandler`).
        Ok(if n >= k {
            vec![
                Action::Kick {
                    group_id: group.to_owned(),
                    user_id: user.to_owned(),
                    reason: format!("{n} strikes, last: {reason}"),
                },
                mention(format!(
                    "@{name} strike {n}/{k} ({reason}): removed from the group."
                )),
            ]
        } else if n >= self.mute_after {
            vec![
                Action::Mute {
                    group_id: group.to_owned(),
                    user_id: user.to_owned(),
                    duration: self.mute_duration,
                },
                mention(format!(
                    "@{name} strike {n}/{k} ({reason}): muted for {}. At {k} strikes you will be removed.",
                    humantime::format_duration(self.mute_duration)
                )),
            ]
        } else {
            vec![mention(format!(
                "@{name} warning, strike {n}/{k} ({reason}). Please follow the /rules."
            ))]
        })
    }

    /// Handles one group message: commands from anyone, rule checks for ordinary members.
    /// The role of a command's target is not known here (see [`Moderator::judge_knowing`]):
    /// the server then refuses what the sender may not do.
    pub fn judge(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
    ) -> Result<Vec<Action>, StateError> {
        self.judge_knowing(msg, state, &|_| None, None)
    }

    /// The member a moderation command in `msg` acts on (`/warn`, `/mute`, `/unmute`,
    /// `/kick`), for the caller to look their role up before [`Moderator::judge_knowing`].
    pub fn command_target(&self, msg: &MessageView) -> Option<String> {
        let group = msg.group_id.as_deref()?;
        if !self.moderates(group) || !msg.sender_role.is_privileged() {
            return None;
        }
        let cmd = Command::name_of(&msg.text)?;
        Command::parse(cmd, msg).ok()?.acted_on().map(str::to_owned)
    }

    /// [`Moderator::judge`], knowing the roles of members (`role_of`, `None` when unknown)
    /// and the bot's own (`bot_role`): a command is refused with a reply when it acts on the
    /// owner, or on an admin and comes from another admin, or on an admin while the bot is only
    /// an admin itself (the server checks the bot's role, as the bot makes the call): the
    /// server would refuse the mute or removal (and a warning's strikes would end in one).
    pub fn judge_knowing(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
        role_of: &dyn Fn(&str) -> Option<Role>,
        bot_role: Option<Role>,
    ) -> Result<Vec<Action>, StateError> {
        let Some(group) = msg.group_id.as_deref() else {
            return Ok(Vec::new());
        };
        if !self.moderates(group) {
            return Ok(Vec::new());
        }
        if let Some(cmd) = Command::name_of(&msg.text) {
            return self.command(cmd, msg, state, role_of, bot_role);
        }
        if msg.sender_role.is_privileged() {
            return Ok(Vec::new());
        }
        let Some(v) = self.check(msg) else {
            return Ok(Vec::new());
        };
        let mut actions = vec![Action::Revoke {
            conversation_id: msg.conversation_id.clone(),
            seq: msg.seq,
        }];
        actions.extend(self.strike(
            state,
            group,
            &msg.sender_id,
            msg.display_name(),
            &v.to_string(),
        )?);
        Ok(actions)
    }

    fn command(
        &self,
        cmd: &'static str,
        msg: &MessageView,
        state: &dyn StateStore,
        role_of: &dyn Fn(&str) -> Option<Role>,
        bot_role: Option<Role>,
    ) -> Result<Vec<Action>, StateError> {
        let group = msg.group_id.clone().unwrap_or_default();
        let reply = |text: String| {
            vec![Action::Send {
                to: Target::Group(group.clone()),
                text,
            }]
        };
        // The rules are for everyone (the welcome and every warning tell members to read
        // them); the other commands for the owner and admins.
        if cmd != "rules" && !msg.sender_role.is_privileged() {
            return Ok(reply(format!(
                "Sorry {}, only the group owner and admins can use /{cmd}.",
                msg.display_name()
            )));
        }
        let parsed = match Command::parse(cmd, msg) {
            Ok(c) => c,
            Err(usage) => return Ok(reply(usage)),
        };
        if let Some(user) = parsed.acted_on() {
            match role_of(user) {
                Some(Role::Owner) => {
                    return Ok(reply(format!(
                        "{user} is the group owner: /{cmd} does not apply to them."
                    )));
                }
                Some(Role::Admin) if msg.sender_role != Role::Owner => {
                    return Ok(reply(format!(
                        "{user} is an admin: only the group owner can /{cmd} an admin."
                    )));
                }
                Some(Role::Admin) if bot_role.is_some_and(|r| r != Role::Owner) => {
                    return Ok(reply(format!(
                        "{user} is an admin, and so is this bot: the server lets only the \
                         group owner /{cmd} an admin."
                    )));
                }
                _ => {}
            }
        }
        Ok(match parsed {
            Command::Rules => reply(format!("Rules: {}", self.rules)),
            Command::Warn { user, reason } => {
                let reason = reason.unwrap_or_else(|| format!("warned by {}", msg.display_name()));
                self.strike(state, &group, &user, &user, &reason)?
            }
            Command::Mute { user, duration } => vec![
                Action::Mute {
                    group_id: group.clone(),
                    user_id: user.clone(),
                    duration,
                },
                Action::Send {
                    to: Target::Group(group.clone()),
                    text: format!(
                        "{user} is muted for {}.",
                        humantime::format_duration(duration)
                    ),
                },
            ],
            Command::Unmute { user } => vec![
                Action::Unmute {
                    group_id: group.clone(),
                    user_id: user.clone(),
                },
                Action::Send {
                    to: Target::Group(group.clone()),
                    text: format!("{user} can speak again."),
                },
            ],
            Command::Kick { user, reason } => vec![Action::Kick {
                group_id: group.clone(),
                user_id: user,
                reason: reason.unwrap_or_else(|| format!("removed by {}", msg.display_name())),
            }],
            Command::Strikes { user, clear: true } => {
                state.remove(&Self::strikes_key(&group, &user))?;
                reply(format!("Strikes of {user} cleared."))
            }
            Command::Strikes { user, clear: false } => {
                let s = self.strikes(state, &group, &user)?;
                reply(if s.count == 0 {
                    format!("{user} has no strikes.")
                } else {
                    format!(
                        "{user} has {}/{} strikes (last: {}).",
                        s.count, self.kick_after, s.last_reason
                    )
                })
            }
        })
    }

    /// A member joined a moderated group: one removed for strikes (back by invitation or an
    /// accepted application) starts again with none, so that their first new violation
    /// counts instead of being taken for the tail of the flood that removed them.
    pub fn on_member_rejoined(
        &self,
        state: &dyn StateStore,
        group: &str,
        user: &str,
    ) -> Result<(), StateError> {
        if self.moderates(group) && self.strikes(state, group, user)?.count >= self.kick_after {
            state.remove(&Self::strikes_key(group, user))?;
        }
        Ok(())
    }

    /// Answers a join application for a moderated group (nothing if `join_answer` is unset).
    pub fn on_join_request(&self, req: &JoinRequestView) -> Vec<Action> {
        if !self.moderates(&req.group_id) {
            return Vec::new();
        }
        let Some(re) = &self.join_answer else {
            return Vec::new();
        };
        let accept = re.is_match(&req.request_message);
        vec![Action::AnswerJoin {
            group_id: req.group_id.clone(),
            user_id: req.user_id.clone(),
            accept,
            message: if accept {
                "Welcome!".to_owned()
            } else {
                self.join_refuse_message.clone()
            },
        }]
    }

    /// Welcomes a member who just joined a moderated group.
    pub fn on_member_joined(&self, group_id: &str, user_id: &str, nickname: &str) -> Vec<Action> {
        let Some(t) = self.welcome.as_ref().filter(|_| self.moderates(group_id)) else {
            return Vec::new();
        };
        let name = if nickname.is_empty() {
            user_id
        } else {
            nickname
        };
        vec![Action::Mention {
            group_id: group_id.to_owned(),
            text: t.render(&vars([
                ("nickname", name),
                ("user_id", user_id),
                ("group_id", group_id),
            ])),
            user_ids: vec![user_id.to_owned()],
        }]
    }

    /// One line per command, for the routing table and `/help`-style listings.
    pub fn usage() -> &'static str {
        USAGE
    }
}

/// A parsed moderator command.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Warn {
        user: String,
        reason: Option<String>,
    },
    Mute {
        user: String,
        duration: Duration,
    },
    Unmute {
        user: String,
    },
    Kick {
        user: String,
        reason: Option<String>,
    },
    Strikes {
        user: String,
        clear: bool,
    },
    Rules,
}

impl Command {
    /// The member the command acts on (`/strikes` and `/rules` only read).
    fn acted_on(&self) -> Option<&str> {
        match self {
            Command::Warn { user, .. }
            | Command::Mute { user, .. }
            | Command::Unmute { user }
            | Command::Kick { user, .. } => Some(user),
            Command::Strikes { .. } | Command::Rules => None,
        }
    }

    /// The command name if `text` starts with one of ours.
    fn name_of(text: &str) -> Option<&'static str> {
        let first = text.split_whitespace().next()?;
        let name = first.strip_prefix('/')?;
        // Allow "/kick@botname" like other chat platforms do.
        let name = name.split('@').next().unwrap_or(name);
        ["warn", "mute", "unmute", "kick", "strikes", "rules"]
            .into_iter()
            .find(|c| c.eq_ignore_ascii_case(name))
    }

    fn parse(cmd: &'static str, msg: &MessageView) -> Result<Self, String> {
        let usage = |u: &str| format!("Usage: {u}");
        if cmd == "rules" {
            return Ok(Command::Rules);
        }
        // The words after the command, the mentions' spellings taken out first: a group
        // nickname may hold spaces ("@Ann Smith"), and its words are no argument.
        let mut body = msg
            .text
            .trim_start()
            .split_once(char::is_whitespace)
            .map_or(String::new(), |(_, rest)| rest.to_owned());
        for name in &msg.at_names {
            if let Some(at) = body.find(name.as_str()) {
                body.replace_range(at..at + name.len(), " ");
            }
        }
        let mut words: Vec<&str> = body.split_whitespace().collect();
        // The target: the first @-mention of the message (@all is nobody), else an "@userID"
        // word.
        let target = match msg.at_user_ids.first() {
            Some(u) => {
                // Drop the words that spell a mention the message did not spell out.
                words.retain(|w| !w.starts_with('@'));
                Some(u.clone())
            }
            // "@all" (or however the client spells it) is nobody to act on.
            None if msg.mentions_all => None,
            None => match words.first() {
                Some(w) if w.len() > 1 && w.starts_with('@') => {
                    let u = w[1..].to_owned();
                    words.remove(0);
                    Some(u)
                }
                _ => None,
            },
        };
        let rest = (!words.is_empty()).then(|| words.join(" "));
        let u = match cmd {
            "warn" => "/warn @user [reason]",
            "mute" => "/mute @user <duration, e.g. 10m>",
            "unmute" => "/unmute @user",
            "kick" => "/kick @user [reason]",
            _ => "/strikes @user [clear]",
        };
        let Some(user) = target else {
            return Err(usage(u));
        };
        match cmd {
            "warn" => Ok(Command::Warn { user, reason: rest }),
            "kick" => Ok(Command::Kick { user, reason: rest }),
            "unmute" => Ok(Command::Unmute { user }),
            "mute" => {
                let d = rest
                    .as_deref()
                    .and_then(|r| humantime::parse_duration(r).ok())
                    .filter(|d| *d >= Duration::from_secs(1))
                    .ok_or_else(|| usage(u))?;
                Ok(Command::Mute { user, duration: d })
            }
            _ => match rest.as_deref() {
                None => Ok(Command::Strikes { user, clear: false }),
                Some("clear") | Some("reset") => Ok(Command::Strikes { user, clear: true }),
                Some(_) => Err(usage(u)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Role;
    use crate::state::MemoryState;

    fn settings() -> ModeratorSettings {
        ModeratorSettings {
            groups: vec!["g1".into()],
            banned_words: vec!["(?i)\\bbadword\\b".into()],
            allowed_domains: vec!["openim.io".into()],
            flood: Some(FloodSettings {
                max_messages: 3,
                window: HumanDuration::secs(10),
            }),
            repeat: Some(RepeatSettings {
                max_repeats: 3,
                window: HumanDuration::secs(60),
            }),
            join_answer: Some("(?i)^\\s*42\\s*$".into()),
            ..Default::default()
        }
    }

    fn msg(user: &str, text: &str, t: i64) -> MessageView {
        MessageView {
            conversation_id: "sg_g1".into(),
            seq: t,
            group_id: Some("g1".into()),
            sender_id: user.into(),
            sender_nickname: user.to_uppercase(),
            text: text.into(),
            send_time_ms: t * 1000,
            ..Default::default()
        }
    }

    fn admin(text: &str, at: &[&str]) -> MessageView {
        MessageView {
            sender_role: Role::Admin,
            at_user_ids: at.iter().map(|s| s.to_string()).collect(),
            ..msg("boss", text, 1)
        }
    }

    #[test]
    fn escalation_revoke_warn_mute_kick_with_persisted_strikes() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        let a = m.judge(&msg("eve", "this is BADWORD", 1), &st).unwrap();
        assert_eq!(
            a[0],
            Action::Revoke {
                conversation_id: "sg_g1".into(),
                seq: 1
            }
        );
        assert!(
            matches!(&a[1], Action::Mention { text, .. } if text.contains("warning, strike 1/3"))
        );
        let a = m
            .judge(&msg("eve", "see http://spam.example.com/x", 100), &st)
            .unwrap();
        assert!(
            matches!(&a[1], Action::Mute { user_id, duration, .. } if user_id == "eve" && *duration == Duration::from_secs(600))
        );
        // A fresh Moderator (a restart) sees the persisted strikes.
        let m2 = Moderator::from_settings(&settings()).unwrap();
        assert_eq!(m2.strikes(&st, "g1", "eve").unwrap().count, 2);
        let a = m2.judge(&msg("eve", "badword", 200), &st).unwrap();
        // The removal, then its notice (not sent if the removal fails).
        assert!(matches!(&a[1], Action::Kick { user_id, .. } if user_id == "eve"));
        assert!(
            matches!(&a[2], Action::Mention { text, .. } if text.contains("removed from the group"))
        );
        // The flood's tail, handled after the removal: revoked, without a strike or a notice.
        let a = m2.judge(&msg("eve", "badword again", 201), &st).unwrap();
        assert!(
            matches!(a.as_slice(), [Action::Revoke { seq: 201, .. }]),
            "{a:?}"
        );
        assert_eq!(m2.strikes(&st, "g1", "eve").unwrap().count, 3);
        // Back in the group, a member starts again with no strikes.
        m2.on_member_rejoined(&st, "g1", "eve").unwrap();
        assert_eq!(m2.strikes(&st, "g1", "eve").unwrap().count, 0);
        let a = m2.judge(&msg("eve", "badword", 300), &st).unwrap();
        assert!(
            matches!(&a[1], Action::Mention { text, .. } if text.contains("warning, strike 1/3"))
        );
    }

    #[test]
    fn commands_take_spelt_out_mentions_and_never_act_on_everyone() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        // A group nickname with a space: its words are no argument.
        let mut mute = admin("/mute @Ann Smith 10m", &["ann"]);
        mute.at_names = vec!["@Ann Smith".into()];
        let a = m.judge(&mute, &st).unwrap();
        assert!(
            matches!(&a[0], Action::Mute { user_id, duration, .. } if user_id == "ann" && *duration == Duration::from_secs(600)),
            "{a:?}"
        );
        let mut warn = admin("/warn @Ann Smith  spam\nagain", &["ann"]);
        warn.at_names = vec!["@Ann Smith".into()];
        m.judge(&warn, &st).unwrap();
        assert_eq!(
            m.strikes(&st, "g1", "ann").unwrap().last_reason,
            "spam again"
        );
        // @all is nobody: the command's usage, not a strike of a user named after it.
        let mut all = admin("/warn @everyone spam", &[]);
        all.mentions_all = true;
        all.at_names = vec!["@everyone".into()];
        let a = m.judge(&all, &st).unwrap();
        assert!(
            matches!(&a[..], [Action::Send { text, .. }] if text.starts_with("Usage: /warn")),
            "{a:?}"
        );
        let mut all = admin("/kick @all", &[]);
        all.mentions_all = true;
        let a = m.judge(&all, &st).unwrap();
        assert!(
            matches!(&a[..], [Action::Send { text, .. }] if text.starts_with("Usage: /kick")),
            "{a:?}"
        );
    }

    #[test]
    fn commands_on_the_owner_or_on_admins_from_an_admin_are_refused() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        let roles = |user: &str| match user {
            "own" => Some(Role::Owner),
            "adm" => Some(Role::Admin),
            "ann" => Some(Role::Member),
            _ => None,
        };
        let refused = |a: &[Action], what: &str| {
            assert!(
                matches!(a, [Action::Send { text, .. }] if text.contains(what)),
                "{a:?}"
            );
        };
        // Only the commands that act on a member name a target to look up.
        assert_eq!(
            m.command_target(&admin("/warn @adm spam", &["adm"])),
            Some("adm".into())
        );
        assert_eq!(m.command_target(&admin("/strikes @adm", &["adm"])), None);
        assert_eq!(m.command_target(&msg("ann", "/kick @adm", 1)), None);
        // An admin acting on another admin, or anyone on the owner: a reply, no strike.
        for text in [
            "/warn @adm spam",
            "/mute @adm 10m",
            "/kick @adm",
            "/unmute @adm",
        ] {
            let a = m
                .judge_knowing(&admin(text, &["adm"]), &st, &roles, None)
                .unwrap();
            refused(&a, "only the group owner can");
        }
        assert_eq!(m.strikes(&st, "g1", "adm").unwrap().count, 0);
        let mut by_owner = admin("/kick @own", &["own"]);
        by_owner.sender_role = Role::Owner;
        for msg in [admin("/warn @own", &["own"]), by_owner] {
            let a = m.judge_knowing(&msg, &st, &roles, None).unwrap();
            refused(&a, "own is the group owner");
        }
        assert_eq!(m.strikes(&st, "g1", "own").unwrap().count, 0);
        // The owner may act on an admin; anyone on a member, or on one whose role is unknown;
        // and /strikes only reads.
        let mut owner_mutes = admin("/mute @adm 10m", &["adm"]);
        owner_mutes.sender_role = Role::Owner;
        let a = m
            .judge_knowing(&owner_mutes, &st, &roles, Some(Role::Owner))
            .unwrap();
        assert!(
            matches!(&a[0], Action::Mute { user_id, .. } if user_id == "adm"),
            "{a:?}"
        );
        // Not while the bot is only an admin: the server checks the bot's role.
        let a = m
            .judge_knowing(&owner_mutes, &st, &roles, Some(Role::Admin))
            .unwrap();
        refused(&a, "and so is this bot");
        for (text, who) in [("/warn @ann spam", "ann"), ("/warn @zed spam", "zed")] {
            m.judge_knowing(&admin(text, &[who]), &st, &roles, Some(Role::Admin))
                .unwrap();
            assert_eq!(m.strikes(&st, "g1", who).unwrap().count, 1);
        }
        let a = m
            .judge_knowing(&admin("/strikes @adm", &["adm"]), &st, &roles, None)
            .unwrap();
        refused(&a, "adm has no strikes");
    }

    #[test]
    fn strikes_the_bot_could_not_enforce_are_taken_back_and_a_failed_removal_is_tried_again() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        // A message the bot could not revoke: its strike is taken back (never below zero).
        m.judge(&msg("eve", "badword", 1), &st).unwrap();
        m.take_back_strike(&st, "g1", "eve").unwrap();
        assert_eq!(m.strikes(&st, "g1", "eve").unwrap().count, 0);
        m.take_back_strike(&st, "g1", "eve").unwrap();
        assert_eq!(m.strikes(&st, "g1", "eve").unwrap().count, 0);
        // Strikes below the removal are left alone by a failed removal (a /kick command's).
        m.judge(&msg("eve", "badword", 2), &st).unwrap();
        m.removal_failed(&st, "g1", "eve").unwrap();
        assert_eq!(m.strikes(&st, "g1", "eve").unwrap().count, 1);
        m.judge(&msg("eve", "badword", 3), &st).unwrap();
        let a = m.judge(&msg("eve", "badword", 4), &st).unwrap();
        assert!(matches!(&a[1], Action::Kick { .. }), "{a:?}");
        // The removal failed: the next violation tries it again, where it was only revoked.
        m.removal_failed(&st, "g1", "eve").unwrap();
        assert_eq!(m.strikes(&st, "g1", "eve").unwrap().count, 2);
        let a = m.judge(&msg("eve", "badword", 5), &st).unwrap();
        assert!(
            matches!(&a[..], [Action::Revoke { .. }, Action::Kick { user_id, .. }, Action::Mention { .. }] if user_id == "eve"),
            "{a:?}"
        );
    }

    #[test]
    fn clean_allowed_and_unmoderated_messages_pass() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        assert!(
            m.judge(&msg("ann", "hello world", 1), &st)
                .unwrap()
                .is_empty()
        );
        assert!(
            m.judge(&msg("ann", "docs at https://docs.openim.io/x", 20), &st)
                .unwrap()
                .is_empty()
        );
        let mut other = msg("ann", "badword", 40);
        other.group_id = Some("g2".into());
        assert!(m.judge(&other, &st).unwrap().is_empty());
        let mut private = msg("ann", "badword", 41);
        private.group_id = None;
        assert!(m.judge(&private, &st).unwrap().is_empty());
        // Admins are exempt.
        assert!(m.judge(&admin("badword", &[]), &st).unwrap().is_empty());
    }

    #[test]
    fn detects_links_without_scheme() {
        let m = Moderator::from_settings(&settings()).unwrap();
        assert_eq!(
            m.find_link("visit cheap-pills.xyz now"),
            Some("cheap-pills.xyz".into())
        );
        assert_eq!(m.find_link("www.Example.com"), Some("example.com".into()));
        assert_eq!(m.find_link("version 1.2.3 is out"), None);
    }

    fn picture(user: &str, url: &str, t: i64) -> MessageView {
        let content = openim_bot::content::parse_lossless(
            102,
            format!(r#"{{"sourcePicture":{{"url":"{url}"}}}}"#).as_bytes(),
        );
        MessageView {
            attachment: crate::action::Attachment::of(&content),
            ..msg(user, "", t)
        }
    }

    #[test]
    fn attachments_count_toward_flood_and_repeat_but_not_words() {
        let mut s = settings();
        // A pattern that matches the empty text of every attachment.
        s.banned_words.push("^$".into());
        let m = Moderator::from_settings(&s).unwrap();
        // Three pictures, then a text: the fourth message within 10 s is the flood.
        for t in 1..=3 {
            assert_eq!(m.check(&picture("eve", &format!("http://x/{t}"), t)), None);
        }
        assert!(matches!(
            m.check(&msg("eve", "hello", 4)),
            Some(Violation::Flood { count: 4, .. })
        ));
        // The same sticker three times (spread out: no flood) is a repeat; another one is not.
        assert_eq!(m.check(&picture("ann", "http://x/a", 100)), None);
        assert_eq!(m.check(&picture("ann", "http://x/b", 110)), None);
        assert_eq!(m.check(&picture("ann", "http://x/a", 120)), None);
        assert_eq!(
            m.check(&picture("ann", "http://x/a", 140)),
            Some(Violation::Repeat { count: 3 })
        );
    }

    #[test]
    fn flood_and_repeat() {
        let m = Moderator::from_settings(&settings()).unwrap();
        assert_eq!(m.check(&msg("bob", "a", 1)), None);
        assert_eq!(m.check(&msg("bob", "b", 2)), None);
        assert_eq!(m.check(&msg("bob", "c", 3)), None);
        assert!(matches!(
            m.check(&msg("bob", "d", 4)),
            Some(Violation::Flood { count: 4, .. })
        ));
        // Spread out: no flood, but the third identical text is a repeat.
        assert_eq!(m.check(&msg("cat", "buy now", 100)), None);
        assert_eq!(m.check(&msg("cat", "Buy now ", 120)), None);
        assert_eq!(
            m.check(&msg("cat", "buy now", 140)),
            Some(Violation::Repeat { count: 3 })
        );
        // Outside the window the count restarts.
        assert_eq!(m.check(&msg("cat", "buy now", 300)), None);
    }

    #[test]
    fn admin_commands() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        let a = m.judge(&admin("/mute @eve 10m", &[]), &st).unwrap();
        assert_eq!(
            a[0],
            Action::Mute {
                group_id: "g1".into(),
                user_id: "eve".into(),
                duration: Duration::from_secs(600)
            }
        );
        let a = m.judge(&admin("/mute @Eve 5m", &["eve"]), &st).unwrap();
        assert_eq!(
            a[0],
            Action::Mute {
                group_id: "g1".into(),
                user_id: "eve".into(),
                duration: Duration::from_secs(300)
            }
        );
        let a = m.judge(&admin("/unmute @eve", &[]), &st).unwrap();
        assert!(matches!(&a[0], Action::Unmute { user_id, .. } if user_id == "eve"));
        let a = m.judge(&admin("/warn @eve spamming", &[]), &st).unwrap();
        assert!(matches!(&a[0], Action::Mention { text, .. } if text.contains("spamming")));
        let a = m.judge(&admin("/strikes @eve", &[]), &st).unwrap();
        assert!(matches!(&a[0], Action::Send { text, .. } if text.contains("1/3")));
        m.judge(&admin("/strikes @eve clear", &[]), &st).unwrap();
        assert_eq!(m.strikes(&st, "g1", "eve").unwrap().count, 0);
        let a = m.judge(&admin("/kick @eve", &[]), &st).unwrap();
        assert!(matches!(&a[0], Action::Kick { user_id, .. } if user_id == "eve"));
        let a = m.judge(&admin("/rules", &[]), &st).unwrap();
        assert!(matches!(&a[0], Action::Send { text, .. } if text.starts_with("Rules:")));
    }

    #[test]
    fn malformed_and_unauthorised_commands_get_a_reply() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        for bad in [
            "/mute @eve",
            "/mute @eve soon",
            "/mute",
            "/kick",
            "/strikes @eve what",
            "/unmute",
        ] {
            let a = m.judge(&admin(bad, &[]), &st).unwrap();
            assert!(
                matches!(&a[..], [Action::Send { text, .. }] if text.starts_with("Usage: /")),
                "{bad}: {a:?}"
            );
        }
        let a = m.judge(&msg("eve", "/kick @boss", 1), &st).unwrap();
        assert!(
            matches!(&a[..], [Action::Send { text, .. }] if text.contains("only the group owner"))
        );
    }

    #[test]
    fn any_member_can_read_the_rules() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let st = MemoryState::new();
        for text in ["/rules", "/RULES", "/rules@helper_bot please"] {
            let a = m.judge(&msg("eve", text, 1), &st).unwrap();
            assert!(
                matches!(&a[..], [Action::Send { text, .. }] if text.starts_with("Rules: ")),
                "{text}: {a:?}"
            );
        }
        assert_eq!(m.strikes(&st, "g1", "eve").unwrap().count, 0);
    }

    #[test]
    fn join_applications_and_welcome() {
        let m = Moderator::from_settings(&settings()).unwrap();
        let req = |answer: &str| JoinRequestView {
            group_id: "g1".into(),
            user_id: "neo".into(),
            nickname: "Neo".into(),
            request_message: answer.into(),
        };
        assert!(matches!(
            &m.on_join_request(&req(" 42 "))[..],
            [Action::AnswerJoin { accept: true, .. }]
        ));
        assert!(matches!(
            &m.on_join_request(&req("43"))[..],
            [Action::AnswerJoin { accept: false, .. }]
        ));
        let w = m.on_member_joined("g1", "neo", "Neo");
        assert!(
            matches!(&w[..], [Action::Mention { text, user_ids, .. }] if text.contains("Neo") && user_ids == &["neo"])
        );
        assert!(m.on_member_joined("g2", "neo", "Neo").is_empty());
    }

    #[test]
    fn bad_settings_name_the_key() {
        let mut s = settings();
        s.banned_words.push("([".into());
        assert_eq!(
            Moderator::from_settings(&s).unwrap_err().key,
            "bots.moderator.banned_words[1]"
        );
        let mut s = settings();
        s.mute_after = 5;
        assert_eq!(
            Moderator::from_settings(&s).unwrap_err().key,
            "bots.moderator.mute_after"
        );
        let s = ModeratorSettings::default();
        assert_eq!(
            Moderator::from_settings(&s).unwrap_err().key,
            "bots.moderator.groups"
        );
    }
}

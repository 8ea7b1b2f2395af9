//! friend_gate: answers friend applications addressed to the bot and greets new friends.
//!
//! Policy, in order: a user on the block-list is refused; a user on the allow-list is accepted;
//! then the [`AcceptMode`] decides (everyone, request message matching a regex, or allow-list
//! only); whoever is left is refused or left pending for a human ([`Otherwise`]). Applications
//! that arrived while the bot was offline are fetched at start and judged the same way.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::action::{Action, FriendRequestView, Target};
use crate::settings::{Invalid, compile_regex};
use crate::state::{StateError, StateExt, StateStore};
use crate::template::{Template, vars};

/// Which applications are accepted (besides the allow-list, which is always accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AcceptMode {
    /// Everyone not on the block-list.
    #[default]
    All,
    /// Applications whose request message matches `request_pattern`.
    Matching,
    /// Only users on the allow-list.
    AllowList,
}

/// What happens to an application that is neither accepted nor blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Otherwise {
    /// Leave it pending for a human.
    #[default]
    Ignore,
    /// Refuse it.
    Refuse,
}

/// `[bots.friend_gate]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FriendGateSettings {
    /// Run this bot (default true when the table is present).
    #[serde(default = "crate::settings::default_true")]
    pub enabled: bool,
    /// Acceptance mode: `all`, `matching` or `allow_list`.
    #[serde(default)]
    pub accept: AcceptMode,
    /// Regex on the request message, required for `accept = "matching"`.
    #[serde(default)]
    pub request_pattern: Option<String>,
    /// User IDs always accepted (unless blocked).
    #[serde(default)]
    pub allow_list: Vec<String>,
    /// User IDs always refused.
    #[serde(default)]
    pub block_list: Vec<String>,
    /// What to do with the rest: `ignore` (leave pending) or `refuse`.
    #[serde(default)]
    pub otherwise: Otherwise,
    /// Greeting sent to every new friend; placeholders `{nickname}`, `{user_id}`. Empty = none.
    #[serde(default = "default_greeting")]
    pub greeting: String,
    /// Handle message attached to an acceptance.
    #[serde(default = "default_accept_message")]
    pub accept_message: String,
    /// Handle message attached to a refusal.
    #[serde(default = "default_refuse_message")]
    pub refuse_message: String,
}

fn default_greeting() -> String {
    "Hi {nickname}, nice to meet you! I'm a bot: write to me any time.".to_owned()
}
fn default_accept_message() -> String {
    "Welcome!".to_owned()
}
fn default_refuse_message() -> String {
    "Sorry, this account does not accept your request.".to_owned()
}

impl Default for FriendGateSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            accept: AcceptMode::All,
            request_pattern: None,
            allow_list: Vec::new(),
            block_list: Vec::new(),
            otherwise: Otherwise::Ignore,
            greeting: default_greeting(),
            accept_message: default_accept_message(),
            refuse_message: default_refuse_message(),
        }
    }
}

/// The verdict on one application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Accept, with the reason (for logs and the transcript).
    Accept(&'static str),
    /// Refuse, with the reason.
    Refuse(&'static str),
    /// Leave pending, with the reason.
    Leave(&'static str),
}

/// The compiled friend_gate policy.
#[derive(Debug, Clone)]
pub struct FriendGate {
    mode: AcceptMode,
    pattern: Option<regex::Regex>,
    allow: HashSet<String>,
    block: HashSet<String>,
    otherwise: Otherwise,
    greeting: Option<Template>,
    accept_message: String,
    refuse_message: String,
}

const PREFIX: &str = "bots.friend_gate";

/// Where it is kept that a friend was greeted.
fn greeted_key(user_id: &str) -> String {
    format!("v1/friend_gate/greeted/{user_id}")
}

impl FriendGate {
    /// Compiles and checks the settings.
    pub fn from_settings(s: &FriendGateSettings) -> Result<Self, Invalid> {
        let pattern = match &s.request_pattern {
            Some(p) => Some(compile_regex(&format!("{PREFIX}.request_pattern"), p)?),
            None if s.accept == AcceptMode::Matching => {
                return Err(Invalid::new(
                    format!("{PREFIX}.request_pattern"),
                    "required when accept = \"matching\"",
                ));
            }
            None => None,
        };
        if let Some(u) = s.allow_list.iter().find(|u| s.block_list.contains(u)) {
            return Err(Invalid::new(
                format!("{PREFIX}.allow_list"),
                format!("user {u:?} is on both the allow_list and the block_list"),
            ));
        }
        let greeting = if s.greeting.trim().is_empty() {
            None
        } else {
            Some(
                Template::parse(
                    &s.greeting,
                    |n| matches!(n, "nickname" | "user_id"),
                    "{nickname}, {user_id}",
                )
                .map_err(|e| Invalid::new(format!("{PREFIX}.greeting"), e.to_string()))?,
            )
        };
        Ok(Self {
            mode: s.accept,
            pattern,
            allow: s.allow_list.iter().cloned().collect(),
            block: s.block_list.iter().cloned().collect(),
            otherwise: s.otherwise,
            greeting,
            accept_message: s.accept_message.clone(),
            refuse_message: s.refuse_message.clone(),
        })
    }

    /// Judges one application.
    pub fn decide(&self, req: &FriendRequestView) -> Decision {
        if self.block.contains(&req.from_user_id) {
            return Decision::Refuse("on the block-list");
        }
        if self.allow.contains(&req.from_user_id) {
            return Decision::Accept("on the allow-list");
        }
        let accepted = match self.mode {
            AcceptMode::All => Some("accepting everyone"),
            AcceptMode::Matching => self
                .pattern
                .as_ref()
                .filter(|p| p.is_match(&req.request_message))
                .map(|_| "request message matches"),
            AcceptMode::AllowList => None,
        };
        match (accepted, self.otherwise) {
            (Some(why), _) => Decision::Accept(why),
            (None, Otherwise::Refuse) => Decision::Refuse("no acceptance rule matched"),
            (None, Otherwise::Ignore) => Decision::Leave("no acceptance rule matched"),
        }
    }

    /// The decision and the actions for an application (online or from the offline backlog).
    pub fn on_application(&self, req: &FriendRequestView) -> (Decision, Vec<Action>) {
        let d = self.decide(req);
        let actions = match d {
            Decision::Accept(_) => vec![Action::AnswerFriend {
                user_id: req.from_user_id.clone(),
                accept: true,
                message: self.accept_message.clone(),
            }],
            Decision::Refuse(_) => vec![Action::AnswerFriend {
                user_id: req.from_user_id.clone(),
                accept: false,
                message: self.refuse_message.clone(),
            }],
            Decision::Leave(_) => Vec::new(),
        };
        (d, actions)
    }

    /// The greeting of `user_id` could not be sent (e.g. they blocked the bot): they count as
    /// not greeted, so that a later sight of the friendship (a restart's friend list) tries
    /// again.
    pub fn greeting_failed(&self, user_id: &str, state: &dyn StateStore) -> Result<(), StateError> {
        state.remove(&greeted_key(user_id))
    }

    /// Greets a new friend once (remembered in `state`, so a restart or re-sync does not repeat it).
    pub fn on_new_friend(
        &self,
        user_id: &str,
        nickname: &str,
        state: &dyn StateStore,
    ) -> Result<Vec<Action>, StateError> {
        let Some(greeting) = &self.greeting else {
            return Ok(Vec::new());
        };
        let key = greeted_key(user_id);
        if state.get_json::<bool>(&key)?.unwrap_or(false) {
            return Ok(Vec::new());
        }
        state.put_json(&key, &true)?;
        let name = if nickname.is_empty() {
            user_id
        } else {
            nickname
        };
        let text = greeting.render(&vars([("nickname", name), ("user_id", user_id)]));
        Ok(vec![Action::Send {
            to: Target::User(user_id.to_owned()),
            text,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryState;

    fn req(user: &str, msg: &str) -> FriendRequestView {
        FriendRequestView {
            from_user_id: user.into(),
            from_nickname: user.to_uppercase(),
            request_message: msg.into(),
        }
    }

    #[test]
    fn accept_all_but_block_list() {
        let gate = FriendGate::from_settings(&FriendGateSettings {
            block_list: vec!["spam".into()],
            ..Default::default()
        })
        .unwrap();
        let (d, a) = gate.on_application(&req("ann", "hi"));
        assert_eq!(d, Decision::Accept("accepting everyone"));
        assert!(
            matches!(&a[..], [Action::AnswerFriend { accept: true, user_id, .. }] if user_id == "ann")
        );
        let (d, a) = gate.on_application(&req("spam", "hi"));
        assert_eq!(d, Decision::Refuse("on the block-list"));
        assert!(matches!(
            &a[..],
            [Action::AnswerFriend { accept: false, .. }]
        ));
    }

    #[test]
    fn matching_mode_uses_regex_and_allow_list() {
        let gate = FriendGate::from_settings(&FriendGateSettings {
            accept: AcceptMode::Matching,
            request_pattern: Some("(?i)password:\\s*open sesame".into()),
            allow_list: vec!["boss".into()],
            otherwise: Otherwise::Refuse,
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(
            gate.decide(&req("a", "Password: OPEN SESAME")),
            Decision::Accept(_)
        ));
        assert!(matches!(
            gate.decide(&req("b", "let me in")),
            Decision::Refuse(_)
        ));
        assert!(matches!(
            gate.decide(&req("boss", "")),
            Decision::Accept("on the allow-list")
        ));
    }

    #[test]
    fn allow_list_mode_leaves_others_pending() {
        let gate = FriendGate::from_settings(&FriendGateSettings {
            accept: AcceptMode::AllowList,
            allow_list: vec!["x".into()],
            ..Default::default()
        })
        .unwrap();
        let (d, a) = gate.on_application(&req("y", "hi"));
        assert!(matches!(d, Decision::Leave(_)));
        assert!(a.is_empty());
    }

    #[test]
    fn bad_settings_name_the_key() {
        let e = FriendGate::from_settings(&FriendGateSettings {
            accept: AcceptMode::Matching,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "bots.friend_gate.request_pattern");
        let e = FriendGate::from_settings(&FriendGateSettings {
            accept: AcceptMode::Matching,
            request_pattern: Some("(".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.problem.contains("regular expression"), "{e}");
        let e = FriendGate::from_settings(&FriendGateSettings {
            greeting: "hi {name}".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "bots.friend_gate.greeting");
    }

    #[test]
    fn greets_each_friend_once() {
        let gate = FriendGate::from_settings(&FriendGateSettings::default()).unwrap();
        let state = MemoryState::new();
        let a = gate.on_new_friend("ann", "Ann", &state).unwrap();
        assert!(
            matches!(&a[..], [Action::Send { to: Target::User(u), text }] if u == "ann" && text.contains("Ann"))
        );
        assert!(gate.on_new_friend("ann", "Ann", &state).unwrap().is_empty());
        // A greeting that could not be sent (the friend blocked the bot) is tried again.
        gate.greeting_failed("ann", &state).unwrap();
        assert_eq!(gate.on_new_friend("ann", "Ann", &state).unwrap(), a);
    }
}

//! autoreply: keyword and regex rules that answer with templated replies.
//!
//! Rules match text messages (pictures, files and stickers get no reply) and are tried in order;
//! the first that matches answers. A reply template may use
//! `{nickname}`, `{user_id}`, `{group_id}`, the numbered captures `{0}`…`{9}` and the named
//! captures of its regex (`(?P<item>…)` → `{item}`); a keyword rule's `{0}` is the keyword met.
//! After replying in a conversation the bot stays silent there for `cooldown` (persisted, so a
//! restart does not reset it); the cooldown is measured on message times, so replays are stable.

use serde::{Deserialize, Serialize};

use crate::action::{Action, MessageView};
use crate::settings::{HumanDuration, Invalid, compile_regex};
use crate::state::{StateError, StateExt, StateStore};
use crate::template::Template;

/// Where a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Private chats and groups.
    #[default]
    Both,
    /// Private chats only.
    Private,
    /// Group chats only.
    Group,
}

/// One `[[bots.autoreply.rules]]` entry: `keywords` or `pattern`, and `reply`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Words that trigger the rule (case-insensitive, whole words).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A regex that triggers the rule.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The reply template.
    pub reply: String,
    /// Where the rule applies: `both` (default), `private` or `group`.
    #[serde(default)]
    pub scope: Scope,
}

/// `[bots.autoreply]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AutoreplySettings {
    /// Run this bot (default true when the table is present).
    #[serde(default = "crate::settings::default_true")]
    pub enabled: bool,
    /// Silence per conversation after a reply.
    #[serde(default = "default_cooldown")]
    pub cooldown: HumanDuration,
    /// In groups, answer only messages addressed to the bot: an @-mention of it, or a reply
    /// quoting one of its messages (not @all).
    #[serde(default)]
    pub group_requires_mention: bool,
    /// The rules, tried in order.
    #[serde(default)]
    pub rules: Vec<RuleSettings>,
}

fn default_cooldown() -> HumanDuration {
    HumanDuration::secs(30)
}

impl Default for AutoreplySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown: default_cooldown(),
            group_requires_mention: false,
            rules: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: regex::Regex,
    reply: Template,
    scope: Scope,
    /// A keyword rule's keyword is capture 1 (the regex pads it with boundaries).
    is_keyword: bool,
}

/// The compiled rule set.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Rule>,
    cooldown_ms: i64,
    group_requires_mention: bool,
}

const PREFIX: &str = "bots.autoreply";

/// Where the time of a conversation's last reply is kept (its cooldown).
fn cooldown_key(conversation_id: &str) -> String {
    format!("v1/autoreply/cooldown/{conversation_id}")
}

impl Rules {
    /// Compiles and checks the settings.
    pub fn from_settings(s: &AutoreplySettings) -> Result<Self, Invalid> {
        if s.enabled && s.rules.is_empty() {
            return Err(Invalid::new(
                format!("{PREFIX}.rules"),
                "add at least one [[bots.autoreply.rules]] entry",
            ));
        }
        let mut rules = Vec::new();
        for (i, r) in s.rules.iter().enumerate() {
            let key = format!("{PREFIX}.rules[{i}]");
            let matcher = match (&r.pattern, r.keywords.is_empty()) {
                (Some(p), true) => compile_regex(&format!("{key}.pattern"), p)?,
                (None, false) => {
                    if let Some(k) = r.keywords.iter().position(|k| k.trim().is_empty()) {
                        return Err(Invalid::new(
                            format!("{key}.keywords[{k}]"),
                            "empty keyword",
                        ));
                    }
                    let alternatives: Vec<String> =
                        r.keywords.iter().map(|k| regex::escape(k.trim())).collect();
                    compile_regex(
                        &format!("{key}.keywords"),
                        &format!(r"(?i)(?:^|\b|\s)({})(?:\b|\s|$)", alternatives.join("|")),
                    )?
                }
                (Some(_), false) => {
                    return Err(Invalid::new(
                        key,
                        "give either `keywords` or `pattern`, not both",
                    ));
                }
                (None, true) => return Err(Invalid::new(key, "needs `keywords` or `pattern`")),
            };
            let names: Vec<String> = matcher
                .capture_names()
                .flatten()
                .map(str::to_owned)
                .collect();
            let groups = matcher.captures_len();
            let is_keyword = r.pattern.is_none();
            let known = format!(
                "{{nickname}}, {{user_id}}, {{group_id}}, {{0}}..{{{}}}{}",
                if is_keyword { 0 } else { groups - 1 },
                names
                    .iter()
                    .map(|n| format!(", {{{n}}}"))
                    .collect::<String>()
            );
            let reply = Template::parse(
                &r.reply,
                |n| {
                    matches!(n, "nickname" | "user_id" | "group_id")
                        || names.iter().any(|x| x == n)
                        || n.parse::<usize>()
                            .is_ok_and(|i| if is_keyword { i == 0 } else { i < groups })
                },
                &known,
            )
            .map_err(|e| Invalid::new(format!("{key}.reply"), e.to_string()))?;
            rules.push(Rule {
                matcher,
                reply,
                scope: r.scope,
                is_keyword,
            });
        }
        Ok(Self {
            rules,
            cooldown_ms: s.cooldown.0.as_millis() as i64,
            group_requires_mention: s.group_requires_mention,
        })
    }

    /// The reply to `msg` could not be sent (the bot is muted there, or the server refused it):
    /// the cooldown it started is lifted, so that the conversation's next message is answered.
    pub fn reply_failed(
        &self,
        msg: &MessageView,
        state: &dyn StateStore,
    ) -> Result<(), StateError> {
        let key = cooldown_key(&msg.conversation_id);
        if state.get_json::<i64>(&key)? == Some(msg.send_time_ms) {
            state.remove(&key)?;
        }
        Ok(())
    }

    /// The reply to `msg`, if a rule matches and the conversation is not cooling down.
    /// `me` is the bot's user ID (for the mention requirement).
    pub fn reply(
        &self,
        msg: &MessageView,
        me: &str,
        state: &dyn StateStore,
    ) -> Result<Option<Action>, StateError> {
        if msg.text.trim().is_empty() {
            return Ok(None);
        }
        let in_group = msg.group_id.is_some();
        // A reply quoting the bot addresses it as a mention does; @all is not meant for it.
        let mentioned =
            msg.mentions_bot || msg.replies_to_bot || msg.at_user_ids.iter().any(|u| u == me);
        if in_group && self.group_requires_mention && !mentioned {
            return Ok(None);
        }
        let Some((rule, caps)) = self.rules.iter().find_map(|r| {
            let applies = match r.scope {
                Scope::Both => true,
                Scope::Private => !in_group,
                Scope::Group => in_group,
            };
            if !applies {
                return None;
            }
            r.matcher.captures(&msg.text).map(|c| (r, c))
        }) else {
            return Ok(None);
        };
        let key = cooldown_key(&msg.conversation_id);
        if let Some(last) = state.get_json::<i64>(&key)?
            && msg.send_time_ms >= last
            && msg.send_time_ms - last < self.cooldown_ms
        {
            return Ok(None);
        }
        let mut vars = std::collections::HashMap::new();
        vars.insert("nickname".to_owned(), msg.display_name().to_owned());
        vars.insert("user_id".to_owned(), msg.sender_id.clone());
        vars.insert(
            "group_id".to_owned(),
            msg.group_id.clone().unwrap_or_default(),
        );
        for (i, m) in caps.iter().enumerate() {
            // For a keyword rule, {0} is the keyword itself (capture 1), not the padded match.
            let idx = if rule.is_keyword {
                i.wrapping_sub(1)
            } else {
                i
            };
            if let Some(m) = m
                && idx < 10
            {
                vars.insert(idx.to_string(), m.as_str().to_owned());
            }
        }
        for name in rule.matcher.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                vars.insert(name.to_owned(), m.as_str().to_owned());
            }
        }
        state.put_json(&key, &msg.send_time_ms)?;
        Ok(Some(Action::Send {
            to: msg.reply_target(),
            text: rule.reply.render(&vars),
        }))
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Target;
    use crate::state::MemoryState;

    fn rules() -> Rules {
        Rules::from_settings(&AutoreplySettings {
            cooldown: HumanDuration::secs(30),
            rules: vec![
                RuleSettings {
                    keywords: vec!["hello".into(), "hi".into()],
                    pattern: None,
                    reply: "{0} {nickname}!".into(),
                    scope: Scope::Both,
                },
                RuleSettings {
                    keywords: vec![],
                    pattern: Some(r"(?i)where is order #(?P<order>\d+)".into()),
                    reply: "Order {order} ({1}) ships tomorrow, {nickname}.".into(),
                    scope: Scope::Private,
                },
            ],
            ..Default::default()
        })
        .unwrap()
    }

    fn msg(conv: &str, group: Option<&str>, text: &str, t: i64) -> MessageView {
        MessageView {
            conversation_id: conv.into(),
            group_id: group.map(Into::into),
            sender_id: "u1".into(),
            sender_nickname: "Ann".into(),
            text: text.into(),
            send_time_ms: t * 1000,
            ..Default::default()
        }
    }

    #[test]
    fn keyword_and_regex_with_captures() {
        let r = rules();
        let st = MemoryState::new();
        let a = r
            .reply(&msg("si_a", None, "Hello there", 1), "bot", &st)
            .unwrap();
        assert_eq!(
            a,
            Some(Action::Send {
                to: Target::User("u1".into()),
                text: "Hello Ann!".into()
            })
        );
        let a = r
            .reply(&msg("si_b", None, "where is order #123?", 1), "bot", &st)
            .unwrap();
        assert_eq!(
            a,
            Some(Action::Send {
                to: Target::User("u1".into()),
                text: "Order 123 (123) ships tomorrow, Ann.".into()
            })
        );
        // Whole words only.
        assert_eq!(
            r.reply(&msg("si_c", None, "this is high", 1), "bot", &st)
                .unwrap(),
            None
        );
    }

    #[test]
    fn scope_and_group_target() {
        let r = rules();
        let st = MemoryState::new();
        assert_eq!(
            r.reply(&msg("sg_g", Some("g"), "where is order #1", 1), "bot", &st)
                .unwrap(),
            None
        );
        let a = r
            .reply(&msg("sg_g", Some("g"), "hi all", 1), "bot", &st)
            .unwrap();
        assert!(matches!(a, Some(Action::Send { to: Target::Group(g), .. }) if g == "g"));
    }

    #[test]
    fn a_reply_that_could_not_be_sent_starts_no_cooldown() {
        let r = rules();
        let st = MemoryState::new();
        let first = msg("si_a", None, "hi", 100);
        assert!(r.reply(&first, "bot", &st).unwrap().is_some());
        // Muted: the reply failed. The next message is answered.
        r.reply_failed(&first, &st).unwrap();
        let next = msg("si_a", None, "hi", 110);
        assert!(r.reply(&next, "bot", &st).unwrap().is_some());
        // A failure reported for an older message leaves a newer reply's cooldown.
        r.reply_failed(&first, &st).unwrap();
        assert!(
            r.reply(&msg("si_a", None, "hi", 120), "bot", &st)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn cooldown_is_per_conversation_and_persisted() {
        let r = rules();
        let st = MemoryState::new();
        assert!(
            r.reply(&msg("si_a", None, "hi", 100), "bot", &st)
                .unwrap()
                .is_some()
        );
        assert!(
            r.reply(&msg("si_a", None, "hi", 110), "bot", &st)
                .unwrap()
                .is_none()
        );
        assert!(
            r.reply(&msg("si_b", None, "hi", 110), "bot", &st)
                .unwrap()
                .is_some()
        );
        // A restarted bot (new Rules) still honours the stored cooldown.
        let r2 = rules();
        assert!(
            r2.reply(&msg("si_a", None, "hi", 120), "bot", &st)
                .unwrap()
                .is_none()
        );
        assert!(
            r2.reply(&msg("si_a", None, "hi", 131), "bot", &st)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn group_mention_requirement() {
        let mut s = AutoreplySettings {
            group_requires_mention: true,
            rules: vec![RuleSettings {
                keywords: vec!["hi".into()],
                pattern: None,
                reply: "yo".into(),
                scope: Scope::Both,
            }],
            ..Default::default()
        };
        let r = Rules::from_settings(&s).unwrap();
        let st = MemoryState::new();
        assert!(
            r.reply(&msg("sg_g", Some("g"), "hi", 1), "bot", &st)
                .unwrap()
                .is_none()
        );
        // Mentioning someone else is not enough.
        let mut m = msg("sg_g", Some("g"), "@Ann hi", 2);
        m.at_user_ids = vec!["ann".into()];
        assert!(r.reply(&m, "bot", &st).unwrap().is_none());
        // The adapter reports a mention of the bot as `mentions_bot` (at_user_ids lists the
        // others, for the moderator's command targets).
        let mut m = msg("sg_g", Some("g"), "@Bot hi", 2);
        m.mentions_bot = true;
        assert!(r.reply(&m, "bot", &st).unwrap().is_some());
        // A reply quoting the bot addresses it too; @all does not.
        let mut m = msg("sg_h", Some("h"), "hi again", 3);
        m.replies_to_bot = true;
        assert!(r.reply(&m, "bot", &st).unwrap().is_some());
        let mut m = msg("sg_i", Some("i"), "@everyone hi", 4);
        m.mentions_all = true;
        assert!(r.reply(&m, "bot", &st).unwrap().is_none());
        s.rules.clear();
        assert_eq!(
            Rules::from_settings(&s).unwrap_err().key,
            "bots.autoreply.rules"
        );
    }

    #[test]
    fn bad_rules_name_the_key() {
        let bad = |r: RuleSettings| {
            Rules::from_settings(&AutoreplySettings {
                rules: vec![r],
                ..Default::default()
            })
            .unwrap_err()
        };
        let e = bad(RuleSettings {
            keywords: vec![],
            pattern: Some("(a)".into()),
            reply: "{2}".into(),
            scope: Scope::Both,
        });
        assert_eq!(e.key, "bots.autoreply.rules[0].reply");
        let e = bad(RuleSettings {
            keywords: vec![],
            pattern: Some("(".into()),
            reply: "x".into(),
            scope: Scope::Both,
        });
        assert_eq!(e.key, "bots.autoreply.rules[0].pattern");
        let e = bad(RuleSettings {
            keywords: vec![],
            pattern: None,
            reply: "x".into(),
            scope: Scope::Both,
        });
        assert_eq!(e.key, "bots.autoreply.rules[0]");
        let e = bad(RuleSettings {
            keywords: vec!["x".into()],
            pattern: None,
            reply: "{nick}".into(),
            scope: Scope::Both,
        });
        assert!(e.problem.contains("unknown placeholder"), "{e}");
    }
}

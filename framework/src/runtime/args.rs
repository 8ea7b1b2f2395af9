//! Typed command arguments parsed from message text (and regex captures).
//!
//! A command method's parameters after `ctx` (and an optional `msg: &Message`) are parsed in
//! order from the words after the command name with [`FromArg`]:
//!
//! | type | accepts |
//! |---|---|
//! | `String` | one word, or a `"double quoted phrase"` |
//! | `i8` … `i128`, `u8` … `u128`, `usize`, `isize`, `f32`, `f64` | a number |
//! | `bool` | `true/false`, `yes/no`, `on/off`, `1/0` |
//! | [`Duration`] | `10m`, `1h30m`, `45s`, `2d`, `500ms` |
//! | [`Mention`] | an @-mention (resolved to the mentioned user's ID) or a bare user ID |
//! | [`Rest`] | the rest of the line (may be empty); must be last |
//! | `Option<T>` | `T` if there is another word, else `None` |
//!
//! Implement [`FromArg`] for your own types.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::message::{AT_ALL_TAG, Message};

/// What was wrong with an argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgError {
    /// No more words, but the argument is required.
    #[error("missing {expected}")]
    Missing {
        /// What was expected (e.g. "an integer").
        expected: &'static str,
    },
    /// The word is not a valid value.
    #[error("`{value}` is not {expected}")]
    Invalid {
        /// The word.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// More words than the command takes.
    #[error("unexpected extra text `{extra}`")]
    TooMany {
        /// The extra text.
        extra: String,
    },
    /// A `"` was opened and not closed.
    #[error("unclosed quote")]
    UnclosedQuote,
}

/// The words of a command line after the command name, consumed left to right.
#[derive(Debug)]
pub struct Args<'a> {
    rest: &'a str,
    mentions: Vec<&'a str>,
    next_mention: usize,
    me: Option<&'a str>,
}

impl<'a> Args<'a> {
    /// Arguments from `text`, resolving @-mentions against `message`'s mention list.
    pub fn new(text: &'a str, message: &'a Message) -> Args<'a> {
        Args::with_mentions(
            text,
            message.at_user_ids.iter().map(String::as_str).collect(),
        )
    }

    /// Arguments of a command addressed to the bot `me`: a mention of the bot itself (the
    /// addressing `@bot /cmd`) is not handed out to `@name` words that name nobody.
    pub fn for_command(text: &'a str, message: &'a Message, me: &'a str) -> Args<'a> {
        let mut args = Args::new(text, message);
        args.me = Some(me);
        args
    }

    /// Arguments from `text` with an explicit mention list (tests, custom sources).
    pub fn with_mentions(text: &'a str, mentions: Vec<&'a str>) -> Args<'a> {
        Args {
            rest: text.trim(),
            mentions: mentions.into_iter().filter(|m| *m != AT_ALL_TAG).collect(),
            next_mention: 0,
            me: None,
        }
    }

    /// True when every word was consumed.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The unconsumed text.
    pub fn remaining(&self) -> &'a str {
        self.rest
    }

    /// Takes everything that is left.
    pub fn take_rest(&mut self) -> &'a str {
        std::mem::take(&mut self.rest)
    }

    /// Takes the next word (`"quoted phrases"` count as one word, without the quotes).
    pub fn next_word(&mut self) -> Result<Option<&'a str>, ArgError> {
        let s = self.rest;
        if s.is_empty() {
            return Ok(None);
        }
        if let Some(inner) = s.strip_prefix('"') {
            let end = inner.find('"').ok_or(ArgError::UnclosedQuote)?;
            self.rest = inner[end + 1..].trim_start();
            return Ok(Some(&inner[..end]));
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        self.rest = s[end..].trim_start();
        Ok(Some(&s[..end]))
    }

    /// Resolves an @-mention word to a user ID: the word itself if it names a mentioned ID,
    /// else the next mentioned user in order.
    pub fn resolve_mention(&mut self, word: &'a str) -> &'a str {
        let name = word.strip_prefix('@').unwrap_or(word);
        if let Some(pos) = self.mentions.iter().position(|m| *m == name) {
            self.next_mention = self.next_mention.max(pos + 1);
            return self.mentions[pos];
        }
        if word.starts_with('@') {
            while self.next_mention < self.mentions.len() {
                let id = self.mentions[self.next_mention];
                self.next_mention += 1;
                if Some(id) != self.me {
                    return id;
                }
            }
        }
        name
    }

    /// Fails with [`ArgError::TooMany`] if words are left.
    pub fn finish_check(&self) -> Result<(), ArgError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ArgError::TooMany {
                extra: self.rest.to_string(),
            })
        }
    }
}

/// A type that can be parsed from command words or a regex capture.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a command or regex argument",
    label = "this parameter type is not parsed from text",
    note = "use String, an integer, f64, bool, Duration, Mention, Rest or Option<T>, or implement `openim_bot::runtime::FromArg` for it",
    note = "only `&Context` and `&Message` are passed in without parsing"
)]
pub trait FromArg: Sized {
    /// What the argument looks like, for error messages ("an integer").
    const EXPECTED: &'static str;

    /// Parses the argument from the next word(s).
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError>;

    /// Parses the argument from a regex capture (`None` = the group did not participate).
    /// The default parses the capture as words and requires all of it to be used.
    fn from_capture(text: Option<&str>, message: &Message) -> Result<Self, ArgError> {
        let text = text.ok_or(ArgError::Missing {
            expected: Self::EXPECTED,
        })?;
        let mut args = Args::new(text, message);
        let value = Self::from_args(&mut args)?;
        args.finish_check()?;
        Ok(value)
    }
}

fn required<'a>(args: &mut Args<'a>, expected: &'static str) -> Result<&'a str, ArgError> {
    args.next_word()?.ok_or(ArgError::Missing { expected })
}

impl FromArg for String {
    const EXPECTED: &'static str = "a word";
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
        required(args, Self::EXPECTED).map(str::to_string)
    }
    fn from_capture(text: Option<&str>, _: &Message) -> Result<Self, ArgError> {
        text.map(str::to_string).ok_or(ArgError::Missing {
            expected: Self::EXPECTED,
        })
    }
}

macro_rules! from_str_args {
    ($expected:literal: $($t:ty),*) => {$(
        impl FromArg for $t {
            const EXPECTED: &'static str = $expected;
            fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
                let word = required(args, Self::EXPECTED)?;
                <$t as FromStr>::from_str(word).map_err(|_| ArgError::Invalid {
                    value: word.to_string(),
                    expected: Self::EXPECTED,
                })
            }
        }
    )*};
}
from_str_args!("an integer": i8, i16, i32, i64, i128, isize);
from_str_args!("a non-negative integer": u8, u16, u32, u64, u128, usize);
from_str_args!("a number": f32, f64);

impl FromArg for bool {
    const EXPECTED: &'static str = "yes or no";
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = required(args, Self::EXPECTED)?;
        match word.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Ok(true),
            "false" | "no" | "n" | "off" | "0" => Ok(false),
            _ => Err(ArgError::Invalid {
                value: word.to_string(),
                expected: Self::EXPECTED,
            }),
        }
    }
}

/// Parses `10m`, `1h30m`, `1h 30m`, `45s`, `2d`, `500ms` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    humantime::parse_duration(text).ok()
}

impl FromArg for Duration {
    const EXPECTED: &'static str = "a duration such as 10m, 1h30m or 45s";
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = required(args, Self::EXPECTED)?;
        parse_duration(word).ok_or_else(|| ArgError::Invalid {
            value: word.to_string(),
            expected: Self::EXPECTED,
        })
    }
}

/// A mentioned user: `@alice` in the text (resolved through the message's mention list to the
/// user ID) or a bare user ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mention(pub String);

impl Mention {
    /// The user ID.
    pub fn user_id(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromArg for Mention {
    const EXPECTED: &'static str = "a user (@-mention or user ID)";
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = required(args, Self::EXPECTED)?;
        let id = args.resolve_mention(word);
        if id.is_empty() {
            return Err(ArgError::Invalid {
                value: word.to_string(),
                expected: Self::EXPECTED,
            });
        }
        Ok(Mention(id.to_string()))
    }
}

/// The rest of the line (trimmed, possibly empty). Must be the last parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Rest(pub String);

impl Rest {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for Rest {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl FromArg for Rest {
    const EXPECTED: &'static str = "text";
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
        Ok(Rest(args.take_rest().to_string()))
    }
    fn from_capture(text: Option<&str>, _: &Message) -> Result<Self, ArgError> {
        Ok(Rest(text.unwrap_or("").to_string()))
    }
}

impl<T: FromArg> FromArg for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_args(args: &mut Args<'_>) -> Result<Self, ArgError> {
        if args.is_empty() {
            Ok(None)
        } else {
            T::from_args(args).map(Some)
        }
    }
    fn from_capture(text: Option<&str>, message: &Message) -> Result<Self, ArgError> {
        match text {
            None => Ok(None),
            Some(t) => T::from_capture(Some(t), message).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Args<'_> {
        Args::with_mentions(text, vec!["u_alice", "u_bob"])
    }

    #[test]
    fn words_numbers_and_quotes() {
        let mut a = args(r#"  42 "two words" -7 rest of line "#);
        assert_eq!(u32::from_args(&mut a), Ok(42));
        assert_eq!(String::from_args(&mut a).as_deref(), Ok("two words"));
        assert_eq!(i64::from_args(&mut a), Ok(-7));
        assert_eq!(Rest::from_args(&mut a), Ok(Rest("rest of line".into())));
        assert!(a.is_empty());
        assert_eq!(Option::<i64>::from_args(&mut a), Ok(None));
        assert_eq!(Rest::from_args(&mut a), Ok(Rest(String::new())));
    }

    #[test]
    fn errors_are_specific() {
        let mut a = args("abc");
        assert_eq!(
            i64::from_args(&mut a),
            Err(ArgError::Invalid {
                value: "abc".into(),
                expected: "an integer"
            })
        );
        let mut a = args("");
        assert!(matches!(
            u8::from_args(&mut a),
            Err(ArgError::Missing { .. })
        ));
        let mut a = args("\"open");
        assert_eq!(String::from_args(&mut a), Err(ArgError::UnclosedQuote));
        let mut a = args("1 2");
        u8::from_args(&mut a).unwrap();
        assert_eq!(
            a.finish_check(),
            Err(ArgError::TooMany { extra: "2".into() })
        );
        let mut a = args("300");
        assert!(matches!(
            u8::from_args(&mut a),
            Err(ArgError::Invalid { .. })
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("soon"), None);
        let mut a = args("10x");
        assert!(matches!(
            Duration::from_args(&mut a),
            Err(ArgError::Invalid { .. })
        ));
    }

    #[test]
    fn mentions_resolve_to_user_ids() {
        let mut a = args("@Alice @u_bob plain_id");
        assert_eq!(Mention::from_args(&mut a), Ok(Mention("u_alice".into())));
        assert_eq!(Mention::from_args(&mut a), Ok(Mention("u_bob".into())));
        assert_eq!(Mention::from_args(&mut a), Ok(Mention("plain_id".into())));
    }

    #[test]
    fn bools() {
        let mut a = args("yes off");
        assert_eq!(bool::from_args(&mut a), Ok(true));
        assert_eq!(bool::from_args(&mut a), Ok(false));
    }
}

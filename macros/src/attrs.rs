//! Parsing of the route attributes (`#[command(..)]`, `#[regex(..)]`, …) and of `#[handler(..)]`.

use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitStr, Token, bracketed, parenthesized};

/// Names of the attributes this macro understands on methods.
pub const ROUTE_ATTRS: &[&str] = &[
    "command",
    "regex",
    "contains",
    "starts_with",
    "equals",
    "mentions_me",
    "on",
    "on_error",
];

/// One `key`, `key = value`, `key(values…)` or positional string inside an attribute.
pub enum Item {
    /// A positional string literal (the pattern of a matcher).
    Positional(LitStr),
    /// `key`
    Flag(Ident),
    /// `key = "value"` or `key = true`
    Value(Ident, Value),
    /// `key("a", "b")` or `key = ["a", "b"]`
    List(Ident, Vec<LitStr>),
}

/// The right-hand side of `key = value`.
pub enum Value {
    Str(LitStr),
    Bool(LitBool),
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Item::Positional(input.parse()?));
        }
        let key = Ident::parse_any(input).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected an option name (e.g. `group_only`, `name = \"…\"`) or a string literal",
            )
        })?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if input.peek(syn::token::Bracket) {
                let content;
                bracketed!(content in input);
                let list = content.parse_terminated(<LitStr as Parse>::parse, Token![,])?;
                return Ok(Item::List(key, list.into_iter().collect()));
            }
            if input.peek(LitBool) {
                return Ok(Item::Value(key, Value::Bool(input.parse()?)));
            }
            let lit: LitStr = input.parse().map_err(|e| {
                syn::Error::new(e.span(), format!("`{key}` expects a string literal value"))
            })?;
            return Ok(Item::Value(key, Value::Str(lit)));
        }
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            let list = content.parse_terminated(<LitStr as Parse>::parse, Token![,])?;
            return Ok(Item::List(key, list.into_iter().collect()));
        }
        Ok(Item::Flag(key))
    }
}

/// Parses the comma separated items of one attribute.
pub fn parse_items(input: ParseStream) -> syn::Result<Vec<Item>> {
    let list = input.parse_terminated(Item::parse, Token![,])?;
    Ok(list.into_iter().collect())
}

/// Sender role required by `role = "…"`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Owner,
}

/// Filters and policy shared by every message route.
#[derive(Default)]
pub struct Policy {
    pub group_only: bool,
    pub private_only: bool,
    pub role: Option<Role>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub cooldown_ms: Option<u64>,
    pub allow_self: bool,
}

/// The kind of message matcher.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MatcherKind {
    Regex,
    Contains,
    StartsWith,
    Equals,
    MentionsMe,
}

impl MatcherKind {
    pub fn attr_name(self) -> &'static str {
        match self {
            MatcherKind::Regex => "regex",
            MatcherKind::Contains => "contains",
            MatcherKind::StartsWith => "starts_with",
            MatcherKind::Equals => "equals",
            MatcherKind::MentionsMe => "mentions_me",
        }
    }
}

/// A parsed `#[command(..)]`.
pub struct CommandAttr {
    pub name: Option<String>,
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub hidden: bool,
    pub policy: Policy,
}

/// A parsed matcher attribute.
pub struct MatcherAttr {
    pub kind: MatcherKind,
    pub patterns: Vec<LitStr>,
    pub ignore_case: bool,
    pub policy: Policy,
}

const POLICY_KEYS: &str = "group_only, private_only, role = \"admin\"|\"owner\", users(..), groups(..), cooldown = \"10s\", allow_self";

fn string_value(key: &Ident, value: Value) -> syn::Result<LitStr> {
    match value {
        Value::Str(s) => Ok(s),
        Value::Bool(b) => Err(syn::Error::new(
            b.span,
            format!("`{key}` expects a string literal"),
        )),
    }
}

/// Applies a policy item; returns `Ok(false)` when the key is not a policy key.
fn apply_policy(policy: &mut Policy, item: &Item) -> syn::Result<bool> {
    match item {
        Item::Flag(k) if k == "group_only" => policy.group_only = true,
        Item::Flag(k) if k == "private_only" => policy.private_only = true,
        Item::Flag(k) if k == "allow_self" => policy.allow_self = true,
        Item::Value(k, Value::Str(s)) if k == "role" => {
            policy.role = Some(match s.value().as_str() {
                "admin" => Role::Admin,
                "owner" => Role::Owner,
                other => {
                    return Err(syn::Error::new(
                        s.span(),
                        format!(
                            "unknown role `{other}`: expected \"admin\" (owner or admin) or \"owner\""
                        ),
                    ));
                }
            })
        }
        Item::Value(k, Value::Str(s)) if k == "cooldown" => {
            let ms = parse_duration_ms(&s.value()).ok_or_else(|| {
                syn::Error::new(
                    s.span(),
                    format!(
                        "invalid cooldown `{}`: expected a duration such as \"500ms\", \"10s\", \"5m\", \"1h30m\"",
                        s.value()
                    ),
                )
            })?;
            policy.cooldown_ms = Some(ms);
        }
        Item::List(k, list) if k == "users" => policy.users.extend(list.iter().map(LitStr::value)),
        Item::List(k, list) if k == "groups" => {
            policy.groups.extend(list.iter().map(LitStr::value))
        }
        Item::Value(k, Value::Str(s)) if k == "users" || k == "groups" => {
            return Err(syn::Error::new(
                s.span(),
                format!("`{k}` takes a list: `{k}(\"id1\", \"id2\")`"),
            ));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn check_policy(policy: &Policy, whole: &dyn ToTokens) -> syn::Result<()> {
    if policy.group_only && policy.private_only {
        return Err(syn::Error::new_spanned(
            whole,
            "`group_only` and `private_only` exclude each other",
        ));
    }
    if policy.role.is_some() && policy.private_only {
        return Err(syn::Error::new_spanned(
            whole,
            "`role` checks the sender's role in a group and cannot be combined with `private_only`",
        ));
    }
    Ok(())
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Positional(s) => s.span(),
        Item::Flag(k) | Item::Value(k, _) | Item::List(k, _) => k.span(),
    }
}

fn item_key(item: &Item) -> String {
    match item {
        Item::Positional(_) => "a string literal".into(),
        Item::Flag(k) | Item::Value(k, _) | Item::List(k, _) => format!("`{k}`"),
    }
}

/// Parses `#[command(..)]` arguments.
pub fn parse_command(items: Vec<Item>, whole: &dyn ToTokens) -> syn::Result<CommandAttr> {
    let mut attr = CommandAttr {
        name: None,
        aliases: Vec::new(),
        description: None,
        hidden: false,
        policy: Policy::default(),
    };
    for item in items {
        if apply_policy(&mut attr.policy, &item)? {
            continue;
        }
        match item {
            Item::Positional(s) => attr.name = Some(valid_command_name(&s)?),
            Item::Value(k, v) if k == "name" => {
                attr.name = Some(valid_command_name(&string_value(&k, v)?)?)
            }
            Item::Value(k, v) if k == "description" => {
                attr.description = Some(string_value(&k, v)?.value())
            }
            Item::List(k, list) if k == "aliases" => {
                for s in &list {
                    attr.aliases.push(valid_command_name(s)?);
                }
            }
            Item::Flag(k) if k == "hidden" => attr.hidden = true,
            other => {
                return Err(syn::Error::new(
                    item_span(&other),
                    format!(
                        "unknown option {} for #[command]; expected one of: name = \"…\", aliases(\"…\"), description = \"…\", hidden, {POLICY_KEYS}",
                        item_key(&other)
                    ),
                ));
            }
        }
    }
    check_policy(&attr.policy, whole)?;
    Ok(attr)
}

fn valid_command_name(s: &LitStr) -> syn::Result<String> {
    let v = s.value();
    if v.is_empty() || v.chars().any(char::is_whitespace) {
        return Err(syn::Error::new(
            s.span(),
            "a command name must be non-empty and contain no whitespace",
        ));
    }
    Ok(v)
}

/// Parses the arguments of a matcher attribute.
pub fn parse_matcher(
    kind: MatcherKind,
    items: Vec<Item>,
    whole: &dyn ToTokens,
) -> syn::Result<MatcherAttr> {
    let mut attr = MatcherAttr {
        kind,
        patterns: Vec::new(),
        ignore_case: false,
        policy: Policy::default(),
    };
    for item in items {
        if apply_policy(&mut attr.policy, &item)? {
            continue;
        }
        match item {
            Item::Positional(s) if kind != MatcherKind::MentionsMe => attr.patterns.push(s),
            Item::Flag(k) if k == "ignore_case" && kind != MatcherKind::MentionsMe => {
                attr.ignore_case = true
            }
            other => {
                let expected = if kind == MatcherKind::MentionsMe {
                    POLICY_KEYS.to_string()
                } else {
                    format!("a pattern string, ignore_case, {POLICY_KEYS}")
                };
                return Err(syn::Error::new(
                    item_span(&other),
                    format!(
                        "unknown option {} for #[{}]; expected: {expected}",
                        item_key(&other),
                        kind.attr_name()
                    ),
                ));
            }
        }
    }
    if kind != MatcherKind::MentionsMe && attr.patterns.is_empty() {
        return Err(syn::Error::new_spanned(
            whole,
            format!(
                "#[{}] needs at least one pattern string, e.g. #[{}(\"hello\")]",
                kind.attr_name(),
                kind.attr_name()
            ),
        ));
    }
    if kind == MatcherKind::Regex && attr.patterns.len() != 1 {
        return Err(syn::Error::new_spanned(
            whole,
            "#[regex] takes exactly one pattern (use alternation `a|b` for several)",
        ));
    }
    check_policy(&attr.policy, whole)?;
    Ok(attr)
}

/// Options of `#[handler(..)]` on the impl block.
pub struct HandlerAttr {
    pub prefix: String,
    pub name: Option<String>,
}

/// Parses `#[handler(prefix = "/", name = "…")]`.
pub fn parse_handler(items: Vec<Item>) -> syn::Result<HandlerAttr> {
    let mut attr = HandlerAttr {
        prefix: "/".into(),
        name: None,
    };
    for item in items {
        match item {
            Item::Value(k, v) if k == "prefix" => {
                let s = string_value(&k, v)?;
                if s.value().is_empty() || s.value().chars().any(char::is_whitespace) {
                    return Err(syn::Error::new(
                        s.span(),
                        "the command prefix must be non-empty and contain no whitespace",
                    ));
                }
                attr.prefix = s.value();
            }
            Item::Value(k, v) if k == "name" => attr.name = Some(string_value(&k, v)?.value()),
            other => {
                return Err(syn::Error::new(
                    item_span(&other),
                    format!(
                        "unknown option {} for #[handler]; expected: prefix = \"/\", name = \"…\"",
                        item_key(&other)
                    ),
                ));
            }
        }
    }
    Ok(attr)
}

/// Parses a duration such as `500ms`, `10s`, `5m`, `1h30m`, `2d` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let factor = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hrs" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(factor)?)?;
    }
    Some(total)
}

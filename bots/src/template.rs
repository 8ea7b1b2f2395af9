//! Reply templates: `Hello {nickname}, you said {1}` with `{{`/`}}` as literal braces.
//!
//! Templates are parsed once (when the configuration is loaded) so an unknown placeholder or an
//! unbalanced brace is a configuration error, never a surprise at reply time.

use std::collections::HashMap;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
}

/// Why a template failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{` without its closing `}`.
    #[error("unclosed `{{` at byte {0}")]
    Unclosed(usize),
    /// A `}` that closes nothing (write `}}` for a literal brace).
    #[error("stray `}}` at byte {0} (write `}}}}` for a literal brace)")]
    StrayClose(usize),
    /// A placeholder this template cannot fill.
    #[error("unknown placeholder `{{{name}}}`; known: {known}")]
    UnknownPlaceholder {
        /// The placeholder name.
        name: String,
        /// The names that are allowed here.
        known: String,
    },
}

impl Template {
    /// Parses `source`, accepting only placeholders for which `allowed` returns true.
    pub fn parse(
        source: &str,
        allowed: impl Fn(&str) -> bool,
        known_desc: &str,
    ) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let bytes = source.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    lit.push('{');
                    i += 2;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    lit.push('}');
                    i += 2;
                }
                b'{' => {
                    let end = source[i + 1..]
                        .find('}')
                        .ok_or(TemplateError::Unclosed(i))?;
                    let name = source[i + 1..i + 1 + end].trim();
                    if !allowed(name) {
                        return Err(TemplateError::UnknownPlaceholder {
                            name: name.to_owned(),
                            known: known_desc.to_owned(),
                        });
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(name.to_owned()));
                    i += end + 2;
                }
                b'}' => return Err(TemplateError::StrayClose(i)),
                _ => {
                    // Copy one whole UTF-8 character.
                    let ch = source[i..].chars().next().unwrap_or_default();
                    lit.push(ch);
                    i += ch.len_utf8().max(1);
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Literal(lit));
        }
        Ok(Self { parts })
    }

    /// Fills the template; a placeholder without a value renders as the empty string.
    pub fn render(&self, vars: &HashMap<String, String>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Var(name) => {
                    if let Some(v) = vars.get(name) {
                        out.push_str(v)
                    }
                }
            }
        }
        out
    }

    /// Placeholder names used by this template.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }
}

/// Builds a variable map from pairs.
pub fn vars<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> HashMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(names: &'static [&'static str]) -> impl Fn(&str) -> bool {
        move |n| names.contains(&n)
    }

    #[test]
    fn renders_placeholders_and_escapes() {
        let t = Template::parse(
            "Hi {nickname}! {{literal}} é {1}",
            only(&["nickname", "1"]),
            "",
        )
        .unwrap();
        let out = t.render(&vars([("nickname", "Ann"), ("1", "x")]));
        assert_eq!(out, "Hi Ann! {literal} é x");
        assert_eq!(t.placeholders().collect::<Vec<_>>(), ["nickname", "1"]);
    }

    #[test]
    fn rejects_unknown_and_unbalanced() {
        let e = Template::parse("Hi {nick}", only(&["nickname"]), "nickname").unwrap_err();
        assert!(e.to_string().contains("{nick}"), "{e}");
        assert_eq!(
            Template::parse("Hi {x", only(&["x"]), "").unwrap_err(),
            TemplateError::Unclosed(3)
        );
        assert_eq!(
            Template::parse("a}b", only(&[]), "").unwrap_err(),
            TemplateError::StrayClose(1)
        );
    }

    #[test]
    fn missing_value_renders_empty() {
        let t = Template::parse("[{a}]", only(&["a"]), "").unwrap();
        assert_eq!(t.render(&HashMap::new()), "[]");
    }
}

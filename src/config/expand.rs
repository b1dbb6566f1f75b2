//! `${VAR}` and `${VAR:-default}` in the config text, expanded before YAML sees it.

#[derive(Debug, PartialEq, Eq)]
pub(super) enum ExpandError {
    Unset { line: usize, name: String },
    Malformed { line: usize, message: String },
}

/// Expands `${VAR}` and `${VAR:-default}` in raw config text, before YAML parsing, so that
/// every value (and every type: numbers, durations, lists) can come from the environment.
///
/// - `${VAR:-default}` uses `default` when `VAR` is unset or empty, as a POSIX shell does.
///   The default runs to the first `}`, so it cannot itself contain `}` or nest `${...}`.
/// - `$${` writes a literal `${`.
/// - Comments are copied untouched: a commented-out line must not fail on an unset variable.
///   A comment starts at a `#` that begins the line or follows whitespace, outside quotes.
/// - Values are pasted as text: a value holding YAML syntax (`: `, ` #`, a leading `*` or
///   `{`, a newline) should be quoted in the config, e.g. `url: "${URL}"`.
pub(super) fn expand_env(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split_inclusive('\n').enumerate() {
        expand_line(line, index + 1, lookup, &mut out)?;
    }
    Ok(out)
}

fn expand_line(
    line: &str,
    line_number: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), ExpandError> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut quote = Quote::None;
    // The character before the current one, to tell a comment `#` and an opening quote from
    // the same characters inside a plain value (`a#b`, `it's`).
    let mut previous: Option<char> = None;
    let mut escaped = false;
    let mut rest = line;

    while let Some(c) = rest.chars().next() {
        let starts_token = previous.is_none_or(|p| p.is_whitespace() || "[{,:-".contains(p));
        match (c, &quote) {
            ('#', Quote::None) if previous.is_none_or(char::is_whitespace) => {
                out.push_str(rest);
                return Ok(());
            }
            ('\'', Quote::None) if starts_token => quote = Quote::Single,
            ('"', Quote::None) if starts_token => quote = Quote::Double,
            ('\'', Quote::Single) => quote = Quote::None,
            ('"', Quote::Double) if !escaped => quote = Quote::None,
            ('$', _) if rest.starts_with("$${") => {
                out.push_str("${");
                rest = &rest[3..];
                previous = Some('{');
                escaped = false;
                continue;
            }
            ('$', _) if rest.starts_with("${") => {
                let consumed = expand_reference(rest, line_number, lookup, out)?;
                rest = &rest[consumed..];
                previous = Some('}');
                escaped = false;
                continue;
            }
            _ => {}
        }
        escaped = quote == Quote::Double && c == '\\' && !escaped;
        out.push(c);
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(())
}

/// Expands the `${...}` at the start of `text` into `out` and returns how many bytes it took.
fn expand_reference(
    text: &str,
    line: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<usize, ExpandError> {
    let body_and_rest = &text[2..];
    let Some(end) = body_and_rest.find('}') else {
        let shown = text.trim_end();
        return Err(ExpandError::Malformed {
            line,
            message: format!(
                "`{shown}` has no closing `}}`; write `${{VAR}}` or `$${{` for a literal `${{`"
            ),
        });
    };
    let body = &body_and_rest[..end];
    let (name, default) = match body.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (body, None),
    };
    if !is_env_name(name) {
        return Err(ExpandError::Malformed {
            line,
            message: format!(
                "`${{{body}}}`: `{name}` is not a variable name (letters, digits and `_`, not \
                 starting with a digit); write `$${{` for a literal `${{`"
            ),
        });
    }
    let value = match (lookup(name), default) {
        (Some(value), Some(default)) if value.is_empty() => default.to_string(),
        (Some(value), _) => value,
        (None, Some(default)) => default.to_string(),
        (None, None) => {
            return Err(ExpandError::Unset {
                line,
                name: name.to_string(),
            })
        }
    };
    out.push_str(&value);
    Ok(2 + end + 1)
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

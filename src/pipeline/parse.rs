//! Parse: operation text ▶ syntax tree, within a token count and a nesting depth, so that a
//! huge or deeply nested document is refused while it is read instead of after.

use apollo_compiler::ast;
use apollo_compiler::parser::Parser;

use super::diagnostics;
use crate::response::GraphqlError;

/// The parser's bounds (`limits.max_tokens`, `limits.max_parser_recursion`).
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub max_tokens: usize,
    pub max_recursion: usize,
}

pub(super) fn parse(query: &str, limits: ParseLimits) -> Result<ast::Document, Vec<GraphqlError>> {
    Parser::new()
        .token_limit(limits.max_tokens)
        .recursion_limit(limits.max_recursion)
        .parse_ast(query, "query.graphql")
        .map_err(|e| {
            // The parser reports its limits as diagnostics, after the syntax errors it met
            // before the cut-off (noise then); one error with a code of its own says it all,
            // so a client can tell "too big" from "malformed".
            for diagnostic in e.errors.iter() {
                let message = diagnostic.error.to_string();
                // The parser's own wording, never prefixed: a syntax error quoting the client's
                // text (`got "token limit"`) must not pass for one.
                if message.starts_with("token limit") {
                    return vec![GraphqlError::new(
                        format!(
                            "the document exceeds the token limit of {}",
                            limits.max_tokens
                        ),
                        "MAX_TOKENS_LIMIT",
                    )];
                }
                if message.starts_with("parser recursion limit") {
                    return vec![GraphqlError::new(
                        format!(
                            "the document nests deeper than the parser's recursion limit of {}",
                            limits.max_recursion
                        ),
                        "MAX_PARSER_RECURSION_LIMIT",
                    )];
                }
            }
            diagnostics(&e.errors, "GRAPHQL_PARSE_FAILED")
        })
}

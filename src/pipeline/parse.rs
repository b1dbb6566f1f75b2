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
            let mut errors = diagnostics(&e.errors, "GRAPHQL_PARSE_FAILED");
            // The parser reports its limits as diagnostics; they get codes of their own so a
            // client can tell "too big" from "malformed".
            for error in &mut errors {
                let refusal = if error.message.contains("token limit") {
                    Some((
                        "MAX_TOKENS_LIMIT",
                        format!(
                            "the document exceeds the token limit of {}",
                            limits.max_tokens
                        ),
                    ))
                } else if error.message.contains("recursion limit") {
                    Some((
                        "MAX_PARSER_RECURSION_LIMIT",
                        format!(
                            "the document nests deeper than the parser's recursion limit of {}",
                            limits.max_recursion
                        ),
                    ))
                } else {
                    None
                };
                if let Some((code, message)) = refusal {
                    *error = GraphqlError::new(message, code);
                }
            }
            // One limit error says it all; the syntax errors after the cut-off are noise.
            if let Some(limit) = errors
                .iter()
                .find(|e| e.code().is_some_and(|c| c.starts_with("MAX_")))
            {
                return vec![limit.clone()];
            }
            errors
        })
}

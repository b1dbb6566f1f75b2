//! What logs may show of a URL: a subgraph's, a JWKS's or a collector's URL can carry a user
//! and password (`http://user:secret@host`) or a token in its query, and log lines travel further
//! than the config file.

/// `text` without the user, password and query of the URL it holds; text that does not parse
/// as a URL loses everything between `://` and `@`, and after `?`.
pub fn loggable_url(text: &str) -> String {
    match reqwest::Url::parse(text) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            if url.query().is_some() {
                url.set_query(Some("hidden"));
            }
            url.to_string()
        }
        Err(_) => {
            let mut shown = text.split('?').next().unwrap_or_default().to_owned();
            if let (Some(scheme), Some(at)) = (shown.find("://"), shown.rfind('@')) {
                if at > scheme {
                    shown.replace_range(scheme + 3..=at, "");
                }
            }
            shown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_url;

    #[test]
    fn credentials_and_queries_are_left_out() {
        assert_eq!(
            loggable_url("http://admin:hunter2@127.0.0.1:4929/graphql?token=tok-abc"),
            "http://127.0.0.1:4929/graphql?hidden"
        );
        assert_eq!(
            loggable_url("https://user@idp.test/.well-known/jwks.json"),
            "https://idp.test/.well-known/jwks.json"
        );
        assert_eq!(
            loggable_url("http://subgraph:4001/graphql"),
            "http://subgraph:4001/graphql"
        );
        assert_eq!(loggable_url("not a url://a:b@c?d=e"), "not a url://c");
    }
}

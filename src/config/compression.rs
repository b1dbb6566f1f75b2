//! The `compression:` section: HTTP content coding between clients and Seam.
//!
//! A federated response is often tens of kilobytes of repetitive JSON that gzip or brotli cuts
//! to a tenth, and browsers, Apollo Client and most HTTP clients ask for that with
//! `Accept-Encoding`; Apollo Router, Hive Router and Cosmo compress by default, so Seam does too.
//! A deployment whose proxy compresses already turns it off here.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressionConfig {
    /// Compress a response with the client's preferred coding among `zstd`, `br`, `gzip` and
    /// `deflate`, when its `Accept-Encoding` allows one. Streams (SSE, multipart) never are: a
    /// compressor holds bytes back, and an event must reach the client at once.
    #[serde(default = "on")]
    pub responses: bool,
    /// Responses smaller than this go out as they are: compressing them saves less than the
    /// work costs.
    #[serde(default = "default_min_response_bytes")]
    pub min_response_bytes: u16,
    /// Accept request bodies sent with `Content-Encoding` `gzip`, `br`, `zstd` or `deflate`.
    /// `limits.max_body_bytes` bounds the body after decompression, so a small compressed body
    /// cannot expand into a large one.
    #[serde(default = "on")]
    pub requests: bool,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        Self {
            responses: true,
            min_response_bytes: default_min_response_bytes(),
            requests: true,
        }
    }
}

fn on() -> bool {
    true
}

fn default_min_response_bytes() -> u16 {
    1024
}

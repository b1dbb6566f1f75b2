//! The HTTP client OTLP/HTTP exports are sent with: Seam's reqwest (rustls, as for subgraphs),
//! so an `https://` collector works, with the web's public roots and, for a private CA, the
//! certificates of `telemetry.ca_file`.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

/// A collector's answer is a small protobuf message; anything larger is not one.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(super) struct OtlpHttpClient {
    client: reqwest::Client,
    /// The export headers as Seam resolved them (a key in the file wins over its variable):
    /// set on every request, over what the exporter read from `OTEL_EXPORTER_OTLP_HEADERS`
    /// itself, where the variable would win.
    headers: reqwest::header::HeaderMap,
}

impl OtlpHttpClient {
    /// A client whose every export ends after `timeout`, trusting the certificates in
    /// `ca_file` beside the built-in roots.
    pub(super) fn new(
        timeout: Duration,
        ca_file: Option<&Path>,
        headers: reqwest::header::HeaderMap,
    ) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder().use_rustls_tls().timeout(timeout);
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("the CA file {} is not PEM: {e}", path.display()))?;
            if certificates.is_empty() {
                return Err(format!(
                    "the CA file {} holds no certificate",
                    path.display()
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        builder
            .build()
            .map(|client| OtlpHttpClient { client, headers })
            .map_err(|e| format!("the HTTP client cannot be built: {e}"))
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (mut parts, body) = request.into_parts();
        for (name, value) in &self.headers {
            parts.headers.insert(name, value.clone());
        }
        let mut response = self
            .client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err("the collector's answer is larger than 4 MiB".into());
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = Response::builder().status(status).body(body.freeze())?;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

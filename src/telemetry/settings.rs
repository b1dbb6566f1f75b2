//! What telemetry runs with: the config's `telemetry:` and `log:` sections laid over the standard
//! `OTEL_*` variables (and `SEAM_LOG_FORMAT`), so the same gateway exports traces whether it is
//! told by its file or by its platform, and a key in the file wins.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, LogFormat, OtlpProtocol, TelemetryConfig};

/// The service name spans carry when neither the config nor `OTEL_SERVICE_NAME` gives one.
pub const DEFAULT_SERVICE_NAME: &str = "seam";

/// Where and how traces are exported; present only when an endpoint is known.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSettings {
    /// The URL the exporter posts to: for HTTP, with `/v1/traces` already added.
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    pub headers: BTreeMap<String, String>,
    /// Extra CA certificates (PEM) for an `https://` endpoint; the web roots are always trusted.
    pub ca_file: Option<PathBuf>,
    pub service_name: String,
    pub resource: BTreeMap<String, String>,
    /// The share of new traces recorded.
    pub sampling_ratio: f64,
    pub schedule_delay: Duration,
    pub max_queue_size: usize,
    pub max_export_batch_size: usize,
    pub export_timeout: Duration,
}

/// Everything the telemetry module needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetrySettings {
    /// `None`: no exporter, and no span is recorded at all.
    pub export: Option<ExportSettings>,
    pub log_format: LogFormat,
    /// Problems with environment variables that were ignored, to log once logging is up.
    pub warnings: Vec<String>,
}

impl TelemetrySettings {
    /// From the config (if any) and the process environment.
    pub fn resolve(config: Option<&Config>) -> Self {
        Self::resolve_with(config, &|name| std::env::var(name).ok())
    }

    /// [`TelemetrySettings::resolve`] with the environment injectable, so tests need not change
    /// (or race over) the process's own.
    pub fn resolve_with(config: Option<&Config>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let default_section = TelemetryConfig::default();
        let section = config.map_or(&default_section, |c| &c.telemetry);
        let mut warnings = Vec::new();
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());

        let log_format = config
            .and_then(|c| c.log.format)
            .or_else(|| {
                let value = env("SEAM_LOG_FORMAT")?;
                let format = LogFormat::from_env_value(&value);
                if format.is_none() {
                    warnings.push(format!("SEAM_LOG_FORMAT={value}: expected text or json"));
                }
                format
            })
            .unwrap_or_default();

        let protocol = section
            .protocol
            .or_else(|| {
                let value = env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                    .or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"))?;
                let protocol = OtlpProtocol::from_env_value(&value);
                if protocol.is_none() {
                    warnings.push(format!(
                        "OTEL_EXPORTER_OTLP_PROTOCOL={value}: expected grpc or http/protobuf; \
                         using http/protobuf"
                    ));
                }
                protocol
            })
            .unwrap_or(OtlpProtocol::HttpProtobuf);

        // The per-signal variable is a full URL; the generic one and the config's key are the
        // collector's base, to which the HTTP exporter adds the signal's path (as the OTLP
        // specification says for the generic variable).
        let endpoint = match (&section.endpoint, env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
            (Some(base), _) => Some(signal_url(base, protocol)),
            (None, Some(full)) => Some(full),
            (None, None) => {
                env("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| signal_url(&base, protocol))
            }
        };
        let Some(endpoint) = endpoint else {
            return TelemetrySettings {
                export: None,
                log_format,
                warnings,
            };
        };

        let mut headers = env("OTEL_EXPORTER_OTLP_HEADERS")
            .map(|text| parse_pairs(&text))
            .unwrap_or_default();
        headers.extend(section.headers.clone());

        let ca_file = section.ca_file.clone().or_else(|| {
            env("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")
                .or_else(|| env("OTEL_EXPORTER_OTLP_CERTIFICATE"))
                .map(PathBuf::from)
        });

        let mut resource = env("OTEL_RESOURCE_ATTRIBUTES")
            .map(|text| parse_pairs(&text))
            .unwrap_or_default();
        resource.extend(section.resource.clone());
        let service_name = section
            .service_name
            .clone()
            .or_else(|| env("OTEL_SERVICE_NAME"))
            .or_else(|| resource.get("service.name").cloned())
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());

        let sampling_ratio = match section.sampling_ratio {
            Some(ratio) => ratio.0,
            None => sampler_from_env(
                env("OTEL_TRACES_SAMPLER"),
                env("OTEL_TRACES_SAMPLER_ARG"),
                &mut warnings,
            ),
        };

        let millis = |name: &str, warnings: &mut Vec<String>| {
            let value = env(name)?;
            match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Some(Duration::from_millis(ms)),
                _ => {
                    warnings.push(format!("{name}={value}: expected milliseconds above 0"));
                    None
                }
            }
        };
        let count = |name: &str, warnings: &mut Vec<String>| {
            let value = env(name)?;
            match value.trim().parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    warnings.push(format!("{name}={value}: expected a count above 0"));
                    None
                }
            }
        };
        let batch = &section.batch;
        let schedule_delay = batch
            .schedule_delay
            .or_else(|| millis("OTEL_BSP_SCHEDULE_DELAY", &mut warnings))
            .unwrap_or(Duration::from_secs(5));
        let export_timeout = batch
            .export_timeout
            .or_else(|| millis("OTEL_BSP_EXPORT_TIMEOUT", &mut warnings))
            .unwrap_or(Duration::from_secs(30));
        let max_queue_size = batch
            .max_queue_size
            .or_else(|| count("OTEL_BSP_MAX_QUEUE_SIZE", &mut warnings))
            .unwrap_or(2048);
        let max_export_batch_size = batch
            .max_export_batch_size
            .or_else(|| count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &mut warnings))
            .unwrap_or(512)
            .min(max_queue_size);

        TelemetrySettings {
            export: Some(ExportSettings {
                endpoint,
                protocol,
                headers,
                ca_file,
                service_name,
                resource,
                sampling_ratio,
                schedule_delay,
                max_queue_size,
                max_export_batch_size,
                export_timeout,
            }),
            log_format,
            warnings,
        }
    }
}

/// The traces URL for a collector's base URL: HTTP posts to `/v1/traces` under it; gRPC takes
/// the base as it is.
fn signal_url(base: &str, protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => base.to_owned(),
        OtlpProtocol::HttpProtobuf => {
            let base = base.trim_end_matches('/');
            if base.ends_with("/v1/traces") {
                base.to_owned()
            } else {
                format!("{base}/v1/traces")
            }
        }
    }
}

/// `key=value,key2=value2`, the form of `OTEL_EXPORTER_OTLP_HEADERS` and
/// `OTEL_RESOURCE_ATTRIBUTES`; values may be percent-encoded, which only `%20`-style escapes use
/// in practice, so those are decoded and anything else is kept as written.
fn parse_pairs(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            let key = key.trim();
            (!key.is_empty()).then(|| (key.to_owned(), percent_decode(value.trim())))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// The ratio the standard sampler variables ask for. Only the samplers a ratio can express are
/// understood; `parentbased_*` (the default) keeps a sampled parent's decision, which is what
/// Seam's sampler does for a trusted parent anyway.
fn sampler_from_env(
    sampler: Option<String>,
    argument: Option<String>,
    warnings: &mut Vec<String>,
) -> f64 {
    let mut ratio = || {
        let value = argument.as_deref()?;
        match value.trim().parse::<f64>() {
            Ok(ratio) if (0.0..=1.0).contains(&ratio) => Some(ratio),
            _ => {
                warnings.push(format!(
                    "OTEL_TRACES_SAMPLER_ARG={value}: expected a ratio between 0 and 1; using 1"
                ));
                None
            }
        }
    };
    match sampler.as_deref().map(str::trim) {
        None | Some("always_on" | "parentbased_always_on") => 1.0,
        Some("always_off" | "parentbased_always_off") => 0.0,
        Some("traceidratio" | "parentbased_traceidratio") => ratio().unwrap_or(1.0),
        Some(other) => {
            warnings.push(format!(
                "OTEL_TRACES_SAMPLER={other} is not supported; sampling every trace"
            ));
            1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    fn config(yaml: &str) -> Config {
        Config::from_yaml_str(yaml, std::path::Path::new(".")).unwrap()
    }

    #[test]
    fn without_an_endpoint_nothing_is_exported() {
        let settings = TelemetrySettings::resolve_with(None, &env(&[("OTEL_SERVICE_NAME", "x")]));
        assert_eq!(settings.export, None);
        assert_eq!(settings.log_format, LogFormat::Text);
    }

    #[test]
    fn the_environment_alone_configures_export() {
        let settings = TelemetrySettings::resolve_with(
            None,
            &env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
                ("OTEL_SERVICE_NAME", "edge"),
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
                ("OTEL_BSP_SCHEDULE_DELAY", "200"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret%20value,x=1"),
                ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod"),
                ("SEAM_LOG_FORMAT", "json"),
            ]),
        );
        let export = settings.export.unwrap();
        assert_eq!(export.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(export.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(export.service_name, "edge");
        assert_eq!(export.sampling_ratio, 0.25);
        assert_eq!(export.schedule_delay, Duration::from_millis(200));
        assert_eq!(export.headers["api-key"], "secret value");
        assert_eq!(export.resource["deployment.environment"], "prod");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }

    #[test]
    fn config_keys_win_over_the_environment() {
        let config = config(
            "supergraph: s.graphql\n\
             log: { format: text }\n\
             telemetry:\n  endpoint: http://mine:4317\n  protocol: grpc\n  service_name: gw\n  \
             sampling_ratio: 0.5\n  batch: { schedule_delay: 50ms }\n",
        );
        let settings = TelemetrySettings::resolve_with(
            Some(&config),
            &env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://theirs:4318"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_SERVICE_NAME", "env-name"),
                ("OTEL_TRACES_SAMPLER", "always_off"),
                ("OTEL_BSP_SCHEDULE_DELAY", "9000"),
                ("SEAM_LOG_FORMAT", "json"),
            ]),
        );
        let export = settings.export.unwrap();
        assert_eq!(export.endpoint, "http://mine:4317");
        assert_eq!(export.protocol, OtlpProtocol::Grpc);
        assert_eq!(export.service_name, "gw");
        assert_eq!(export.sampling_ratio, 0.5);
        assert_eq!(export.schedule_delay, Duration::from_millis(50));
        assert_eq!(settings.log_format, LogFormat::Text);
    }

    #[test]
    fn bad_variables_are_reported_and_ignored() {
        let settings = TelemetrySettings::resolve_with(
            None,
            &env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "2"),
                ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
            ]),
        );
        let export = settings.export.unwrap();
        assert_eq!(export.sampling_ratio, 1.0);
        assert_eq!(export.schedule_delay, Duration::from_secs(5));
        assert_eq!(settings.warnings.len(), 2, "{:?}", settings.warnings);
    }

    #[test]
    fn invalid_telemetry_keys_are_config_problems() {
        let error = Config::from_yaml_str(
            "supergraph: s.graphql\ntelemetry:\n  sampling_ratio: 1.5\n  endpoint: ftp://x\n",
            std::path::Path::new("."),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("telemetry.sampling_ratio"), "{error}");
        assert!(error.contains("telemetry.endpoint"), "{error}");
    }
}

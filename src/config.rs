//! The YAML config.

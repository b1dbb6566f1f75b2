//! Durations and listen addresses read more strictly and more helpfully than serde's own readers
//! would: durations as humantime text (`5s`, `250ms`), and a malformed value of either is refused
//! with a message that says what to write instead.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Deserializes a humantime duration (`5s`, `250ms`, `1m 30s`), refusing bare numbers because
/// their unit would be a guess.
pub(super) fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    Ok(Option::<HumanDuration>::deserialize(deserializer)?.map(|duration| duration.0))
}

/// A required humantime duration, as [`optional_duration`] reads one.
pub(super) fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    Ok(HumanDuration::deserialize(deserializer)?.0)
}

struct HumanDuration(Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HumanDurationVisitor)
    }
}

struct HumanDurationVisitor;

impl Visitor<'_> for HumanDurationVisitor {
    type Value = HumanDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `5s` or `250ms`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<HumanDuration, E> {
        humantime::parse_duration(value.trim())
            .map(HumanDuration)
            .map_err(|error| {
                E::custom(format!(
                    "`{value}` is not a duration ({error}); write e.g. `5s` or `250ms`"
                ))
            })
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<HumanDuration, E> {
        Err(E::custom(format!(
            "`{value}` has no unit; write e.g. `{value}s` or `{value}ms`"
        )))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<HumanDuration, E> {
        Err(E::custom(format!(
            "`{value}` is not a duration; write e.g. `5s` or `250ms`"
        )))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<HumanDuration, E> {
        Err(E::custom(format!(
            "`{value}` has no unit; write e.g. `{value}s`"
        )))
    }
}

/// Deserializes `listen` as an IP address and port. Host names are refused because binding
/// to one would hide which interface is used.
pub(super) fn listen_address<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    Ok(Option::<ListenAddress>::deserialize(deserializer)?.map(|address| address.0))
}

struct ListenAddress(SocketAddr);

impl<'de> Deserialize<'de> for ListenAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListenAddressVisitor)
    }
}

struct ListenAddressVisitor;

const LISTEN_EXAMPLE: &str = "write an IP address and port such as `0.0.0.0:4000`, \
                              `127.0.0.1:4000` or `[::]:4000`";

impl Visitor<'_> for ListenAddressVisitor {
    type Value = ListenAddress;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address such as `0.0.0.0:4000`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ListenAddress, E> {
        value.trim().parse().map(ListenAddress).map_err(|_| {
            E::custom(format!(
                "`{value}` is not a listen address; {LISTEN_EXAMPLE}"
            ))
        })
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ListenAddress, E> {
        Err(E::custom(format!(
            "`{value}` is a port without an address; write e.g. `0.0.0.0:{value}`"
        )))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ListenAddress, E> {
        Err(E::custom(format!(
            "`{value}` is not a listen address; {LISTEN_EXAMPLE}"
        )))
    }
}

//! `limits.cost`: demand control. Each operation's cost is estimated from the schema's `@cost`
//! and `@listSize` before any subgraph is called (`pipeline::cost`), and operations estimated
//! above `max` are refused.
//!
//! ```yaml
//! limits:
//!   cost:
//!     max: 5000        # refuse operations estimated above this; absent: no limit
//!     list_size: 10    # items assumed in a list without @listSize
//!     expose: false    # report the estimate in the response extensions
//! ```

use serde::Deserialize;

use super::ConfigProblem;

/// The `limits.cost` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// Operations whose estimated cost is above this are refused with
    /// `COST_ESTIMATED_TOO_EXPENSIVE`. Absent (the default), nothing is refused.
    #[serde(default)]
    pub max: Option<u64>,
    /// How many items a list field is assumed to return when the schema gives it no
    /// `@listSize`. Default 10.
    #[serde(default = "default_list_size")]
    pub list_size: u32,
    /// Whether responses report the estimate in `extensions` (`"cost.estimated"`, and
    /// `"cost.max"` when there is a maximum). Default `false`: the estimate tells clients how
    /// close they are to the limit, which not every deployment wants to share.
    #[serde(default)]
    pub expose: bool,
}

/// Large enough for a typical page of results, small enough that lists nested in lists still
/// add up to a cost worth limiting.
pub const DEFAULT_LIST_SIZE: u32 = 10;

fn default_list_size() -> u32 {
    DEFAULT_LIST_SIZE
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            max: None,
            list_size: DEFAULT_LIST_SIZE,
            expose: false,
        }
    }
}

impl CostConfig {
    /// Whether operations need an estimate at all: with no maximum and nothing to expose, the
    /// estimate would be thrown away.
    pub fn enabled(&self) -> bool {
        self.max.is_some() || self.expose
    }

    /// The rules the types cannot express. `at` is where the section sits in the file
    /// (`limits.cost`), so each problem names its full key.
    pub fn problems(&self, at: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.max == Some(0) {
            problems.push(ConfigProblem {
                key: format!("{at}.max"),
                message: "must be at least 1: every object a query selects costs 1, so 0 \
                          refuses nearly everything; leave it out to switch the limit off"
                    .into(),
            });
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<CostConfig, String> {
        serde_yaml_ng::from_str(yaml).map_err(|error| error.to_string())
    }

    #[test]
    fn every_key_has_a_default() {
        let config = parse("{}").expect("an empty section is valid");
        assert_eq!(config, CostConfig::default());
        assert_eq!(config.max, None);
        assert_eq!(config.list_size, 10);
        assert!(!config.expose);
        assert!(
            !config.enabled(),
            "no maximum and nothing exposed: no estimate"
        );
    }

    #[test]
    fn keys_are_read() {
        let config = parse("max: 5000\nlist_size: 25\nexpose: true").expect("valid");
        assert_eq!(
            config,
            CostConfig {
                max: Some(5000),
                list_size: 25,
                expose: true,
            }
        );
        assert!(config.enabled());
        assert!(config.problems("limits.cost").is_empty());
        assert!(parse("expose: true").expect("valid").enabled());
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        let unknown = parse("maximum: 10").expect_err("unknown key");
        assert!(unknown.contains("maximum"), "{unknown}");
        let negative = parse("max: -1").expect_err("negative max");
        assert!(negative.contains("max"), "{negative}");
        let fraction = parse("list_size: 2.5").expect_err("fractional list size");
        assert!(fraction.contains("list_size"), "{fraction}");
        let zero = parse("max: 0").expect("parses").problems("limits.cost");
        assert_eq!(zero.len(), 1);
        assert_eq!(zero[0].key, "limits.cost.max");
    }
}

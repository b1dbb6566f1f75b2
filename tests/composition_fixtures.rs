//! Every scenario under tests/fixtures/federation/ that Apollo's composition accepted (it wrote
//! `supergraph.apollo.graphql`) composes with Seam too: Seam's own checks, the satisfiability
//! check above all, must never refuse subgraphs Apollo accepts.

mod common;

use common::{compose_scenario, scenario_subgraphs};

#[test]
fn seam_composes_every_scenario_apollo_composed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/federation");
    let mut scenarios: Vec<_> = std::fs::read_dir(&root)
        .expect("list the scenarios")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|dir| dir.join("supergraph.apollo.graphql").is_file())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 10, "found only {scenarios:?}");
    for dir in scenarios {
        let subgraphs = scenario_subgraphs(&dir);
        let supergraph = std::panic::catch_unwind(|| compose_scenario(&dir, &subgraphs));
        assert!(
            supergraph.is_ok(),
            "Seam refuses {}, which Apollo composes",
            dir.display()
        );
    }
}

//! Labels that tell experiments apart in a comparison, a chart's legend or a report's
//! columns: `name:version`, with the space in front where two share a name and version, the
//! start of the uid where two runs share even that, and `[2]`, `[3]`, ... on a run given
//! again.

use std::collections::HashMap;

use opsml_types::ExperimentCard;

/// One label per card, in order, no two alike.
pub fn distinct_labels(cards: &[ExperimentCard]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut distinct_runs: Vec<&ExperimentCard> = Vec::new();
    let occurrence: Vec<usize> = cards
        .iter()
        .map(|card| {
            let count = seen.entry(card.uid.as_str()).or_default();
            *count += 1;
            if *count == 1 {
                distinct_runs.push(card);
            }
            *count
        })
        .collect();
    let runs: Vec<ExperimentCard> = distinct_runs.into_iter().cloned().collect();
    let run_labels: HashMap<&str, String> = runs
        .iter()
        .map(|c| c.uid.as_str())
        .zip(run_labels(&runs))
        .collect();
    cards
        .iter()
        .zip(occurrence)
        .map(|(card, n)| {
            let label = &run_labels[card.uid.as_str()];
            if n == 1 {
                label.clone()
            } else {
                format!("{label} [{n}]")
            }
        })
        .collect()
}

/// One label per card of distinct runs.
fn run_labels(cards: &[ExperimentCard]) -> Vec<String> {
    let short: Vec<String> = cards
        .iter()
        .map(|c| format!("{}:{}", c.name, c.version))
        .collect();
    let spaced: Vec<String> = cards
        .iter()
        .zip(&short)
        .map(|(c, label)| format!("{}/{label}", c.space))
        .collect();
    let short_counts = counts(&short);
    let spaced_counts = counts(&spaced);
    cards
        .iter()
        .enumerate()
        .map(|(i, card)| {
            if short_counts[short[i].as_str()] == 1 {
                short[i].clone()
            } else if spaced_counts[spaced[i].as_str()] == 1 {
                spaced[i].clone()
            } else {
                let uid_start: String = card.uid.chars().take(13).collect();
                format!("{} ({uid_start}…)", spaced[i])
            }
        })
        .collect()
}

fn counts(labels: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for label in labels {
        *counts.entry(label.as_str()).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(uid: &str, space: &str, name: &str, version: &str) -> ExperimentCard {
        ExperimentCard {
            uid: uid.into(),
            space: space.into(),
            name: name.into(),
            version: version.parse().unwrap(),
            tags: Vec::new(),
            status: opsml_types::Status::Completed,
            created_at: opsml_types::micros_to_datetime(0),
            ended_at: None,
            experimentcard_uids: Vec::new(),
            parent_uid: None,
            compute_environment: opsml_types::ComputeEnvironment::default(),
            opsml_version: String::new(),
            username: String::new(),
            metadata: opsml_types::ExperimentMetadata::default(),
        }
    }

    #[test]
    fn labels_grow_only_as_far_as_needed_to_differ() {
        let cards = [
            card(
                "0190aaaa-0000-7000-8000-000000000001",
                "vision",
                "resnet",
                "0.1.0",
            ),
            card(
                "0190aaaa-0000-7000-8000-000000000002",
                "audio",
                "resnet",
                "0.1.0",
            ),
            card(
                "0190aaaa-0000-7000-8000-000000000003",
                "vision",
                "resnet",
                "0.2.0",
            ),
            card(
                "0190bbbb-0000-7000-8000-000000000004",
                "audio",
                "resnet",
                "0.1.0",
            ),
        ];
        let labels = distinct_labels(&cards);
        assert_eq!(labels[0], "vision/resnet:0.1.0");
        assert_eq!(labels[2], "resnet:0.2.0");
        assert_eq!(labels[1], "audio/resnet:0.1.0 (0190aaaa-0000…)");
        assert_eq!(labels[3], "audio/resnet:0.1.0 (0190bbbb-0000…)");
        let unique: std::collections::HashSet<&String> = labels.iter().collect();
        assert_eq!(unique.len(), labels.len());
        let again = distinct_labels(&[cards[2].clone(), cards[0].clone(), cards[2].clone()]);
        assert_eq!(again, ["resnet:0.2.0", "resnet:0.1.0", "resnet:0.2.0 [2]"]);
    }
}

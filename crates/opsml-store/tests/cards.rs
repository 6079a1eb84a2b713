mod common;

use std::sync::{Arc, Barrier};

use chrono::{Duration, Utc};
use common::{create, new_experiment, temp_store};
use opsml_store::{CardQuery, SearchQuery, StoreError};
use opsml_types::{Status, Version};

#[test]
fn versions_start_at_0_1_0_and_bump_the_minor_per_space_and_name() {
    let (_dir, store) = temp_store();
    assert_eq!(create(&*store, "s", "a").version, Version::new(0, 1, 0));
    assert_eq!(create(&*store, "s", "a").version, Version::new(0, 2, 0));
    assert_eq!(create(&*store, "s", "b").version, Version::new(0, 1, 0));
    assert_eq!(create(&*store, "other", "a").version, Version::new(0, 1, 0));
    assert_eq!(create(&*store, "s", "a").version, Version::new(0, 3, 0));
}

#[test]
fn concurrent_starts_through_separate_connections_get_distinct_versions() {
    let (test_store, _store) = temp_store();
    let test_store = Arc::new(test_store);
    let workers = 8;
    let barrier = Arc::new(Barrier::new(workers));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let test_store = Arc::clone(&test_store);
            std::thread::spawn(move || {
                // A store of its own, as another process would have.
                let store = test_store.open_again();
                barrier.wait();
                store
                    .create_experiment(&new_experiment("race", "same-name"))
                    .unwrap()
                    .version
            })
        })
        .collect();
    let mut versions: Vec<Version> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    versions.sort();
    let expected: Vec<Version> = (1..=workers as u64)
        .map(|m| Version::new(0, m, 0))
        .collect();
    assert_eq!(versions, expected);
}

#[test]
fn a_burst_of_requests_from_many_threads_is_served_through_a_bounded_pool() {
    // More threads than the pool's connections: they wait for one instead of failing.
    let (_dir, store) = temp_store();
    let uid = create(&*store, "s", "busy").uid;
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            let uid = uid.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    assert!(store.get_experiment(&uid).unwrap().is_some());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn cards_round_trip_with_children_and_environment() {
    let (_dir, store) = temp_store();
    let parent = create(&*store, "s", "parent");
    let mut child_new = new_experiment("s", "child");
    child_new.parent_uid = Some(parent.uid.clone());
    let child = store.create_experiment(&child_new).unwrap();

    let loaded = store.get_experiment(&parent.uid).unwrap().unwrap();
    assert_eq!(loaded.experimentcard_uids, vec![child.uid.clone()]);
    assert_eq!(loaded.status, Status::Running);
    assert_eq!(loaded.compute_environment.cpu_count, 2);
    assert_eq!(loaded.tags, vec!["t1".to_owned()]);
    assert_eq!(loaded.created_at, parent.created_at);
    let loaded_child = store.get_experiment(&child.uid).unwrap().unwrap();
    assert_eq!(
        loaded_child.parent_uid.as_deref(),
        Some(parent.uid.as_str())
    );
    assert!(store.get_experiment("missing").unwrap().is_none());
}

#[test]
fn find_returns_the_newest_or_the_asked_version() {
    let (_dir, store) = temp_store();
    let first = create(&*store, "s", "n");
    let second = create(&*store, "s", "n");
    let newest = store.find_experiment("s", "n", None).unwrap().unwrap();
    assert_eq!(newest.uid, second.uid);
    let asked = store
        .find_experiment("s", "n", Some(&Version::new(0, 1, 0)))
        .unwrap()
        .unwrap();
    assert_eq!(asked.uid, first.uid);
    assert!(store
        .find_experiment("s", "n", Some(&Version::new(9, 0, 0)))
        .unwrap()
        .is_none());
}

#[test]
fn list_filters_sorts_and_limits() {
    let (_dir, store) = temp_store();
    let a1 = create(&*store, "s", "a");
    let a2 = create(&*store, "s", "a");
    let mut tagged = new_experiment("t", "b");
    tagged.tags = vec!["gpu".into(), "baseline".into()];
    let b = store.create_experiment(&tagged).unwrap();

    let all = store
        .list_experiments(&CardQuery {
            limit: 25,
            ..CardQuery::default()
        })
        .unwrap();
    let order: Vec<&str> = all.iter().map(|r| r.uid.as_str()).collect();
    assert_eq!(order, [a2.uid.as_str(), a1.uid.as_str(), b.uid.as_str()]);

    // Restricted to a set of spaces, as a server's user sees them; search alike.
    let in_spaces = |spaces: &[&str]| {
        let spaces: Vec<String> = spaces.iter().map(|s| (*s).to_owned()).collect();
        let listed = store
            .list_experiments(&CardQuery {
                spaces: Some(spaces.clone()),
                limit: 25,
                ..CardQuery::default()
            })
            .unwrap();
        let searched = store
            .search_experiments(&SearchQuery {
                spaces: Some(spaces),
                limit: 25,
                ..SearchQuery::default()
            })
            .unwrap();
        let mut listed: Vec<String> = listed.into_iter().map(|r| r.uid).collect();
        let mut searched: Vec<String> = searched.into_iter().map(|r| r.uid).collect();
        listed.sort();
        searched.sort();
        assert_eq!(listed, searched);
        listed
    };
    let mut both = vec![a1.uid.clone(), a2.uid.clone()];
    both.sort();
    assert_eq!(in_spaces(&["s", "elsewhere"]), both);
    assert_eq!(in_spaces(&["t"]), vec![b.uid.clone()]);
    assert_eq!(in_spaces(&["s", "t"]).len(), 3);

    let by_tags = store
        .list_experiments(&CardQuery {
            tags: vec!["gpu".into(), "baseline".into()],
            limit: 25,
            ..CardQuery::default()
        })
        .unwrap();
    assert_eq!(by_tags.len(), 1);
    assert_eq!(by_tags[0].uid, b.uid);

    let missing_tag = store
        .list_experiments(&CardQuery {
            tags: vec!["gpu".into(), "nope".into()],
            limit: 25,
            ..CardQuery::default()
        })
        .unwrap();
    assert!(missing_tag.is_empty());

    let newest_first = store
        .list_experiments(&CardQuery {
            sort_by_timestamp: true,
            limit: 2,
            ..CardQuery::default()
        })
        .unwrap();
    assert_eq!(newest_first.len(), 2);
    assert_eq!(newest_first[0].uid, b.uid);

    let version = store
        .list_experiments(&CardQuery {
            space: Some("s".into()),
            name: Some("a".into()),
            version: Some(Version::new(0, 1, 0)),
            limit: 25,
            ..CardQuery::default()
        })
        .unwrap();
    assert_eq!(version.len(), 1);
    assert_eq!(version[0].uid, a1.uid);

    let before = store
        .list_experiments(&CardQuery {
            max_date: Some(Utc::now() - Duration::days(1)),
            limit: 25,
            ..CardQuery::default()
        })
        .unwrap();
    assert!(before.is_empty());
}

#[test]
fn update_and_status_are_saved() {
    let (_dir, store) = temp_store();
    let mut card = create(&*store, "s", "n");
    card.tags = vec!["new".into()];
    card.status = Status::Failed;
    store.update_experiment(&card).unwrap();
    let loaded = store.get_experiment(&card.uid).unwrap().unwrap();
    assert_eq!(loaded.tags, vec!["new".to_owned()]);
    assert_eq!(loaded.status, Status::Failed);

    let ended = Utc::now();
    store
        .set_status(&card.uid, Status::Completed, Some(ended))
        .unwrap();
    let loaded = store.get_experiment(&card.uid).unwrap().unwrap();
    assert_eq!(loaded.status, Status::Completed);
    assert_eq!(
        loaded.ended_at.map(|t| t.timestamp_micros()),
        Some(ended.timestamp_micros())
    );
    assert!(matches!(
        store.set_status("missing", Status::Completed, None),
        Err(StoreError::ExperimentNotFound(uid)) if uid == "missing"
    ));
}

#[test]
fn a_store_reopened_from_disk_sees_everything() {
    let (test_store, store) = temp_store();
    let card = create(&*store, "s", "n");
    drop(store);
    let reopened = test_store.open_again();
    assert_eq!(
        reopened.get_experiment(&card.uid).unwrap().unwrap().name,
        "n"
    );
}

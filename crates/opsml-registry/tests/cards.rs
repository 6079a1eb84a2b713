mod common;

use chrono::{Duration, Utc};
use common::{create, new_experiment, temp_store};
use opsml_registry::{mark_dead_experiments_killed, CardRegistry, Lease};
use opsml_types::{RegistryType, Status};

#[test]
fn registry_loads_and_deletes_with_clear_errors() {
    let (_dir, store) = temp_store();
    let registry = CardRegistry::with_store(RegistryType::Experiment, store.clone());
    let card = create(&*store, "s", "n");
    assert_eq!(registry.load_by_uid(&card.uid).unwrap().uid, card.uid);
    assert_eq!(registry.load_by_name("s", "n", None).unwrap().uid, card.uid);
    let err = registry.load_by_name("s", "zzz", None).unwrap_err();
    assert!(err.to_string().contains("\"zzz\""), "{err}");
    registry.delete_card(&card.uid).unwrap();
    let err = registry.load_by_uid(&card.uid).unwrap_err();
    assert!(err.to_string().contains(&card.uid), "{err}");
    assert!(registry.delete_card(&card.uid).is_err());
}

#[test]
fn experiments_whose_process_died_are_marked_killed_and_live_ones_are_left() {
    let (test_store, store) = temp_store();
    let mut finished = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = finished.id();
    finished.wait().unwrap();
    let here = Lease::current();

    let mut dead = new_experiment("s", "dead-local");
    dead.lease = Lease {
        pid: dead_pid,
        ..here.clone()
    };
    let dead = store.create_experiment(&dead).unwrap();
    let alive = create(&*store, "s", "alive-local");
    let mut remote_stale = new_experiment("s", "remote-stale");
    remote_stale.lease = Lease {
        host: "elsewhere".into(),
        ..here.clone()
    };
    let remote_stale = store.create_experiment(&remote_stale).unwrap();
    let mut remote_fresh = new_experiment("s", "remote-fresh");
    remote_fresh.lease = Lease {
        host: "elsewhere".into(),
        ..here
    };
    let remote_fresh = store.create_experiment(&remote_fresh).unwrap();
    let old = (Utc::now() - Duration::hours(1)).timestamp_micros();
    test_store.set_heartbeat(&remote_stale.uid, old);

    let mut killed = mark_dead_experiments_killed(&*store).unwrap();
    killed.sort();
    let mut expected = vec![dead.uid.clone(), remote_stale.uid.clone()];
    expected.sort();
    assert_eq!(killed, expected);
    let status = |uid: &str| store.get_experiment(uid).unwrap().unwrap().status;
    assert_eq!(status(&dead.uid), Status::Killed);
    assert_eq!(status(&remote_stale.uid), Status::Killed);
    assert_eq!(status(&alive.uid), Status::Running);
    assert_eq!(status(&remote_fresh.uid), Status::Running);
    let ended = store
        .get_experiment(&remote_stale.uid)
        .unwrap()
        .unwrap()
        .ended_at;
    assert_eq!(ended.map(|t| t.timestamp_micros()), Some(old));

    // A killed experiment can be claimed again by a live process.
    store.claim(&dead.uid, &Lease::current()).unwrap();
    assert_eq!(status(&dead.uid), Status::Running);
    assert!(mark_dead_experiments_killed(&*store).unwrap().is_empty());
}

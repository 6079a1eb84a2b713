//! Runs compiled filters and orders against a real in-memory SQLite
//! database laid out like the registry's, and checks which experiments
//! come back, in which order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

use opsml_query::{compile_with, parse_filter, parse_order_by, Dialect, Value};
use proptest::prelude::*;
use rusqlite::{params_from_iter, Connection};

/// A day and an hour in microseconds.
const DAY: i64 = 86_400_000_000;
const HOUR: i64 = 3_600_000_000;
/// 2026-11-26T00:00:00Z in unix microseconds, as the store keeps times.
const NOV26: i64 = 1_795_651_200_000_000;

const SCHEMA: &str = r"
CREATE TABLE experiments (
    uid        TEXT PRIMARY KEY,
    space      TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    major      INTEGER NOT NULL,
    minor      INTEGER NOT NULL,
    patch      INTEGER NOT NULL,
    tags       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER,
    parent_uid TEXT,
    username   TEXT NOT NULL
);
CREATE TABLE parameters (
    experiment_uid TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (experiment_uid, name)
);
CREATE TABLE metric_summaries (
    experiment_uid TEXT NOT NULL,
    name           TEXT NOT NULL,
    count          INTEGER,
    min            REAL,
    max            REAL,
    mean           REAL,
    first          REAL,
    last           REAL,
    last_step      INTEGER,
    PRIMARY KEY (experiment_uid, name)
);
";

/// `(uid, space, name, version, tags, status, created_at, ended_at, parent, user)`
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    Option<&'static str>,
    &'static str,
);

const EXPERIMENTS: [Row; 6] = [
    (
        "e1",
        "vision",
        "bert-base",
        "1.2.0",
        r#"["nlp","baseline"]"#,
        "completed",
        NOV26 - 6 * DAY,
        Some(NOV26 - 6 * DAY + HOUR),
        None,
        "alice",
    ),
    (
        "e2",
        "vision",
        "bert_large",
        "1.10.0",
        r#"["nlp"]"#,
        "failed",
        NOV26 - DAY,
        Some(NOV26 - DAY + 2 * HOUR),
        None,
        "bob",
    ),
    (
        "e3",
        "vision",
        "resnet",
        "0.9.5",
        "[]",
        "running",
        NOV26 + 10 * HOUR,
        None,
        None,
        "alice",
    ),
    (
        "e4",
        "audio",
        "Bert-tiny",
        "2.0.0",
        r#"["nlp","tiny"]"#,
        "completed",
        NOV26 + DAY,
        Some(NOV26 + DAY + HOUR),
        Some("e1"),
        "carol",
    ),
    (
        "e5",
        "audio",
        "whisper",
        "1.2.0",
        r#"["audio"]"#,
        "killed",
        NOV26 + 2 * DAY,
        Some(NOV26 + 2 * DAY + HOUR),
        Some("e1"),
        "bob",
    ),
    (
        "e6",
        "audio",
        "100%_run",
        "1.2.1",
        r#"["it's"]"#,
        "completed",
        NOV26 + 3 * DAY,
        Some(NOV26 + 3 * DAY + HOUR),
        None,
        "alice",
    ),
];

const PARAMS: [(&str, &str, &str, &str); 17] = [
    ("e1", "lr", "float", "0.001"),
    ("e1", "opt", "str", "adam"),
    ("e1", "epochs", "int", "10"),
    ("e1", "amp", "bool", "true"),
    ("e2", "lr", "float", "0.01"),
    ("e2", "opt", "str", "sgd"),
    ("e2", "epochs", "int", "20"),
    ("e2", "amp", "bool", "false"),
    ("e3", "lr", "str", "auto"),
    ("e3", "opt", "str", "adamw"),
    ("e3", "epochs", "int", "5"),
    ("e4", "lr", "float", "0.0001"),
    ("e4", "epochs", "int", "10"),
    ("e4", "amp", "bool", "true"),
    ("e4", "model.depth", "int", "12"),
    ("e5", "opt", "str", "adam"),
    ("e6", "lr", "int", "1"),
];

/// `(uid, name, count, min, max, mean, first, last, last_step)`; e6 logged
/// `loss` without points, so its statistics other than count are NULL.
type Summary = (
    &'static str,
    &'static str,
    i64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<i64>,
);

const SUMMARIES: [Summary; 7] = [
    (
        "e1",
        "loss",
        100,
        Some(0.1),
        Some(2.0),
        Some(0.5),
        Some(2.0),
        Some(0.12),
        Some(99),
    ),
    (
        "e1",
        "acc",
        100,
        Some(0.5),
        Some(0.9),
        Some(0.8),
        Some(0.5),
        Some(0.9),
        Some(99),
    ),
    (
        "e2",
        "loss",
        50,
        Some(0.3),
        Some(3.0),
        Some(1.0),
        Some(3.0),
        Some(0.35),
        Some(49),
    ),
    (
        "e2",
        "val.loss",
        5,
        Some(0.4),
        Some(0.9),
        Some(0.6),
        Some(0.9),
        Some(0.45),
        Some(4),
    ),
    (
        "e3",
        "loss",
        10,
        Some(1.0),
        Some(2.5),
        Some(1.5),
        Some(2.5),
        Some(1.0),
        Some(9),
    ),
    (
        "e4",
        "acc",
        20,
        Some(0.6),
        Some(0.95),
        Some(0.8),
        Some(0.6),
        Some(0.95),
        Some(19),
    ),
    ("e6", "loss", 0, None, None, None, None, None, None),
];

fn fixture() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    for (uid, space, name, version, tags, status, created, ended, parent, user) in EXPERIMENTS {
        let parts: Vec<i64> = version.split('.').map(|p| p.parse().unwrap()).collect();
        conn.execute(
            "INSERT INTO experiments VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rusqlite::params![
                uid, space, name, version, parts[0], parts[1], parts[2], tags, status, created,
                ended, parent, user
            ],
        )
        .unwrap();
    }
    for (uid, name, kind, value) in PARAMS {
        conn.execute(
            "INSERT INTO parameters VALUES (?1, ?2, ?3, ?4)",
            [uid, name, kind, value],
        )
        .unwrap();
    }
    for (uid, name, count, min, max, mean, first, last, last_step) in SUMMARIES {
        conn.execute(
            "INSERT INTO metric_summaries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![uid, name, count, min, max, mean, first, last, last_step],
        )
        .unwrap();
    }
    conn
}

fn to_sql(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Value::Integer(i) => rusqlite::types::Value::Integer(*i),
        Value::Real(r) => rusqlite::types::Value::Real(*r),
        Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
    }
}

/// The uids `search_experiments` would return, in order.
fn run(
    conn: &Connection,
    filter: &str,
    order: &[&str],
    dialect: Dialect,
) -> rusqlite::Result<Vec<String>> {
    let expr = parse_filter(filter).unwrap_or_else(|e| panic!("{e}"));
    let order = parse_order_by(order).unwrap_or_else(|e| panic!("{e}"));
    let c = compile_with(Some(&expr), &order, dialect);
    let where_clause = if c.where_sql.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", c.where_sql)
    };
    let sql = format!(
        "SELECT uid FROM experiments{where_clause} ORDER BY {} LIMIT 100",
        c.order_sql
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(c.params.iter().map(to_sql)), |r| r.get(0))?;
    rows.collect()
}

fn search(conn: &Connection, filter: &str, order: &[&str]) -> Vec<String> {
    run(conn, filter, order, Dialect::Sqlite).unwrap_or_else(|e| panic!("{filter:?}: {e}"))
}

/// The matching uids, sorted (for filters whose order does not matter).
fn matching(conn: &Connection, filter: &str) -> Vec<String> {
    let mut uids = search(conn, filter, &[]);
    uids.sort();
    uids
}

#[test]
fn filters_select_the_expected_experiments() {
    let conn = fixture();
    let cases: &[(&str, &[&str])] = &[
        ("", &["e1", "e2", "e3", "e4", "e5", "e6"]),
        ("status = 'completed'", &["e1", "e4", "e6"]),
        ("status != 'completed'", &["e2", "e3", "e5"]),
        ("status in ('failed', 'killed')", &["e2", "e5"]),
        ("status not in ('completed', 'running')", &["e2", "e5"]),
        ("uid > 'e4'", &["e5", "e6"]),
        // SQLite's LIKE ignores ASCII case.
        ("name like 'bert%'", &["e1", "e2", "e4"]),
        (r"name like 'bert\\_%'", &["e2"]),
        (r"name like '100\\%%'", &["e6"]),
        ("name not like 'bert%'", &["e3", "e5", "e6"]),
        // Semver, not text: 1.10.0 > 1.9.0.
        ("version > '1.9.0'", &["e2", "e4"]),
        ("version >= '1.2.0'", &["e1", "e2", "e4", "e5", "e6"]),
        ("version = '1.2.0'", &["e1", "e5"]),
        ("version <= '1.2.0'", &["e1", "e3", "e5"]),
        ("version in ('0.9.5', '2.0.0')", &["e3", "e4"]),
        ("version != '1.2.0'", &["e2", "e3", "e4", "e6"]),
        ("tags = 'nlp'", &["e1", "e2", "e4"]),
        ("tags != 'nlp'", &["e3", "e5", "e6"]),
        (r"tag = 'it\'s'", &["e6"]),
        ("tags = 'nlp' and not tags = 'tiny'", &["e1", "e2"]),
        ("params.lr < 0.005", &["e1", "e4"]),
        ("params.lr = 1", &["e6"]),
        ("params.lr = 1.0", &["e6"]),
        ("params.lr = 'auto'", &["e3"]),
        // Exists and differs, including values of another kind.
        ("params.lr != 0.001", &["e2", "e3", "e4", "e6"]),
        ("not params.lr = 0.001", &["e2", "e3", "e4", "e5", "e6"]),
        ("params.lr is null", &["e5"]),
        ("params.lr is not null", &["e1", "e2", "e3", "e4", "e6"]),
        ("params.amp = true", &["e1", "e4"]),
        ("params.amp = false", &["e2"]),
        ("params.amp != true", &["e2"]),
        ("params.epochs in (10, 20)", &["e1", "e2", "e4"]),
        ("params.epochs not in (10, 'x')", &["e2", "e3"]),
        ("params.lr in ('auto', 1)", &["e3", "e6"]),
        ("params.opt like 'adam%'", &["e1", "e3", "e5"]),
        ("params.opt not like 'adam%'", &["e2"]),
        ("params.`model.depth` >= 12", &["e4"]),
        ("metrics.loss < 0.5", &["e1", "e2"]),
        ("metrics.loss.min <= 0.3", &["e1", "e2"]),
        ("metrics.loss.count >= 50", &["e1", "e2"]),
        ("metrics.loss.count = 0", &["e6"]),
        ("metrics.loss.last_step in (9, 49)", &["e2", "e3"]),
        ("metrics.loss.max != 2.0", &["e2", "e3"]),
        ("metrics.`val.loss`.min < 0.5", &["e2"]),
        ("metrics.loss is null", &["e4", "e5", "e6"]),
        ("metrics.loss is not null", &["e1", "e2", "e3"]),
        ("created_at >= '2026-11-26'", &["e3", "e4", "e5", "e6"]),
        ("created_at < '2026-11-26T10:00:00Z'", &["e1", "e2"]),
        (
            "created_at <= '2026-11-26T12:00:00+02:00'",
            &["e1", "e2", "e3"],
        ),
        ("created_at = 1795687200000", &["e3"]),
        ("ended_at is null", &["e3"]),
        ("ended_at > '2026-11-01'", &["e1", "e2", "e4", "e5", "e6"]),
        ("not ended_at > '2026-11-01'", &["e3"]),
        ("parent_uid = 'e1'", &["e4", "e5"]),
        ("parent_uid != 'e1'", &[]),
        ("not parent_uid = 'e1'", &["e1", "e2", "e3", "e6"]),
        (
            "parent_uid is null and username = 'alice'",
            &["e1", "e3", "e6"],
        ),
        // and binds tighter than or; parentheses change that.
        (
            "username = 'bob' or status = 'completed' and space = 'audio'",
            &["e2", "e4", "e5", "e6"],
        ),
        (
            "(username = 'bob' or status = 'completed') and space = 'audio'",
            &["e4", "e5", "e6"],
        ),
        ("space = 'audio' and metrics.acc > 0.9", &["e4"]),
        (
            "not (status = 'completed' or tags = 'nlp') and params.opt = 'adam'",
            &["e5"],
        ),
    ];
    for &(filter, expected) in cases {
        assert_eq!(matching(&conn, filter), expected, "{filter}");
    }
}

#[test]
fn orders_are_applied_with_missing_values_last() {
    let conn = fixture();
    let cases: &[(&[&str], &[&str])] = &[
        // Newest first by default.
        (&[], &["e6", "e5", "e4", "e3", "e2", "e1"]),
        // e4 and e5 have no loss, e6 has no min: last, newest first among them.
        (&["metrics.loss.min"], &["e1", "e2", "e3", "e6", "e5", "e4"]),
        (
            &["metrics.loss.min desc"],
            &["e3", "e2", "e1", "e6", "e5", "e4"],
        ),
        (&["version desc"], &["e4", "e2", "e6", "e5", "e1", "e3"]),
        (&["version"], &["e3", "e5", "e1", "e6", "e2", "e4"]),
        // Numbers first, numerically; then text; then missing.
        (&["params.lr"], &["e4", "e1", "e2", "e6", "e3", "e5"]),
        (&["params.lr DESC"], &["e6", "e2", "e1", "e4", "e3", "e5"]),
        (&["ended_at desc"], &["e6", "e5", "e4", "e2", "e1", "e3"]),
        (&["ended_at asc"], &["e1", "e2", "e4", "e5", "e6", "e3"]),
        (&["parent_uid desc"], &["e5", "e4", "e6", "e3", "e2", "e1"]),
        (&["parent_uid"], &["e5", "e4", "e6", "e3", "e2", "e1"]),
        (
            &["username", "metrics.acc desc"],
            &["e1", "e6", "e3", "e5", "e2", "e4"],
        ),
        (&["created_at"], &["e1", "e2", "e3", "e4", "e5", "e6"]),
        (
            &["metrics.`val.loss`.min"],
            &["e2", "e6", "e5", "e4", "e3", "e1"],
        ),
    ];
    for &(order, expected) in cases {
        assert_eq!(search(&conn, "", order), expected, "{order:?}");
    }
}

#[test]
fn filter_and_order_together_bind_in_textual_order() {
    let conn = fixture();
    let filter = "params.opt like 'adam%' or metrics.loss.count >= 50";
    let order = ["params.epochs desc", "metrics.loss.last"];
    let expected = ["e2", "e1", "e3", "e5"];
    assert_eq!(search(&conn, filter, &order), expected);
    // `$N` placeholders are numbered in order of appearance, which SQLite
    // also accepts, so the PostgreSQL spelling (without tags) is checked here too.
    assert_eq!(
        run(&conn, filter, &order, Dialect::Postgres).unwrap(),
        expected
    );
}

const FIELDS: &[&str] = &[
    "status",
    "name",
    "parent_uid",
    "created_at",
    "ended_at",
    "version",
    "tags",
    "params.lr",
    "params.amp",
    "params.opt",
    "metrics.loss.min",
    "metrics.loss.count",
    "metrics.acc",
];

const TESTS: &[&str] = &[
    "= 'completed'",
    "!= 'e1'",
    "< 'm'",
    ">= '1.2.0'",
    "<= '2026-11-26'",
    "> '2026-11-26T10:00:00Z'",
    "= 0.001",
    "!= 10",
    "< 0.5",
    ">= 1795651200000",
    "= true",
    "!= false",
    "like 'bert%'",
    "not like 'a%'",
    "in ('completed', 'e1')",
    "not in ('adam', 1, true)",
    "in (0.1, 0.3, 10)",
    "not in ('1.2.0', '2.0.0')",
    "is null",
    "is not null",
];

/// Every field/test pair that type-checks.
fn valid_atoms() -> Vec<String> {
    FIELDS
        .iter()
        .flat_map(|f| TESTS.iter().map(move |t| format!("{f} {t}")))
        .filter(|src| parse_filter(src).is_ok())
        .collect()
}

/// Whatever type-checks runs, and `not` complements it exactly, for every
/// field and operator combination, including missing and NULL values.
#[test]
fn every_valid_condition_runs_and_not_complements_it() {
    let conn = fixture();
    let atoms = valid_atoms();
    assert!(atoms.len() > 100, "only {} valid atoms", atoms.len());
    for atom in &atoms {
        let yes = matching(&conn, atom);
        let no = matching(&conn, &format!("not {atom}"));
        assert!(yes.iter().all(|u| !no.contains(u)), "{atom}");
        assert_eq!(
            yes.len() + no.len(),
            EXPERIMENTS.len(),
            "{atom}: {yes:?} / {no:?}"
        );
        let order: Vec<&str> = atom.split_whitespace().take(1).collect();
        if atom.starts_with("tags") {
            continue;
        }
        let sorted = search(&conn, atom, &order);
        assert_eq!(sorted.len(), yes.len(), "{atom}");
    }
}

fn filter_strategy() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(valid_atoms());
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Conditions are two-valued: `not (f)` selects exactly the experiments
    /// `f` does not, whatever is missing, for any combination.
    #[test]
    fn not_is_an_exact_complement(filter in filter_strategy()) {
        let conn = fixture();
        let yes = matching(&conn, &filter);
        let no = matching(&conn, &format!("not ({filter})"));
        prop_assert!(yes.iter().all(|u| !no.contains(u)), "{filter}: {yes:?} / {no:?}");
        prop_assert_eq!(yes.len() + no.len(), EXPERIMENTS.len(), "{}", filter);
    }
}

/// The largest search the bounds allow — the most conditions, values and nesting, with
/// the heaviest conditions — still runs: the bounds refuse before the store would.
#[test]
fn the_largest_search_within_the_bounds_runs() {
    use opsml_query::{MAX_CONDITIONS, MAX_LIST_VALUES, MAX_ORDER_ITEMS};
    let list = |field: &str, quote: bool| {
        let values: Vec<String> = (0..MAX_LIST_VALUES)
            .map(|n| {
                if quote {
                    format!("'v{n}'")
                } else {
                    n.to_string()
                }
            })
            .collect();
        format!("{field} in ({})", values.join(", "))
    };
    let mut chain = vec![
        list("params.lr", false),
        list("metrics.loss.min", false),
        list("uid", true),
        list("params.opt", true),
    ];
    // Nesting as deep as text may go, one condition per level.
    let levels = 63;
    while chain.len() < MAX_CONDITIONS - levels {
        let n = chain.len();
        chain.push(format!("metrics.`m{n}`.max not in (1, 2.5)"));
    }
    let mut filter = format!("({})", chain.join(" or "));
    for level in 0..levels {
        let joiner = if level % 2 == 0 { "and" } else { "or" };
        filter = format!("(params.`p{level}` != 'x' {joiner} {filter})");
    }
    if let Err(e) = parse_filter(&filter) {
        panic!("{}", e.message());
    }
    let order: Vec<String> = (0..MAX_ORDER_ITEMS)
        .map(|n| format!("params.p{n} desc"))
        .collect();
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    let conn = fixture();
    run(&conn, &filter, &order, Dialect::Sqlite).unwrap_or_else(|e| panic!("{e}"));
}

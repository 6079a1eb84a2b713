//! The web UI's side of the server: the session cookie (HttpOnly, SameSite=Strict) and the
//! CSRF token every change made with it needs, the runs table and chart routes under the
//! same permissions as the rest of the API, the app's pages and files with their security
//! headers, and `opsml ui`'s launch token, the only credential it takes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::{error_of, uid, Server};
use opsml_crypt::MasterKey;
use opsml_registry::{
    Access, AccountStore, ArtifactStorage, Artifacts, Lease, LocalStorage, NewExperiment,
    PointRecord, SqliteStore, Store, UserRecord, WriteBatch,
};
use opsml_server::{UiAddress, UiLaunch};
use opsml_types::MetricPoint;
use reqwest::blocking::{Client, Response};
use reqwest::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION,
    SET_COOKIE,
};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// The session token of a `Set-Cookie` answer.
fn session_of(response: &Response) -> String {
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    pair.strip_prefix("opsml_session=").unwrap().to_owned()
}

/// Logs `username` in through the UI's route: its session token and CSRF token.
fn ui_login(server: &Server, username: &str) -> (String, String) {
    let answer = client()
        .post(server.url("/ui/login"))
        .json(&json!({ "username": username, "password": format!("{username} password") }))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    let session = session_of(&answer);
    let body: Value = answer.json().unwrap();
    assert_eq!(body["username"], username);
    (session, body["csrf_token"].as_str().unwrap().to_owned())
}

fn with_cookie(session: &str) -> String {
    format!("opsml_session={session}")
}

#[test]
fn a_ui_session_reads_with_its_cookie_and_changes_only_with_its_csrf_token() {
    let server = Server::start();
    server.user("alice", &[("team-a", Access::Write)]);
    server.create_experiment(&uid(1), "team-a");
    let (session, csrf) = ui_login(&server, "alice");

    let who: Value = client()
        .get(server.url("/ui/session"))
        .header(COOKIE, with_cookie(&session))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(who["username"], "alice");
    assert_eq!(who["csrf_token"], csrf.as_str());
    assert_eq!(who["local"], false);

    let experiment = server.url(&format!("/experiments/{}", uid(1)));
    // A change with the cookie alone, or with another session's token, is refused.
    for token in [None, Some("0".repeat(64)), Some(csrf.to_uppercase())] {
        let mut request = client()
            .delete(&experiment)
            .header(COOKIE, with_cookie(&session));
        if let Some(token) = &token {
            request = request.header("x-csrf-token", token);
        }
        let (status, message) = error_of(request.send().unwrap());
        assert_eq!(status, 403, "{token:?}");
        assert!(message.contains("CSRF"), "{message}");
    }
    let still = server.admin_client().get(&experiment).send().unwrap();
    assert_eq!(still.status(), 200, "a refused change changed nothing");

    // Logging out needs the token too, then ends the session.
    let refused = client()
        .post(server.url("/ui/logout"))
        .header(COOKIE, with_cookie(&session))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let out = client()
        .post(server.url("/ui/logout"))
        .header(COOKIE, with_cookie(&session))
        .header("x-csrf-token", &csrf)
        .send()
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(out.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = client()
        .get(server.url("/ui/session"))
        .header(COOKIE, with_cookie(&session))
        .send()
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[test]
fn a_wrong_ui_login_sets_no_cookie() {
    let server = Server::start();
    server.user("alice", &[]);
    let answer = client()
        .post(server.url("/ui/login"))
        .json(&json!({ "username": "alice", "password": "not alice's password" }))
        .send()
        .unwrap();
    assert!(answer.headers().get(SET_COOKIE).is_none());
    assert_eq!(error_of(answer), (401, "wrong username or password".into()));
}

#[test]
fn the_runs_table_holds_only_readable_spaces_and_a_bad_filter_says_where() {
    let server = Server::start();
    let reader = server.user("bob", &[("team-a", Access::Read)]);
    server.create_experiment(&uid(1), "team-a");
    server.create_experiment(&uid(2), "team-b");
    let table: Value = client()
        .get(server.url("/runs"))
        .bearer_auth(&reader)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let uids: Vec<&str> = table["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, [uid(1)]);
    let all: Value = server
        .admin_client()
        .get(server.url("/runs"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(all["runs"].as_array().unwrap().len(), 2);

    let bad = client()
        .get(server.url("/runs?filter=params.lr%20%3C"))
        .bearer_auth(&reader)
        .send()
        .unwrap();
    let (status, message) = error_of(bad);
    assert_eq!(status, 400);
    assert!(message.contains("params.lr <"), "{message}");
    let twice = client()
        .get(server.url("/runs?limit=1&limit=2"))
        .bearer_auth(&reader)
        .send()
        .unwrap();
    assert_eq!(
        error_of(twice),
        (400, "limit is given 2 times; give it once".into())
    );
}

/// Stores `values` as metric `loss` of experiment `uid`, the i-th at step i, logged at
/// 1,000,000 + i microseconds.
fn log_loss(server: &Server, uid: &str, values: &[f64]) {
    let points: Vec<PointRecord> = values
        .iter()
        .zip(0..)
        .map(|(&value, step)| PointRecord {
            name_id: 0,
            point: MetricPoint {
                step: Some(step),
                value,
                timestamp: None,
                created_at: 1_000_000 + step,
            },
        })
        .collect();
    let mut writer = server.store.open_writer(uid).unwrap();
    writer
        .write(&WriteBatch {
            names: &["loss".to_owned()],
            points: &points,
            parameters: &[],
            hardware: &[],
        })
        .unwrap();
    writer.finish().unwrap();
}

#[test]
fn the_runs_table_sends_only_the_statistics_asked_for() {
    let server = Server::start();
    let reader = server.user("bob", &[("team-a", Access::Read)]);
    server.create_experiment(&uid(1), "team-a");
    server.create_experiment(&uid(2), "team-a");
    log_loss(&server, &uid(1), &[4.0, 1.0, 2.0]);
    let table = |query: &str| -> Value {
        client()
            .get(server.url(&format!("/runs?{query}")))
            .bearer_auth(&reader)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let all = table("");
    // Cells are in the order of the runs, the run without metrics empty.
    let (with, without) = if all["runs"][0]["uid"] == uid(1) {
        (0, 1)
    } else {
        (1, 0)
    };
    let cells = |a: Value, b: Value| {
        let mut cells = vec![Value::Null; 2];
        cells[with] = a;
        cells[without] = b;
        Value::Array(cells)
    };
    assert_eq!(
        all["metrics"]["loss"]["last"],
        cells(json!(2.0), Value::Null)
    );
    assert_eq!(
        all["metrics"]["loss"]["min"],
        cells(json!(1.0), Value::Null)
    );
    assert_eq!(
        all["metrics"]["loss"]["count"],
        cells(json!(3), Value::Null)
    );
    let min_only = table("stat=min");
    assert_eq!(
        min_only["metrics"]["loss"],
        json!({ "min": cells(json!(1.0), Value::Null) })
    );
    let two = table("stat=max&stat=mean");
    let loss = two["metrics"]["loss"].as_object().unwrap();
    assert_eq!(loss.keys().collect::<Vec<_>>(), ["max", "mean"]);
    assert_eq!(loss["mean"], cells(json!(7.0 / 3.0), Value::Null));

    let bad = client()
        .get(server.url("/runs?stat=median"))
        .bearer_auth(&reader)
        .send()
        .unwrap();
    let (status, message) = error_of(bad);
    assert_eq!(status, 400);
    assert!(
        message.starts_with("stat \"median\" is not one of last, min"),
        "{message}"
    );
}

/// A server with runs 1 and 2 in team-a and run 3 in team-b, each with 1,000 points of
/// `loss` (run n's point at step s is n * 1000 + s, logged at 1,000,000 + s microseconds),
/// and a reader of team-a; the reader's token.
fn server_with_compared_runs() -> (Server, String) {
    let server = Server::start();
    let reader = server.user("bob", &[("team-a", Access::Read)]);
    for (n, space) in [(1, "team-a"), (2, "team-a"), (3, "team-b")] {
        server.create_experiment(&uid(n), space);
        let values: Vec<f64> = (0..1000)
            .map(|step| f64::from(n) * 1000.0 + f64::from(step))
            .collect();
        log_loss(&server, &uid(n), &values);
    }
    (server, reader)
}

fn compared_series(server: &Server, reader: &str, query: &str) -> Response {
    client()
        .get(server.url(&format!("/series?{query}")))
        .bearer_auth(reader)
        .send()
        .unwrap()
}

#[test]
fn a_comparison_reads_each_runs_points_in_one_answer_and_only_of_readable_runs() {
    let (server, reader) = server_with_compared_runs();
    let series = |query: &str| compared_series(&server, &reader, query);
    let answer: Value = series(&format!(
        "uid={}&uid={}&name=loss&points=50",
        uid(2),
        uid(1)
    ))
    .json()
    .unwrap();
    let runs = answer.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, n) in runs.iter().zip([2.0, 1.0]) {
        assert_eq!(run["total"], 1000);
        assert_eq!(run["steps"].as_array().unwrap().len(), 50);
        assert_eq!(run["values"][0], json!(n * 1000.0), "in the order asked");
        assert_eq!(
            run["values"][49],
            json!(n * 1000.0 + 999.0),
            "the last point kept"
        );
    }
    let ranged: Value = series(&format!(
        "uid={}&name=loss&start=10&stop=20&points=100",
        uid(1)
    ))
    .json()
    .unwrap();
    assert_eq!(ranged[0]["steps"], json!((10..20).collect::<Vec<_>>()));
    // By time: point `step` was logged at 1,000,000 + step microseconds.
    let logged: Value = series(&format!(
        "uid={}&name=loss&since=1000010&until=1000020&points=100",
        uid(1)
    ))
    .json()
    .unwrap();
    assert_eq!(logged[0]["steps"], json!((10..20).collect::<Vec<_>>()));
    let one: Value = client()
        .get(server.url(&format!(
            "/experiments/{}/series?name=loss&since=1000990&points=5",
            uid(1)
        )))
        .bearer_auth(&reader)
        .send()
        .unwrap()
        .json()
        .unwrap();
    // The last ten points, downsampled to five: the first and last of them kept.
    assert_eq!(one["downsampled"], true);
    let steps = one["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    assert_eq!((&steps[0], &steps[4]), (&json!(990), &json!(999)));
    let (status, message) = error_of(series(&format!("uid={}&name=loss&start=1&since=5", uid(1))));
    assert_eq!(status, 400);
    assert!(message.contains("not both"), "{message}");

    // Each run once, whatever the repeats.
    let twice: Value = series(&format!(
        "uid={}&uid={}&uid={}&name=loss&points=10",
        uid(1),
        uid(1),
        uid(2)
    ))
    .json()
    .unwrap();
    assert_eq!(twice.as_array().unwrap().len(), 2);
    let hidden = error_of(series(&format!(
        "uid={}&uid={}&name=loss&points=10",
        uid(1),
        uid(3)
    )));
    let missing = error_of(series(&format!(
        "uid={}&uid={}&name=loss&points=10",
        uid(1),
        uid(4)
    )));
    assert_eq!(hidden.0, 404);
    assert_eq!(
        hidden.1.replace(&uid(3), "?"),
        missing.1.replace(&uid(4), "?")
    );
}

#[test]
fn a_comparison_refuses_what_would_send_unbounded_points() {
    let (server, reader) = server_with_compared_runs();
    let series = |query: &str| compared_series(&server, &reader, query);
    // A comparison never sends every point of its runs: points is required.
    let (status, message) = error_of(series(&format!("uid={}&name=loss", uid(1))));
    assert_eq!(status, 400);
    assert!(message.starts_with("points is missing"), "{message}");

    let (status, message) = error_of(series("name=loss"));
    assert_eq!(status, 400);
    assert!(message.contains("uid"), "{message}");
    let many = (1..=30)
        .map(|n| format!("uid={}", uid(n)))
        .collect::<Vec<_>>()
        .join("&");
    let (status, message) = error_of(series(&format!("{many}&name=loss&points=100000")));
    assert_eq!(status, 400);
    assert!(message.contains("ask for fewer"), "{message}");
    let (status, _) = error_of(series(&format!(
        "uid={}&name=loss&after=3&points=10",
        uid(1)
    )));
    assert_eq!(status, 400);
}

#[test]
fn a_chart_asks_for_a_bounded_number_of_points_or_for_new_ones_alone() {
    let server = Server::start();
    let reader = server.user("bob", &[("team-a", Access::Read)]);
    server.create_experiment(&uid(1), "team-a");
    server.create_experiment(&uid(2), "team-b");
    let series = |uid: &str, query: &str| {
        client()
            .get(server.url(&format!("/experiments/{uid}/series?{query}")))
            .bearer_auth(&reader)
            .send()
            .unwrap()
    };
    let empty: Value = series(&uid(1), "name=loss&points=500").json().unwrap();
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["steps"], json!([]));
    let (status, message) = error_of(series(&uid(1), "name=loss&points=1"));
    assert_eq!(
        (status, message.as_str()),
        (400, "points 1 is outside 2..=100000")
    );
    let (status, message) = error_of(series(&uid(1), "name=loss&after=3&points=10"));
    assert_eq!(status, 400);
    assert!(message.starts_with("after takes no points"), "{message}");
    let (status, message) = error_of(series(&uid(1), "name=loss&start=5&stop=5"));
    assert_eq!(
        (status, message.as_str()),
        (400, "start 5 is not below stop 5")
    );
    // Another space's run answers as one that does not exist.
    let hidden = error_of(series(&uid(2), "name=loss"));
    let missing = error_of(series(&uid(3), "name=loss"));
    assert_eq!(hidden.0, 404);
    assert_eq!(
        hidden.1.replace(&uid(2), "?"),
        missing.1.replace(&uid(3), "?")
    );
}

#[test]
fn pages_are_the_app_never_cached_and_every_answer_carries_the_security_headers() {
    let server = Server::start();
    let base = server.url("").trim_end_matches("/api/v1").to_owned();
    let page = client()
        .get(format!("{base}/runs/anything"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
    let policy = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert!(page.text().unwrap().contains("<title>opsml</title>"));

    let stale = client()
        .get(format!("{base}/assets/gone-1234.js"))
        .send()
        .unwrap();
    assert_eq!(stale.status(), 404);
    let posted = client().post(format!("{base}/runs")).send().unwrap();
    assert_eq!(posted.status(), 404);
    let api = client().get(server.url("/no-such-route")).send().unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert_eq!(error_of(api).0, 404);
}

/// `opsml ui` on a SQLite store that also holds a server account.
fn launch() -> (UiLaunch, String, tempfile::TempDir) {
    let (launch, base, dir, _) = launch_with_artifacts();
    (launch, base, dir)
}

/// A PNG's signature and a few bytes, a text and an HTML page that must not run.
const PICTURE: &[u8] = b"\x89PNG\r\n\x1a\n not really a picture";
const PAGE: &[u8] = b"<script>alert(1)</script>";
const NOTES: &str = "notes long enough that a server compresses them on their way\n";

/// `opsml ui` on a SQLite store whose experiment has a picture, a page and a text logged
/// encrypted; the experiment's uid.
fn launch_with_artifacts() -> (UiLaunch, String, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("opsml.db")).unwrap());
    store
        .insert_user(&UserRecord {
            username: "admin".into(),
            password_hash: opsml_server::hash_password("admin password").unwrap(),
            admin: true,
            disabled: false,
        })
        .unwrap();
    let storage: Arc<dyn ArtifactStorage> = Arc::new(LocalStorage::new(dir.path().join("objects")));
    let experiment = uid(7);
    store
        .create_experiment(&NewExperiment {
            uid: experiment.clone(),
            space: "team".to_owned(),
            name: "pictures".to_owned(),
            tags: Vec::new(),
            parent_uid: None,
            compute_environment: opsml_types::ComputeEnvironment::default(),
            opsml_version: "0.1.0".to_owned(),
            username: "ana".to_owned(),
            created_at: Utc::now(),
            lease: Lease::current(),
        })
        .unwrap();
    let records: Arc<dyn Store> = store.clone();
    let artifacts = Artifacts::new(
        records,
        Arc::clone(&storage),
        Arc::new(MasterKey::generate()),
    );
    artifacts
        .log_bytes(&experiment, "plots/loss curve.png", PICTURE)
        .unwrap();
    artifacts
        .log_bytes(&experiment, "report.html", PAGE)
        .unwrap();
    artifacts
        .log_bytes(&experiment, "notes.txt", NOTES.as_bytes())
        .unwrap();
    let address = UiAddress {
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        stop_on_signal: false,
    };
    let launch = UiLaunch::start(store.clone(), store, storage, Some(artifacts), address).unwrap();
    let base = launch.url().split("/?token=").next().unwrap().to_owned();
    (launch, base, dir, experiment)
}

#[test]
fn opsml_ui_shows_pictures_and_text_decrypted_and_runs_nothing_it_serves() {
    let (launch, base, _dir, experiment) = launch_with_artifacts();
    let token = launch.url().split("token=").nth(1).unwrap().to_owned();
    let content = |path: &str, download: bool| {
        client()
            .get(format!(
                "{base}/api/v1/experiments/{experiment}/artifacts/content"
            ))
            .query(&[
                ("path", path),
                ("download", if download { "true" } else { "false" }),
            ])
            .header(COOKIE, with_cookie(&token))
            .send()
            .unwrap()
    };

    let picture = content("plots/loss curve.png", false);
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(
        picture.headers()[CONTENT_DISPOSITION],
        "inline; filename=\"loss_curve.png\""
    );
    assert!(picture.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(picture.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(picture.bytes().unwrap().as_ref(), PICTURE);

    // A page logged as an artifact is a file to save, never a page of this site.
    let page = content("report.html", false);
    assert_eq!(page.headers()[CONTENT_TYPE], "application/octet-stream");
    assert_eq!(page.bytes().unwrap().as_ref(), PAGE);
    let saved = content("notes.txt", true);
    assert_eq!(
        saved.headers()[CONTENT_DISPOSITION],
        "attachment; filename=\"notes.txt\""
    );
    assert_eq!(saved.text().unwrap(), NOTES);

    // A text compressed on its way (as browsers ask) arrives whole.
    let compressed = client()
        .get(format!(
            "{base}/api/v1/experiments/{experiment}/artifacts/content?path=notes.txt"
        ))
        .header(COOKIE, with_cookie(&token))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(compressed.status(), 200);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let bytes = compressed.bytes().expect("the whole compressed body");
    assert_eq!(&bytes[..2], b"\x1f\x8b", "a gzip stream");

    let (status, message) = error_of(content("plots", false));
    assert_eq!(status, 404, "a folder is not an artifact");
    assert!(message.contains("\"plots\""), "{message}");
    let (status, message) = error_of(content("../../etc/passwd", false));
    assert_eq!(status, 400, "{message}");
    let stranger = client()
        .get(format!(
            "{base}/api/v1/experiments/{experiment}/artifacts/content?path=notes.txt"
        ))
        .send()
        .unwrap();
    assert_eq!(stranger.status(), 401);
}

#[test]
fn a_server_without_the_key_says_how_to_download_and_decrypt() {
    let server = Server::start();
    server.user("alice", &[("team-a", Access::Read)]);
    server.create_experiment(&uid(1), "team-a");
    server.create_experiment(&uid(2), "team-b");
    let client_side = Artifacts::new(
        Arc::clone(&server.store),
        Arc::clone(&server.storage),
        Arc::new(MasterKey::generate()),
    );
    for n in [1, 2] {
        client_side.log_bytes(&uid(n), "a.txt", b"secret").unwrap();
    }
    let (session, _) = ui_login(&server, "alice");
    let content = |n: u32| {
        client()
            .get(server.url(&format!(
                "/experiments/{}/artifacts/content?path=a.txt",
                uid(n)
            )))
            .header(COOKIE, with_cookie(&session))
            .send()
            .unwrap()
    };
    let (status, own) = error_of(content(1));
    assert_eq!(status, 409);
    assert!(
        own.contains(&format!("opsml experiments download {}", uid(1))),
        "{own}"
    );
    // Another space's experiment: the answer of one that does not exist.
    let (status, other) = error_of(content(2));
    assert_eq!(status, 404);
    assert!(!other.contains("download"), "{other}");
}

#[test]
fn opsml_ui_takes_its_launch_token_alone_and_moves_it_into_the_cookie() {
    let (launch, base, _dir) = launch();
    let token = launch.url().split("token=").nth(1).unwrap().to_owned();

    let wrong = client()
        .get(format!("{base}/?token=opsml_wrong"))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get(SET_COOKIE).is_none());

    let opened = client()
        .get(format!("{base}/runs/some-uid?token={token}"))
        .send()
        .unwrap();
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers()[LOCATION], "/runs/some-uid");
    let session = session_of(&opened);
    assert_eq!(session, token);

    let table = client()
        .get(format!("{base}/api/v1/runs"))
        .header(COOKIE, with_cookie(&session))
        .send()
        .unwrap();
    assert_eq!(table.status(), 200);
    let who: Value = client()
        .get(format!("{base}/api/v1/ui/session"))
        .header(COOKIE, with_cookie(&session))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(who["local"], true);

    // Without the token, or with a server account's, nothing is read.
    let none = client().get(format!("{base}/api/v1/runs")).send().unwrap();
    let body: Value = none.json().unwrap();
    assert_eq!(body["error"]["code"], "launch_token_required");
    let login = client()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({ "username": "admin", "password": "admin password" }))
        .send()
        .unwrap();
    assert_eq!(login.status(), 400, "no account logs in to `opsml ui`");
    let ui_login = client()
        .post(format!("{base}/api/v1/ui/login"))
        .json(&json!({ "username": "admin", "password": "admin password" }))
        .send()
        .unwrap();
    assert_eq!(ui_login.status(), 400);

    launch.stop().unwrap();
    assert!(client().get(format!("{base}/healthz")).send().is_err());
}

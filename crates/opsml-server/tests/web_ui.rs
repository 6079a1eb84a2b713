//! The web UI's side of the server: the session cookie (HttpOnly, SameSite=Strict) and the
//! CSRF token every change made with it needs, the runs table and chart routes under the
//! same permissions as the rest of the API, the app's pages and files with their security
//! headers, and `opsml ui`'s launch token, the only credential it takes.

mod common;

use std::sync::Arc;

use common::{error_of, uid, Server};
use opsml_registry::{Access, AccountStore, LocalStorage, SqliteStore, UserRecord};
use opsml_server::{UiAddress, UiLaunch};
use reqwest::blocking::{Client, Response};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
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
    let storage = Arc::new(LocalStorage::new(dir.path().join("objects")));
    let address = UiAddress {
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        stop_on_signal: false,
    };
    let launch = UiLaunch::start(store.clone(), store, storage, address).unwrap();
    let base = launch.url().split("/?token=").next().unwrap().to_owned();
    (launch, base, dir)
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

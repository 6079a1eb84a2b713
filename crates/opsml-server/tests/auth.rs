//! Authentication and per-space permissions, route by route: no token or a bad token gets
//! 401, a user without the right access gets 403 — or 404, as for a uid that does not
//! exist, where it may not even read the experiment — and learns nothing of other spaces,
//! and a refused request changes nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use common::{error_of, new_experiment, uid, Server};
use opsml_registry::Access;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::Method;
use serde_json::{json, Value};

struct Team {
    server: Server,
    writer: String,
    reader: String,
    outsider: String,
}

/// `alice` writes team-a, `bob` reads team-a, `carol` has no space; the admin created one
/// experiment in team-a (`uid(1)`) and one in team-b (`uid(2)`).
fn team() -> Team {
    let server = Server::start();
    let writer = server.user("alice", &[("team-a", Access::Write)]);
    let reader = server.user("bob", &[("team-a", Access::Read)]);
    let outsider = server.user("carol", &[]);
    for (n, space) in [(1, "team-a"), (2, "team-b")] {
        server.create_experiment(&uid(n), space);
    }
    Team {
        server,
        writer,
        reader,
        outsider,
    }
}

impl Team {
    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = Client::new().request(method, self.server.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let request = self.request(method, path, token);
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
        .unwrap()
    }
}

/// Uids of the experiments a listing or search answered.
fn uids(response: Response) -> Vec<String> {
    assert_eq!(response.status(), 200);
    let cards: Vec<Value> = response.json().unwrap();
    let mut uids: Vec<String> = cards
        .iter()
        .map(|c| c["uid"].as_str().unwrap().to_owned())
        .collect();
    uids.sort();
    uids
}

/// An object id of the tests (objects are addressed by UUID).
const OBJECT: &str = "01a21900-0000-7000-8000-00000000abcd";

/// Every authenticated route, with a body where it needs one.
fn routes() -> Vec<(Method, String, Option<Value>)> {
    let one = format!("/experiments/{}", uid(1));
    let lease = json!({ "host": "h", "pid": 1, "started": 1 });
    let mut card = new_experiment(&uid(1), "team-a", "run");
    card["version"] = json!("0.1.0");
    card["status"] = json!("failed");
    card["tags"] = json!(["changed"]);
    card["ended_at"] = json!(null);
    card["experimentcard_uids"] = json!([]);
    card["compute_environment"] = json!({});
    card["username"] = json!("x");
    card["metadata"] = json!({});
    let mut routes = vec![
        (
            Method::POST,
            "/experiments".into(),
            Some(new_experiment(&uid(3), "team-a", "run")),
        ),
        (Method::GET, "/experiments".into(), None),
        (Method::POST, "/experiments/search".into(), Some(json!({}))),
        (
            Method::GET,
            "/experiments/find?space=team-a&name=run".into(),
            None,
        ),
        (Method::GET, "/experiments/running".into(), None),
        (Method::GET, one.clone(), None),
        (Method::PUT, one.clone(), Some(card)),
        (Method::DELETE, one.clone(), None),
        (Method::POST, format!("{one}/claim"), Some(lease.clone())),
        (
            Method::PUT,
            format!("{one}/status"),
            Some(json!({ "status": "failed", "ended_at": null })),
        ),
        (Method::PUT, format!("{one}/metadata"), Some(json!({}))),
        (
            Method::POST,
            format!("{one}/killed"),
            Some(json!({ "uid": uid(1), "lease": null, "heartbeat_at": null, "writers": [] })),
        ),
        (Method::GET, format!("{one}/parameters"), None),
        (Method::GET, format!("{one}/metrics"), None),
        (Method::GET, format!("{one}/hardware"), None),
        (Method::GET, format!("{one}/summaries"), None),
        (Method::GET, format!("{one}/series?name=loss"), None),
        (Method::GET, "/runs".into(), None),
        (Method::GET, "/ui/session".into(), None),
        (
            Method::POST,
            format!("{one}/batches"),
            Some(json!({
                "writer_id": "w1",
                "seq": 1,
                "lease": lease,
                "names": ["loss"],
                "points": {
                    "name_ids": [0], "steps": [0], "values": [1.0],
                    "timestamps": [null], "created_at": [0],
                },
            })),
        ),
        (Method::GET, format!("{one}/key"), None),
        (
            Method::POST,
            format!("{one}/key"),
            Some(json!({ "wrapped": "AAAA" })),
        ),
        (Method::GET, format!("{one}/artifacts"), None),
        (Method::POST, format!("{one}/artifacts"), Some(json!([]))),
        (Method::DELETE, format!("{one}/objects"), None),
        (
            Method::PUT,
            format!("{one}/objects/{OBJECT}"),
            Some(json!("bytes")),
        ),
        (Method::GET, format!("{one}/objects/{OBJECT}"), None),
        (Method::GET, format!("{one}/objects/{OBJECT}/url"), None),
        (Method::DELETE, format!("{one}/objects/{OBJECT}"), None),
        (
            Method::POST,
            "/users".into(),
            Some(json!({ "username": "eve", "password": "eve password" })),
        ),
        (
            Method::PUT,
            "/users/carol/grants/team-a".into(),
            Some(json!({ "access": "write" })),
        ),
        (Method::DELETE, LOGOUT.into(), None),
        (Method::POST, UI_LOGOUT.into(), None),
    ];
    routes.extend(upload_routes(&one));
    routes.extend(admin_routes());
    routes
}

/// Logging out: any user may, with its own token.
const LOGOUT: &str = "/auth/token";

/// Logging out of the web UI, as [`LOGOUT`].
const UI_LOGOUT: &str = "/ui/logout";

/// The routes that take access away, for admins only; each aims at a user with something to
/// lose.
fn admin_routes() -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/users".into(), None),
        (Method::DELETE, "/users/carol".into(), None),
        (Method::POST, "/users/carol/disable".into(), None),
        (Method::POST, "/users/carol/enable".into(), None),
        (Method::DELETE, "/users/carol/tokens".into(), None),
        (Method::DELETE, "/users/alice/grants/team-a".into(), None),
    ]
}

/// Asserts that the users are as `team()` made them: all there, enabled, with their grants
/// and tokens.
fn assert_users_untouched(team: &Team) {
    let accounts = &team.server.accounts;
    for name in ["alice", "bob", "carol"] {
        let user = accounts.user(name).unwrap().expect(name);
        assert!(!user.disabled, "{name} was disabled");
    }
    assert!(accounts.user("eve").unwrap().is_none());
    assert_eq!(
        accounts.grants("alice").unwrap(),
        [("team-a".to_owned(), Access::Write)]
    );
    assert!(accounts.grants("carol").unwrap().is_empty());
    for token in [&team.writer, &team.reader, &team.outsider] {
        let listed = team.send(Method::GET, "/experiments", Some(token), None);
        assert_eq!(listed.status(), 200, "a token was revoked");
    }
}

/// The routes of uploads that skip the server.
fn upload_routes(one: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (
            Method::GET,
            format!("{one}/objects/{OBJECT}/upload-url"),
            None,
        ),
        (
            Method::POST,
            format!("{one}/objects/{OBJECT}/multipart"),
            None,
        ),
        (
            Method::POST,
            format!("{one}/objects/{OBJECT}/multipart/part-urls"),
            Some(json!({ "upload_id": "u", "parts": [1] })),
        ),
        (
            Method::POST,
            format!("{one}/objects/{OBJECT}/multipart/complete"),
            Some(json!({ "upload_id": "u", "etags": ["e"] })),
        ),
        (
            Method::POST,
            format!("{one}/objects/{OBJECT}/multipart/abort"),
            Some(json!({ "upload_id": "u" })),
        ),
    ]
}

/// Asserts that experiment 1 is as `team()` made it: nothing logged, stored or changed.
fn assert_untouched(team: &Team) {
    let store = &team.server.store;
    let card = store.get_experiment(&uid(1)).unwrap().unwrap();
    assert_eq!(card.status, opsml_types::Status::Running);
    assert_eq!(card.tags, ["baseline"]);
    assert!(store.read_metrics(&uid(1), None).unwrap().is_empty());
    assert!(store.wrapped_data_key(&uid(1)).unwrap().is_none());
    assert!(!team.server.objects_dir().exists(), "no object was stored");
}

#[test]
fn every_route_needs_a_valid_token() {
    let team = team();
    for (method, path, body) in routes() {
        for token in [None, Some("opsml_not-a-token"), Some("")] {
            let response = team.send(method.clone(), &path, token, body.clone());
            assert_eq!(
                response
                    .headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap()),
                Some("Bearer"),
                "{method} {path}"
            );
            let (status, _) = error_of(response);
            assert_eq!(status, 401, "{method} {path} with {token:?}");
        }
    }
    // Nothing was created, changed or deleted.
    let all = uids(
        team.server
            .as_admin(Client::new().get(team.server.url("/experiments")))
            .send()
            .unwrap(),
    );
    assert_eq!(all, [uid(1), uid(2)]);
    assert_untouched(&team);
    assert_users_untouched(&team);
    let login = Client::new()
        .post(team.server.url("/auth/token"))
        .json(&json!({ "username": "eve", "password": "eve password" }))
        .send()
        .unwrap();
    assert_eq!(login.status(), 401, "eve was not created");
}

#[test]
fn tokens_need_the_right_password_and_say_nothing_about_which_part_was_wrong() {
    let team = team();
    let attempt = |username: &str, password: &str| {
        error_of(
            Client::new()
                .post(team.server.url("/auth/token"))
                .json(&json!({ "username": username, "password": password }))
                .send()
                .unwrap(),
        )
    };
    let wrong_password = attempt("alice", "not alice's password");
    let unknown_user = attempt("mallory", "alice password");
    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password, unknown_user);
}

#[test]
fn guesses_sent_all_at_once_get_no_more_tries() {
    let team = team();
    let url = team.server.url("/auth/token");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let guesses: Vec<_> = (0..32)
            .map(|guess| {
                let url = &url;
                scope.spawn(move || {
                    Client::new()
                        .post(url)
                        .json(&json!({ "username": "alice", "password": format!("guess {guess}") }))
                        .send()
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        guesses.into_iter().map(|g| g.join().unwrap()).collect()
    });
    let tried = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(tried + refused, 32, "{statuses:?}");
    // Five failures lock the name; at most one verification per core was already under way.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(tried <= 5 + cores, "{tried} guesses were checked");
}

#[test]
fn a_username_guessed_at_is_locked_for_a_while_and_others_are_not() {
    let team = team();
    let attempt = |username: &str, password: &str| {
        Client::new()
            .post(team.server.url("/auth/token"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .unwrap()
    };
    for guess in 0..5 {
        assert_eq!(attempt("alice", &format!("guess {guess}")).status(), 401);
        assert_eq!(attempt("mallory", &format!("guess {guess}")).status(), 401);
    }
    // Even the right password waits now, and an unknown user is told the same.
    let locked = attempt("alice", "alice password");
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=31).contains(&retry_after), "{retry_after}");
    let (status, message) = error_of(locked);
    assert_eq!(status, 429);
    assert!(message.contains("try again in"), "{message}");
    assert_eq!(attempt("mallory", "anything").status(), 429);
    // Tokens already issued still work, and other users log in.
    let listed = team.send(Method::GET, "/experiments", Some(&team.writer), None);
    assert_eq!(listed.status(), 200);
    assert_eq!(attempt("bob", "bob password").status(), 200);
}

/// The answer to `method path` with `body` as a status and the raw error body.
fn raw_answer(
    team: &Team,
    method: &Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String) {
    let response = team.send(method.clone(), path, Some(token), body);
    (response.status().as_u16(), response.text().unwrap())
}

#[test]
fn users_without_access_are_refused_on_every_route_and_change_nothing() {
    let team = team();
    let one = format!("/experiments/{}", uid(1));
    for (method, path, body) in routes() {
        // The outsider may touch nothing; the reader may not write, nor manage users.
        // Listings answer everyone, with what each may see; anyone may log out.
        let logout = (method == Method::DELETE && path == LOGOUT)
            || (method == Method::POST && path == UI_LOGOUT);
        let outsider_allowed = logout
            || matches!(
                (method.as_str(), path.as_str()),
                (
                    "GET",
                    "/experiments" | "/experiments/running" | "/runs" | "/ui/session"
                ) | ("POST", "/experiments/search")
            );
        if path.starts_with(&one) {
            // An experiment it may not read answers as a uid that does not exist, byte for
            // byte but the uid.
            let answer = raw_answer(&team, &method, &path, &team.outsider, body.clone());
            let unknown = |text: &str| text.replace(&uid(1), &uid(99));
            let body_elsewhere = body
                .as_ref()
                .map(|b| serde_json::from_str::<Value>(&unknown(&b.to_string())).unwrap());
            let elsewhere = raw_answer(
                &team,
                &method,
                &unknown(&path),
                &team.outsider,
                body_elsewhere,
            );
            assert_eq!(answer.0, 404, "outsider: {method} {path}: {}", answer.1);
            assert_eq!(
                (answer.0, unknown(&answer.1)),
                elsewhere,
                "outsider: {method} {path}"
            );
        } else if !outsider_allowed {
            let (status, message) =
                error_of(team.send(method.clone(), &path, Some(&team.outsider), body.clone()));
            assert_eq!(status, 403, "outsider: {method} {path}");
            assert!(!message.contains("team-b"), "{message}");
        }
        // An upload URL writes, though it is got with GET; users are for admins only.
        let reader_allowed = logout
            || (!path.starts_with("/users")
                && ((method == Method::GET && !path.ends_with("/upload-url"))
                    || path == "/experiments/search"));
        if !reader_allowed {
            let (status, _) =
                error_of(team.send(method.clone(), &path, Some(&team.reader), body.clone()));
            assert_eq!(status, 403, "reader: {method} {path}");
        }
    }
    let all = uids(
        team.server
            .as_admin(Client::new().get(team.server.url("/experiments")))
            .send()
            .unwrap(),
    );
    assert_eq!(all, [uid(1), uid(2)], "nothing created or deleted");
    assert_untouched(&team);
    assert_users_untouched(&team);
}

#[test]
fn listings_and_searches_show_only_the_spaces_a_user_may_read() {
    let team = team();
    let list = |token: &str| uids(team.send(Method::GET, "/experiments", Some(token), None));
    let search = |token: &str| {
        uids(team.send(
            Method::POST,
            "/experiments/search",
            Some(token),
            Some(json!({})),
        ))
    };
    for token in [&team.reader, &team.writer] {
        assert_eq!(list(token), [uid(1)]);
        assert_eq!(search(token), [uid(1)]);
    }
    assert!(list(&team.outsider).is_empty());
    assert!(search(&team.outsider).is_empty());

    // Asking for another space by name is refused, not answered with an empty list.
    let (status, _) = error_of(team.send(
        Method::GET,
        "/experiments?space=team-b",
        Some(&team.reader),
        None,
    ));
    assert_eq!(status, 403);
    let (status, _) = error_of(team.send(
        Method::POST,
        "/experiments/search",
        Some(&team.reader),
        Some(json!({ "space": "team-b" })),
    ));
    assert_eq!(status, 403);
    // An experiment of another space by uid: 404, as for a uid that does not exist.
    let (status, message) = error_of(team.send(
        Method::GET,
        &format!("/experiments/{}", uid(2)),
        Some(&team.writer),
        None,
    ));
    assert_eq!(status, 404);
    assert_eq!(message, format!("no experiment with uid {:?}", uid(2)));
}

#[test]
fn users_with_access_are_served() {
    let team = team();
    let card = |token: &str| {
        team.send(
            Method::GET,
            &format!("/experiments/{}", uid(1)),
            Some(token),
            None,
        )
    };
    assert_eq!(card(&team.reader).status(), 200);
    assert_eq!(card(&team.writer).status(), 200);
    for (method, path, _) in routes() {
        // (The object itself does not exist: 404 after the check.)
        if method == Method::GET
            && !path.ends_with(OBJECT)
            && !path.ends_with("/upload-url")
            && !path.starts_with("/users")
        {
            let response = team.send(method, &path, Some(&team.reader), None);
            assert_eq!(response.status(), 200, "reader: GET {path}");
        }
    }
    let created = team.send(
        Method::POST,
        "/experiments",
        Some(&team.writer),
        Some(new_experiment(&uid(3), "team-a", "run")),
    );
    assert_eq!(created.status(), 201);
    let deleted = team.send(
        Method::DELETE,
        &format!("/experiments/{}", uid(3)),
        Some(&team.writer),
        None,
    );
    assert_eq!(deleted.status(), 204);

    // A grant given by the admin takes effect for the next request of that user.
    let granted = team.send(
        Method::PUT,
        "/users/carol/grants/team-b",
        Some(&team.server.token(common::ADMIN, common::ADMIN_PASSWORD)),
        Some(json!({ "access": "read" })),
    );
    assert_eq!(granted.status(), 204);
    assert_eq!(
        uids(team.send(Method::GET, "/experiments", Some(&team.outsider), None)),
        [uid(2)]
    );
}

#[test]
fn a_child_needs_a_parent_the_user_may_write() {
    let team = team();
    let child = |n: u32, parent: &str| {
        let mut body = new_experiment(&uid(n), "team-a", "child");
        body["parent_uid"] = json!(parent);
        team.send(Method::POST, "/experiments", Some(&team.writer), Some(body))
    };
    // A parent the user may not read is one that does not exist, as far as it may know.
    let (status, message) = error_of(child(10, &uid(2)));
    assert_eq!(status, 404);
    assert_eq!(message, format!("no experiment with uid {:?}", uid(2)));
    assert_eq!(child(11, &uid(1)).status(), 201);
    let parent: Value = team
        .server
        .as_admin(Client::new().get(team.server.url(&format!("/experiments/{}", uid(2)))))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        parent["experimentcard_uids"],
        json!([]),
        "no child was added"
    );
}

/// The (path template, method) pairs of the OpenAPI document.
fn documented(team: &Team) -> Vec<(String, Method)> {
    let response = team.send(Method::GET, "/openapi.json", None, None);
    assert_eq!(response.status(), 200, "the document needs no token");
    let doc: Value = response.json().unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_refs_resolve(&doc, &doc);
    let mut pairs = Vec::new();
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            pairs.push((path.clone(), method.to_uppercase().parse().unwrap()));
            // Clients generated from the document name their functions after these.
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                operation_ids.insert(id.to_owned()),
                "operationId {id} is given twice"
            );
        }
    }
    pairs
}

/// Fails on a `$ref` of `doc` (met in `value`) that names nothing in it: a schema or answer
/// described by name but never added to the components.
fn assert_refs_resolve(doc: &Value, value: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target.strip_prefix('#').unwrap_or(target);
                assert!(
                    doc.pointer(pointer).is_some(),
                    "{target} is not in the document"
                );
            }
            map.values().for_each(|v| assert_refs_resolve(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| assert_refs_resolve(doc, v)),
        _ => {}
    }
}

/// Whether a concrete path matches a template with `{...}` segments.
fn matches_template(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap();
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

#[test]
fn the_openapi_document_describes_every_route_and_only_real_ones() {
    let team = team();
    let documented = documented(&team);
    for (method, path, _) in routes() {
        let full = format!("/api/v1{path}");
        assert!(
            documented
                .iter()
                .any(|(t, m)| *m == method && matches_template(t, &full)),
            "{method} {full} is not in the OpenAPI document"
        );
    }
    let admin = team.server.token(common::ADMIN, common::ADMIN_PASSWORD);
    for (template, method) in documented {
        let path = template
            .replace("{uid}", &uid(2))
            .replace("{id}", OBJECT)
            .replace("{username}", "carol")
            .replace("{space}", "team-b");
        // Logging out revokes the token it is sent with: that one is not the admin's.
        let logs_out = (method == Method::DELETE && template == format!("/api/v1{LOGOUT}"))
            || (method == Method::POST && template == format!("/api/v1{UI_LOGOUT}"));
        let token = if logs_out {
            team.server.token(common::ADMIN, common::ADMIN_PASSWORD)
        } else {
            admin.clone()
        };
        let response = Client::new()
            .request(method.clone(), format!("{}{path}", team.server.base))
            .bearer_auth(&token)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        // A route that does not exist answers 405, or 404 without the API's error body.
        assert_ne!(status, 405, "{method} {template}");
        assert!(
            status != 404 || text.contains("\"error\""),
            "{method} {template} is documented but not served"
        );
    }
}

#[test]
fn a_card_lists_only_the_children_the_user_may_read() {
    let team = team();
    // The admin puts a child of team-a's experiment into team-b, which bob may not read.
    for (n, space) in [(20, "team-a"), (21, "team-b")] {
        let mut body = new_experiment(&uid(n), space, "child");
        body["parent_uid"] = json!(uid(1));
        let created = team
            .server
            .as_admin(Client::new().post(team.server.url("/experiments")))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let children = |token: &str, path: &str| {
        let card: Value = team
            .send(Method::GET, path, Some(token), None)
            .json()
            .unwrap();
        card["experimentcard_uids"].clone()
    };
    let by_uid = format!("/experiments/{}", uid(1));
    let by_name = "/experiments/find?space=team-a&name=run";
    for path in [by_uid.as_str(), by_name] {
        assert_eq!(children(&team.reader, path), json!([uid(20)]), "{path}");
    }
    let admin = team.server.token(common::ADMIN, common::ADMIN_PASSWORD);
    assert_eq!(children(&admin, &by_uid), json!([uid(20), uid(21)]));
}

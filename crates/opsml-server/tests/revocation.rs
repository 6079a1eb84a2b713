//! Taking access away: admins list, disable, enable and delete users, remove grants and
//! revoke tokens, and users log out. Each takes effect at once on the server that did it,
//! and on the others within the time they trust a token they looked up; an expired token is
//! never honoured. Failed logins lock a username out from the address they came from only,
//! until many more from anywhere lock it everywhere.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{error_of, uid, Server, ADMIN, ADMIN_PASSWORD};
use opsml_registry::Access;
use reqwest::blocking::{Client, Response};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How long another server may keep honouring what was revoked (the server's cache).
const CACHE_PERIOD: Duration = Duration::from_secs(10);

fn send(server: &Server, method: Method, path: &str, token: &str) -> Response {
    Client::new()
        .request(method, server.url(path))
        .bearer_auth(token)
        .send()
        .unwrap()
}

/// Status of a request only a valid token of a user who may read team-a gets 200 for.
fn read_status(server: &Server, token: &str) -> u16 {
    send(
        server,
        Method::GET,
        &format!("/experiments/{}", uid(1)),
        token,
    )
    .status()
    .as_u16()
}

fn admin(server: &Server) -> String {
    server.token(ADMIN, ADMIN_PASSWORD)
}

/// A login as `username` from the loopback `address`.
fn login_from(server: &Server, address: &str, username: &str, password: &str) -> Response {
    let address: IpAddr = address.parse().unwrap();
    Client::builder()
        .local_address(address)
        .build()
        .unwrap()
        .post(server.url("/auth/token"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .unwrap()
}

fn login(server: &Server, username: &str, password: &str) -> Response {
    login_from(server, "127.0.0.1", username, password)
}

/// A server where alice writes team-a, which holds experiment `uid(1)`.
fn team() -> (Server, String) {
    let server = Server::start();
    let alice = server.user("alice", &[("team-a", Access::Write)]);
    server.create_experiment(&uid(1), "team-a");
    (server, alice)
}

#[test]
fn admins_list_users_without_any_secret() {
    let (server, alice) = team();
    server.user("bob", &[]);
    let response = send(&server, Method::GET, "/users", &admin(&server));
    assert_eq!(response.status(), 200);
    let text = response.text().unwrap();
    assert!(!text.contains("argon2") && !text.contains('$'), "{text}");
    assert!(!text.contains(&alice) && !text.contains("opsml_"), "{text}");
    let users: Vec<Value> = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", ADMIN]);
    for user in &users {
        let mut fields: Vec<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["admin", "created_at", "disabled", "username"],
            "{user}"
        );
        let created: chrono::DateTime<Utc> =
            serde_json::from_value(user["created_at"].clone()).unwrap();
        assert!(created <= Utc::now());
    }
    assert_eq!(users[2]["admin"], true);
    assert_eq!(users[0]["admin"], false);
    assert_eq!(users[0]["disabled"], false);
}

#[test]
fn a_disabled_user_can_neither_use_its_tokens_nor_log_in_until_enabled() {
    let (server, alice) = team();
    let root = admin(&server);
    assert_eq!(read_status(&server, &alice), 200, "cached now");
    let disabled = send(&server, Method::POST, "/users/alice/disable", &root);
    assert_eq!(disabled.status(), 204);
    assert_eq!(read_status(&server, &alice), 401, "at once, cache or not");
    let (status, message) = error_of(login(&server, "alice", "alice password"));
    let wrong = error_of(login(&server, "alice", "not the password"));
    assert_eq!((status, message), wrong, "answered as a wrong password");
    let listed: Vec<Value> = send(&server, Method::GET, "/users", &root).json().unwrap();
    assert_eq!(listed[0]["disabled"], true);

    assert_eq!(
        send(&server, Method::POST, "/users/alice/enable", &root).status(),
        204
    );
    assert_eq!(read_status(&server, &alice), 401, "old tokens stay revoked");
    let again = server.token("alice", "alice password");
    assert_eq!(read_status(&server, &again), 200, "grants were kept");

    let (status, message) = error_of(send(&server, Method::POST, "/users/nobody/disable", &root));
    assert_eq!(status, 404);
    assert_eq!(message, "no user named \"nobody\"");
}

#[test]
fn a_deleted_user_is_gone_with_its_grants_and_tokens() {
    let (server, alice) = team();
    let root = admin(&server);
    assert_eq!(read_status(&server, &alice), 200);
    assert_eq!(
        send(&server, Method::DELETE, "/users/alice", &root).status(),
        204
    );
    assert_eq!(read_status(&server, &alice), 401);
    assert_eq!(login(&server, "alice", "alice password").status(), 401);
    assert!(server.accounts.user("alice").unwrap().is_none());
    let (status, message) = error_of(send(&server, Method::DELETE, "/users/alice", &root));
    assert_eq!((status, message.as_str()), (404, "no user named \"alice\""));

    // A new user of the same name starts with nothing.
    let new_alice = server.user("alice", &[]);
    assert_eq!(read_status(&server, &new_alice), 404);
    assert_eq!(read_status(&server, &alice), 401);
}

#[test]
fn the_last_enabled_admin_is_neither_disabled_nor_deleted() {
    let (server, _) = team();
    let root = admin(&server);
    for (method, path) in [
        (Method::POST, "/users/root/disable"),
        (Method::DELETE, "/users/root"),
    ] {
        let (status, message) = error_of(send(&server, method, path, &root));
        assert_eq!(status, 409, "{path}");
        assert!(
            message.contains("\"root\" is the last enabled admin"),
            "{message}"
        );
    }
    assert_eq!(read_status(&server, &root), 200);

    // With another admin, the first may go; then the other is the last.
    let created = server
        .as_admin(Client::new().post(server.url("/users")))
        .json(&json!({ "username": "ops", "password": "ops password", "admin": true }))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let ops = server.token("ops", "ops password");
    assert_eq!(
        send(&server, Method::POST, "/users/root/disable", &ops).status(),
        204
    );
    assert_eq!(read_status(&server, &root), 401);
    assert_eq!(
        error_of(send(&server, Method::DELETE, "/users/ops", &ops)).0,
        409
    );
}

#[test]
fn revoking_a_users_tokens_ends_every_session_but_not_the_account() {
    let (server, alice) = team();
    let second = server.token("alice", "alice password");
    let root = admin(&server);
    for token in [&alice, &second] {
        assert_eq!(read_status(&server, token), 200);
    }
    let revoked: Value = send(&server, Method::DELETE, "/users/alice/tokens", &root)
        .json()
        .unwrap();
    assert_eq!(revoked, json!({ "revoked": 2 }));
    for token in [&alice, &second] {
        assert_eq!(read_status(&server, token), 401);
    }
    let again = server.token("alice", "alice password");
    assert_eq!(read_status(&server, &again), 200);
    assert_eq!(read_status(&server, &root), 200, "other users keep theirs");

    let (status, message) = error_of(send(&server, Method::DELETE, "/users/nobody/tokens", &root));
    assert_eq!(
        (status, message.as_str()),
        (404, "no user named \"nobody\"")
    );
}

#[test]
fn logging_out_revokes_only_the_token_used() {
    let (server, alice) = team();
    let other = server.token("alice", "alice password");
    assert_eq!(read_status(&server, &alice), 200);
    assert_eq!(
        send(&server, Method::DELETE, "/auth/token", &alice).status(),
        204
    );
    assert_eq!(read_status(&server, &alice), 401);
    assert_eq!(
        send(&server, Method::DELETE, "/auth/token", &alice).status(),
        401
    );
    assert_eq!(read_status(&server, &other), 200);
    // Logging in still needs no token.
    assert_eq!(login(&server, "alice", "alice password").status(), 200);
}

#[test]
fn a_removed_grant_takes_effect_at_once() {
    let (server, alice) = team();
    let root = admin(&server);
    assert_eq!(read_status(&server, &alice), 200);
    let removed = send(&server, Method::DELETE, "/users/alice/grants/team-a", &root);
    assert_eq!(removed.status(), 204);
    assert_eq!(read_status(&server, &alice), 404, "as if it did not exist");
    assert!(server.accounts.grants("alice").unwrap().is_empty());

    let (status, message) = error_of(send(
        &server,
        Method::DELETE,
        "/users/alice/grants/team-a",
        &root,
    ));
    assert_eq!(status, 404);
    assert_eq!(message, "user \"alice\" has no grant on space \"team-a\"");
    let (status, _) = error_of(send(
        &server,
        Method::DELETE,
        "/users/nobody/grants/team-a",
        &root,
    ));
    assert_eq!(status, 404);
}

#[test]
fn a_non_admin_is_refused_alike_whether_the_user_named_exists_or_not() {
    let (server, alice) = team();
    server.user("bob", &[("team-a", Access::Read)]);
    for name in ["bob", "nobody"] {
        for (method, path) in [
            (Method::GET, "/users".to_owned()),
            (Method::DELETE, format!("/users/{name}")),
            (Method::POST, format!("/users/{name}/disable")),
            (Method::POST, format!("/users/{name}/enable")),
            (Method::DELETE, format!("/users/{name}/tokens")),
            (Method::DELETE, format!("/users/{name}/grants/team-a")),
        ] {
            let (status, message) = error_of(send(&server, method.clone(), &path, &alice));
            assert_eq!(status, 403, "{method} {path}");
            assert_eq!(message, "user \"alice\" is not an admin", "{method} {path}");
        }
    }
    let bob = server.accounts.user("bob").unwrap().unwrap();
    assert!(!bob.disabled);
    assert_eq!(
        server.accounts.grants("bob").unwrap(),
        [("team-a".to_owned(), Access::Read)]
    );
    assert_eq!(login(&server, "bob", "bob password").status(), 200);
}

#[test]
fn another_server_drops_a_revoked_token_within_the_cache_period() {
    let (first, alice) = team();
    let second = first.beside();
    assert_eq!(read_status(&second, &alice), 200, "cached by the second");
    let revoked = send(
        &first,
        Method::DELETE,
        "/users/alice/tokens",
        &admin(&first),
    );
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        read_status(&first, &alice),
        401,
        "the first drops it at once"
    );
    let since = Instant::now();
    while read_status(&second, &alice) != 401 {
        assert!(
            since.elapsed() < CACHE_PERIOD + Duration::from_secs(2),
            "the second still honours a token revoked {:?} ago",
            since.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_expired_token_is_not_honoured_from_the_cache() {
    let (server, _) = team();
    // A token that expires a moment from now, put straight into the accounts.
    let token = "opsml_expires-soon";
    let hash = Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    let expires_at = Utc::now() + chrono::Duration::milliseconds(1500);
    server
        .accounts
        .put_token(&hash, "alice", expires_at)
        .unwrap();
    assert_eq!(read_status(&server, token), 200, "cached now");
    let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(left + Duration::from_millis(100));
    assert_eq!(
        read_status(&server, token),
        401,
        "well within the cache period"
    );
}

#[test]
fn failed_logins_from_one_address_do_not_lock_the_user_out_elsewhere() {
    let (server, _) = team();
    for (user, password) in [("alice", "alice password"), (ADMIN, ADMIN_PASSWORD)] {
        for guess in 0..5 {
            let response = login_from(&server, "127.0.0.1", user, &format!("guess {guess}"));
            assert_eq!(response.status(), 401, "{user}");
        }
        // The address that guessed waits, even with the right password...
        let refused = login_from(&server, "127.0.0.1", user, password);
        assert_eq!(refused.status(), 429, "{user}");
        assert!(refused.headers().contains_key("retry-after"));
        // ...but the user logs in from elsewhere.
        let elsewhere = login_from(&server, "127.0.0.2", user, password);
        assert_eq!(elsewhere.status(), 200, "{user}");
        assert_eq!(
            login_from(&server, "127.0.0.1", user, password).status(),
            429,
            "{user}: the lock of the guessing address stays"
        );
    }
}

#[test]
fn guesses_spread_over_many_addresses_lock_the_username_everywhere() {
    let (server, _) = team();
    // Four guesses from each of 25 addresses: none reaches its own bound of five, together
    // they reach the bound of a hundred for the username.
    for n in 0..25 {
        let address = format!("127.0.1.{}", n + 1);
        for guess in 0..4 {
            let response = login_from(&server, &address, "alice", &format!("guess {guess}"));
            assert_eq!(response.status(), 401, "{address}");
        }
    }
    let refused = login_from(&server, "127.0.2.1", "alice", "alice password");
    assert_eq!(refused.status(), 429);
    assert_eq!(
        login_from(&server, "127.0.2.1", "bob", "anything").status(),
        401,
        "other usernames are not locked"
    );
}

/// Every way of taking access away, one after the other, on `server`.
fn take_access_away(server: &Server) {
    let alice = server.user(
        "alice",
        &[("team-a", Access::Write), ("team-b", Access::Read)],
    );
    server.create_experiment(&uid(1), "team-a");
    let root = admin(server);
    let bob = server.user("bob", &[]);
    let status = |method: Method, path: &str| send(server, method, path, &root).status().as_u16();

    let listed: Vec<Value> = send(server, Method::GET, "/users", &root).json().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(status(Method::DELETE, "/users/alice/grants/team-a"), 204);
    assert_eq!(read_status(server, &alice), 404);
    assert_eq!(
        server.accounts.grants("alice").unwrap(),
        [("team-b".to_owned(), Access::Read)]
    );
    assert_eq!(status(Method::POST, "/users/alice/disable"), 204);
    assert_eq!(read_status(server, &alice), 401);
    assert_eq!(login(server, "alice", "alice password").status(), 401);
    assert_eq!(status(Method::POST, "/users/alice/enable"), 204);
    let alice = server.token("alice", "alice password");
    let revoked: Value = send(server, Method::DELETE, "/users/alice/tokens", &root)
        .json()
        .unwrap();
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(read_status(server, &alice), 401);
    assert_eq!(status(Method::DELETE, "/users/alice"), 204);
    assert!(server.accounts.user("alice").unwrap().is_none());
    assert!(server.accounts.grants("alice").unwrap().is_empty());
    assert_eq!(status(Method::POST, "/users/root/disable"), 409);
    assert_eq!(status(Method::DELETE, "/users/root"), 409);
    assert_eq!(
        send(server, Method::DELETE, "/auth/token", &bob).status(),
        204
    );
    assert_eq!(read_status(server, &bob), 401);
    assert_eq!(read_status(server, &root), 200);
}

#[test]
fn access_is_taken_away_on_sqlite() {
    take_access_away(&Server::start());
}

#[test]
fn access_is_taken_away_on_postgres() {
    if let Some(server) = Server::start_postgres() {
        take_access_away(&server);
    }
}

/// Two admins disabling each other at the same moment, again and again: one always stays.
fn admins_disabling_each_other_at_once_leave_one(server: &Server) {
    const PASSWORD: &str = "a long password";
    for name in ["a", "b"] {
        let created = server
            .as_admin(Client::new().post(server.url("/users")))
            .json(&json!({ "username": name, "password": PASSWORD, "admin": true }))
            .send()
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let root = admin(server);
    assert_eq!(
        send(server, Method::POST, "/users/root/disable", &root).status(),
        204
    );
    for round in 0..10 {
        for name in ["a", "b"] {
            server.accounts.set_disabled(name, false).unwrap();
        }
        let tokens = ["a", "b"].map(|name| server.token(name, PASSWORD));
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            [(&tokens[0], "b"), (&tokens[1], "a")]
                .map(|(token, other)| {
                    let path = format!("/users/{other}/disable");
                    scope.spawn(move || send(server, Method::POST, &path, token).status().as_u16())
                })
                .map(|thread| thread.join().unwrap())
                .to_vec()
        });
        let enabled = server
            .accounts
            .users()
            .unwrap()
            .into_iter()
            .filter(|u| u.admin && !u.disabled)
            .count();
        assert_eq!(enabled, 1, "round {round}: {statuses:?}");
    }
}

#[test]
fn admins_disabling_each_other_at_once_leave_one_on_sqlite() {
    admins_disabling_each_other_at_once_leave_one(&Server::start());
}

#[test]
fn admins_disabling_each_other_at_once_leave_one_on_postgres() {
    if let Some(server) = Server::start_postgres() {
        admins_disabling_each_other_at_once_leave_one(&server);
    }
}

//! What a client must not be able to do to the server: hold its memory or its connections
//! with slow or oversized requests, make it answer its own mistakes as store failures (503,
//! which clients retry for ever), tell another space's experiments from ones that do not
//! exist, change a card it may only read, or store a time its readers cannot hold.
//!
//! Tests named `..._on_postgres` run on the database of `OPSML_TEST_POSTGRES_URI`
//! (`scripts/start-postgres.sh` prints it) and are skipped, after saying so, without it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{error_of, new_experiment, uid, Server};
use opsml_registry::Access;
use opsml_server::ServeLimits;
use reqwest::blocking::Client;
use serde_json::{json, Value};

/// A server whose clients must send each part of a request within a second.
fn impatient_server() -> Server {
    Server::start_with(ServeLimits {
        read_timeout: Duration::from_secs(1),
        ..ServeLimits::default()
    })
}

/// A raw connection to the server, whose reads wait at most 200 ms.
fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    stream
}

/// What the server sent on `stream` until it closed it or sent a whole answer, or `None`
/// if it did neither before `deadline`. `trickle` is called between reads (to keep sending
/// slowly); its error means the server closed the connection.
fn until_answered_or_closed(
    stream: &mut TcpStream,
    deadline: Instant,
    mut trickle: impl FnMut(&mut TcpStream) -> std::io::Result<()>,
) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(String::from_utf8_lossy(&received).into_owned()),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(String::from_utf8_lossy(&received).into_owned()),
        }
        let text = String::from_utf8_lossy(&received).into_owned();
        if is_whole_answer(&text) {
            return Some(text);
        }
        if trickle(stream).is_err() {
            return Some(text);
        }
    }
    None
}

/// Whether `text` holds a response's head and as much body as its length says.
fn is_whole_answer(text: &str) -> bool {
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

#[test]
fn a_login_body_over_the_small_limit_is_refused_without_being_read_whole() {
    let server = Server::start();
    let mut stream = connect(&server);
    // 16 MiB announced, 64 KiB sent, and then nothing: the answer must not wait for the rest.
    let head = format!(
        "POST /api/v1/auth/token HTTP/1.1\r\nhost: opsml\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        16 << 20
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b' '; 64 << 10]).unwrap();
    let answer = until_answered_or_closed(
        &mut stream,
        Instant::now() + Duration::from_secs(10),
        |_| Ok(()),
    )
    .expect("the server answers without the rest of the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");

    // Through a client too: just over the bound of each kind of route, and bulk routes
    // keep their larger bound.
    let admin = server.admin_client();
    let padded = |bytes: usize| format!("{{\"username\": \"{}\"}}", "x".repeat(bytes));
    let over_small = Client::new()
        .post(server.url("/auth/token"))
        .header("content-type", "application/json")
        .body(padded(opsml_server::SMALL_BODY_BYTES))
        .send()
        .unwrap();
    assert_eq!(error_of(over_small).0, 413);
    let over_card = admin
        .post(server.url("/experiments"))
        .header("content-type", "application/json")
        .body(padded(opsml_server::CARD_BODY_BYTES))
        .send()
        .unwrap();
    assert_eq!(error_of(over_card).0, 413);
    let long_filter = format!("name like '{}%'", "x".repeat(1 << 20));
    let search = admin
        .post(server.url("/experiments/search"))
        .json(&json!({ "filter": long_filter }))
        .send()
        .unwrap();
    assert_eq!(search.status(), 200, "a search may be large");
}

#[test]
fn a_connection_that_sends_its_headers_slowly_is_closed_within_the_timeout() {
    let server = impatient_server();
    let mut stream = connect(&server);
    stream
        .write_all(b"POST /api/v1/auth/token HTTP/1.1\r\nhost: opsml\r\n")
        .unwrap();
    let started = Instant::now();
    let mut last_line = Instant::now();
    let answer =
        until_answered_or_closed(&mut stream, started + Duration::from_secs(10), |stream| {
            // One header line every 300 ms, for ever.
            if last_line.elapsed() >= Duration::from_millis(300) {
                last_line = Instant::now();
                stream.write_all(b"x-slow: still coming\r\n")?;
            }
            Ok(())
        });
    let answer = answer.expect("the server closes the connection");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "closed after {:?}",
        started.elapsed()
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[test]
fn a_body_that_stops_coming_is_cut_off_within_the_timeout() {
    let server = impatient_server();
    let mut stream = connect(&server);
    stream
        .write_all(
            b"POST /api/v1/auth/token HTTP/1.1\r\nhost: opsml\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"username\"",
        )
        .unwrap();
    let started = Instant::now();
    let answer =
        until_answered_or_closed(&mut stream, started + Duration::from_secs(10), |_| Ok(()))
            .expect("the server gives up on the body");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cut off after {:?}",
        started.elapsed()
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

#[test]
fn connections_beyond_the_bound_wait_until_one_closes() {
    let server = Server::start_with(ServeLimits {
        max_connections: 2,
        ..ServeLimits::default()
    });
    // Let the connection the start logged in with close.
    std::thread::sleep(Duration::from_millis(500));
    let health = format!("{}/healthz", server.base);
    let quick = || {
        Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap()
    };
    assert_eq!(quick().get(&health).send().unwrap().status(), 200);
    std::thread::sleep(Duration::from_millis(300));

    let idle = [connect(&server), connect(&server)];
    std::thread::sleep(Duration::from_millis(300));
    let refused = quick().get(&health).send();
    assert!(
        refused.as_ref().is_err_and(reqwest::Error::is_timeout),
        "a third connection waits: {refused:?}"
    );
    drop(idle);
    let answered = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(&health)
        .send()
        .unwrap();
    assert_eq!(answered.status(), 200, "served once the others closed");
}

/// The status and error code of a response.
fn status_and_code(response: reqwest::blocking::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Searches, listings and uids that no store can run are the client's mistake: 400 naming
/// the bound or the character, on either store.
fn client_mistakes_are_400(server: &Server) {
    let admin = server.admin_client();
    server.create_experiment(&uid(1), "team");
    let search = |body: Value| {
        status_and_code(
            admin
                .post(server.url("/experiments/search"))
                .json(&body)
                .send()
                .unwrap(),
        )
    };
    let terms: Vec<String> = (0..1_000).map(|n| format!("params.p{n} = {n}")).collect();
    let (status, _, message) = search(json!({ "filter": terms.join(" or ") }));
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("200 conditions"), "{message}");

    let items: Vec<String> = (0..40_000).map(|n| n.to_string()).collect();
    let (status, _, message) =
        search(json!({ "filter": format!("params.lr in ({})", items.join(", ")) }));
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("1000 values"), "{message}");

    // Trees, as clients send them, are held to the same bounds.
    let tree = opsml_query::parse_filter(&terms[..200].join(" or ")).unwrap();
    let mut tree = serde_json::to_value(&tree).unwrap();
    let extra = tree["Or"][0].clone();
    for _ in 0..800 {
        tree["Or"].as_array_mut().unwrap().push(extra.clone());
    }
    let (status, _, message) = search(json!({ "tree": tree }));
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("200 conditions"), "{message}");

    let (status, _, message) = search(json!({ "filter": "name = 'a\u{0}b'" }));
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("NUL"), "{message}");
    let nul_tree = opsml_query::parse_filter("name = 'placeholder'").unwrap();
    let nul_tree = serde_json::to_string(&nul_tree)
        .unwrap()
        .replace("placeholder", "a\\u0000b");
    let (status, _, message) =
        search(json!({ "tree": serde_json::from_str::<Value>(&nul_tree).unwrap() }));
    assert_eq!(status, 400, "{message}");
    assert!(message.contains(r#""a\0b""#), "{message}");
    let (status, _, message) = search(json!({ "space": "te\u{0}am" }));
    assert_eq!(status, 400, "{message}");

    let tags: Vec<String> = (0..1_000).map(|n| format!("tag=t{n}")).collect();
    let (status, _, message) = status_and_code(
        admin
            .get(format!("{}?{}", server.url("/experiments"), tags.join("&")))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("64 tags"), "{message}");

    for path in [
        "/experiments/a%00b".to_owned(),
        format!("/experiments/{}/parameters?name=l%00r", uid(1)),
        "/experiments/find?space=team&name=r%00un".to_owned(),
    ] {
        let (status, _, message) = status_and_code(admin.get(server.url(&path)).send().unwrap());
        assert_eq!(status, 400, "{path}: {message}");
        assert!(message.contains("NUL"), "{message}");
    }
    let mut new = new_experiment(&uid(2), "team", "run");
    new["opsml_version"] = json!("0.1\u{0}");
    let (status, _, message) = status_and_code(
        admin
            .post(server.url("/experiments"))
            .json(&new)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400, "{message}");
    assert!(message.contains(r#"opsml_version "0.1\0""#), "{message}");

    // Logging in needs no login: a NUL in the name is refused before the store sees it.
    for (username, password) in [("ro\u{0}ot", "anything"), ("root", "pass\u{0}word")] {
        let (status, _, message) = status_and_code(
            Client::new()
                .post(server.url("/auth/token"))
                .json(&json!({ "username": username, "password": password }))
                .send()
                .unwrap(),
        );
        assert_eq!(status, 400, "{message}");
        assert!(message.contains("NUL"), "{message}");
    }
}

#[test]
fn client_mistakes_are_answered_400_on_sqlite() {
    client_mistakes_are_400(&Server::start());
}

#[test]
fn client_mistakes_are_answered_400_on_postgres() {
    let Some(server) = Server::start_postgres() else {
        return;
    };
    client_mistakes_are_400(&server);
}

/// Twenty creates of one uid at once: one is created, every other is told the uid is taken.
fn concurrent_creates_of_one_uid_conflict(server: &Server) {
    let admin = server.admin_client();
    let statuses: Vec<(u16, String, String)> = std::thread::scope(|scope| {
        let creates: Vec<_> = (0..20)
            .map(|n| {
                let admin = admin.clone();
                let url = server.url("/experiments");
                scope.spawn(move || {
                    status_and_code(
                        admin
                            .post(url)
                            .json(&new_experiment(&uid(7), "team", &format!("run{n}")))
                            .send()
                            .unwrap(),
                    )
                })
            })
            .collect();
        creates.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let created = statuses.iter().filter(|(s, ..)| *s == 201).count();
    let taken = statuses
        .iter()
        .filter(|(s, code, _)| *s == 409 && code == "uid_taken")
        .count();
    assert_eq!((created, taken), (1, 19), "{statuses:?}");
}

#[test]
fn concurrent_creates_of_one_uid_are_conflicts_on_sqlite() {
    concurrent_creates_of_one_uid_conflict(&Server::start());
}

#[test]
fn concurrent_creates_of_one_uid_are_conflicts_on_postgres() {
    let Some(server) = Server::start_postgres() else {
        return;
    };
    concurrent_creates_of_one_uid_conflict(&server);
}

/// PostgreSQL takes at most 65,535 values in one statement: a batch with more parameters
/// than that is still stored, not answered as a store failure.
#[test]
fn a_batch_with_more_parameters_than_a_statement_takes_is_stored_on_postgres() {
    let Some(server) = Server::start_postgres() else {
        return;
    };
    server.create_experiment(&uid(1), "team");
    let parameters: Vec<Value> = (0..=u16::MAX)
        .map(|n| json!({ "name": format!("p{n}"), "value": { "type": "int", "value": n } }))
        .collect();
    let response = Client::builder()
        .timeout(Duration::from_mins(5))
        .build()
        .unwrap()
        .post(server.url(&format!("/experiments/{}/batches", uid(1))))
        .bearer_auth(server.token(common::ADMIN, common::ADMIN_PASSWORD))
        .json(&json!({
            "writer_id": "01a21900-aaaa-7000-8000-000000000001",
            "seq": 1,
            "lease": { "host": "laptop", "pid": 42, "started": 1 },
            "names": [],
            "parameters": parameters,
        }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let stored = server.store.read_parameters(&uid(1), None).unwrap();
    assert_eq!(stored.len(), usize::from(u16::MAX) + 1);
}

#[test]
fn experiments_the_user_may_not_read_answer_as_ones_that_do_not_exist() {
    let server = Server::start();
    let admin = server.admin_client();
    server.create_experiment(&uid(1), "team-a");
    server.create_experiment(&uid(2), "team-b");
    let reader = server.user("bob", &[("team-a", Access::Read)]);
    let writer = server.user("alice", &[("team-a", Access::Write)]);
    let batch = |seq: u64| {
        json!({
            "writer_id": "01a21900-aaaa-7000-8000-00000000000b",
            "seq": seq,
            "lease": { "host": "laptop", "pid": 42, "started": 1 },
            "names": [],
        })
    };
    // The admin's batch leaves team-b's uid in the server's short memory of spaces.
    let sent = admin
        .post(server.url(&format!("/experiments/{}/batches", uid(2))))
        .json(&batch(1))
        .send()
        .unwrap();
    assert_eq!(sent.status(), 200);

    let answer = |method: reqwest::Method, uid: &str, suffix: &str, body: Option<Value>| {
        let request = Client::new()
            .request(method, server.url(&format!("/experiments/{uid}{suffix}")))
            .bearer_auth(&writer);
        let response = match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
        .unwrap();
        let status = response.status().as_u16();
        (status, response.text().unwrap().replace(uid, "UID"))
    };
    for (method, suffix, body) in [
        (reqwest::Method::GET, "", None),
        (reqwest::Method::GET, "/metrics", None),
        (reqwest::Method::DELETE, "", None),
        (reqwest::Method::POST, "/batches", Some(batch(2))),
    ] {
        let other_space = answer(method.clone(), &uid(2), suffix, body.clone());
        let unknown = answer(method.clone(), &uid(99), suffix, body);
        assert_eq!(other_space.0, 404, "{method} {suffix}: {}", other_space.1);
        assert_eq!(other_space, unknown, "{method} {suffix}");
    }
    // Creating with a taken uid answers the same wherever the uid is taken.
    let create = |uid: &str| {
        let (status, code, message) = status_and_code(
            Client::new()
                .post(server.url("/experiments"))
                .bearer_auth(&writer)
                .json(&new_experiment(uid, "team-a", "again"))
                .send()
                .unwrap(),
        );
        (status, code, message.replace(uid, "UID"))
    };
    assert_eq!(create(&uid(2)), create(&uid(1)));
    assert_eq!(create(&uid(2)).0, 409);
    // An experiment the user may read but not write: 403 is no secret.
    let (status, _, _) = status_and_code(
        Client::new()
            .delete(server.url(&format!("/experiments/{}", uid(1))))
            .bearer_auth(&reader)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 403);
    assert!(server.store.get_experiment(&uid(2)).unwrap().is_some());
}

#[test]
fn a_child_needs_write_access_to_its_parent() {
    let server = Server::start();
    server.create_experiment(&uid(1), "team-a");
    let dave = server.user(
        "dave",
        &[("team-a", Access::Read), ("team-b", Access::Write)],
    );
    let child = |n: u32| {
        let mut body = new_experiment(&uid(n), "team-b", "child");
        body["parent_uid"] = json!(uid(1));
        Client::new()
            .post(server.url("/experiments"))
            .bearer_auth(&dave)
            .json(&body)
            .send()
            .unwrap()
    };
    let (status, message) = error_of(child(10));
    assert_eq!(status, 403, "{message}");
    assert!(message.contains(&uid(1)), "{message}");
    let parent = server.store.get_experiment(&uid(1)).unwrap().unwrap();
    assert!(
        parent.experimentcard_uids.is_empty(),
        "the parent is unchanged"
    );
    assert!(server.store.get_experiment(&uid(10)).unwrap().is_none());

    let granted = server
        .admin_client()
        .put(server.url("/users/dave/grants/team-a"))
        .json(&json!({ "access": "write" }))
        .send()
        .unwrap();
    assert_eq!(granted.status(), 204);
    assert_eq!(child(11).status(), 201);
    let parent = server.store.get_experiment(&uid(1)).unwrap().unwrap();
    assert_eq!(parent.experimentcard_uids, [uid(11)]);
}

#[test]
fn times_a_python_reader_cannot_hold_are_refused_naming_the_field() {
    let server = Server::start();
    let admin = server.admin_client();
    let far = serde_json::to_value(chrono::DateTime::<chrono::Utc>::MAX_UTC).unwrap();
    let before = serde_json::to_value(chrono::DateTime::<chrono::Utc>::MIN_UTC).unwrap();
    for time in [&far, &before] {
        let mut new = new_experiment(&uid(1), "team", "run");
        new["created_at"] = time.clone();
        let (status, message) = error_of(
            admin
                .post(server.url("/experiments"))
                .json(&new)
                .send()
                .unwrap(),
        );
        assert_eq!(status, 400, "{time}: {message}");
        assert!(message.starts_with("created_at "), "{message}");
        assert!(message.contains("9999"), "{message}");
    }
    let mut last_day = new_experiment(&uid(1), "team", "run");
    last_day["created_at"] = json!("9999-12-31T23:59:59.999999Z");
    let created = admin
        .post(server.url("/experiments"))
        .json(&last_day)
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);

    let one = format!("/experiments/{}", uid(1));
    let (status, message) = error_of(
        admin
            .put(server.url(&format!("{one}/status")))
            .json(&json!({ "status": "completed", "ended_at": far }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.starts_with("ended_at "), "{message}");
    let mut card: Value = admin.get(server.url(&one)).send().unwrap().json().unwrap();
    card["ended_at"] = far.clone();
    let (status, message) = error_of(admin.put(server.url(&one)).json(&card).send().unwrap());
    assert_eq!(status, 400);
    assert!(message.starts_with("ended_at "), "{message}");
    let record = json!([{
        "path": "a.txt", "size": 1, "digest": "00", "media_type": "text/plain",
        "created_at": far,
        "storage_key": format!("experiment/{}/objects/01a21900-0000-7000-8000-000000000001", uid(1)),
    }]);
    let (status, message) = error_of(
        admin
            .post(server.url(&format!("{one}/artifacts")))
            .json(&record)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(message.starts_with("created_at "), "{message}");

    let stored = server.store.get_experiment(&uid(1)).unwrap().unwrap();
    assert_eq!(stored.ended_at, None, "nothing was stored");
    assert!(server
        .store
        .list_artifacts(&uid(1), None)
        .unwrap()
        .is_empty());
}

//! Users, grants and tokens in SQLite.

use chrono::{DateTime, Utc};
use opsml_types::micros_to_datetime;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::SqliteStore;
use crate::accounts::{Access, AccountStore, TokenOwner, UserChange, UserRecord, UserSummary};
use crate::error::Result;

impl AccountStore for SqliteStore {
    fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        self.with_conn(|conn| {
            conn.query_row(
                "SELECT username, password_hash, admin, disabled FROM users WHERE username = ?1",
                [username],
                |row| {
                    Ok(UserRecord {
                        username: row.get(0)?,
                        password_hash: row.get(1)?,
                        admin: row.get(2)?,
                        disabled: row.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    fn users(&self) -> Result<Vec<UserSummary>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT username, admin, disabled, created_at FROM users ORDER BY username",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(UserSummary {
                    username: row.get(0)?,
                    admin: row.get(1)?,
                    disabled: row.get(2)?,
                    created_at: micros_to_datetime(row.get(3)?),
                })
            })?;
            rows.collect()
        })
    }

    fn put_user(&self, user: &UserRecord) -> Result<()> {
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO users (username, password_hash, admin, disabled, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (username) DO UPDATE
                 SET password_hash = excluded.password_hash, admin = excluded.admin,
                     disabled = excluded.disabled",
                params![
                    user.username,
                    user.password_hash,
                    user.admin,
                    user.disabled,
                    Utc::now().timestamp_micros()
                ],
            )
            .map(drop)
        })
    }

    fn insert_user(&self, user: &UserRecord) -> Result<bool> {
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO users (username, password_hash, admin, disabled, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (username) DO NOTHING",
                params![
                    user.username,
                    user.password_hash,
                    user.admin,
                    user.disabled,
                    Utc::now().timestamp_micros()
                ],
            )
            .map(|inserted| inserted > 0)
        })
    }

    fn user_count(&self) -> Result<u64> {
        self.with_conn(|conn| {
            conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
        })
    }

    fn set_disabled(&self, username: &str, disabled: bool) -> Result<UserChange> {
        self.with_conn(|conn| {
            // Under the write lock: two admins disabling each other at once cannot both pass
            // the check for the last admin.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let change = check_removable(&tx, username, disabled)?;
            if change == UserChange::Done {
                tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE username = ?1",
                    params![username, disabled],
                )?;
                if disabled {
                    tx.execute("DELETE FROM access_tokens WHERE username = ?1", [username])?;
                }
            }
            tx.commit()?;
            Ok(change)
        })
    }

    fn delete_user(&self, username: &str) -> Result<UserChange> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let change = check_removable(&tx, username, true)?;
            if change == UserChange::Done {
                // The foreign keys cascade too; this does not depend on their pragma.
                tx.execute("DELETE FROM access_tokens WHERE username = ?1", [username])?;
                tx.execute("DELETE FROM space_grants WHERE username = ?1", [username])?;
                tx.execute("DELETE FROM users WHERE username = ?1", [username])?;
            }
            tx.commit()?;
            Ok(change)
        })
    }

    fn grant(&self, username: &str, space: &str, access: Access) -> Result<()> {
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO space_grants (username, space, can_write) VALUES (?1, ?2, ?3)
                 ON CONFLICT (username, space) DO UPDATE SET can_write = excluded.can_write",
                params![username, space, access == Access::Write],
            )
            .map(drop)
        })
    }

    fn grants(&self, username: &str) -> Result<Vec<(String, Access)>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT space, can_write FROM space_grants WHERE username = ?1 ORDER BY space",
            )?;
            let rows = stmt.query_map([username], |row| {
                let write: bool = row.get(1)?;
                Ok((
                    row.get(0)?,
                    if write { Access::Write } else { Access::Read },
                ))
            })?;
            rows.collect()
        })
    }

    fn revoke_grant(&self, username: &str, space: &str) -> Result<bool> {
        self.with_conn(|conn| {
            conn.execute(
                "DELETE FROM space_grants WHERE username = ?1 AND space = ?2",
                [username, space],
            )
            .map(|removed| removed > 0)
        })
    }

    fn put_token(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> Result<()> {
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO access_tokens (token_hash, username, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    token_hash,
                    username,
                    Utc::now().timestamp_micros(),
                    expires_at.timestamp_micros()
                ],
            )
            .map(drop)
        })
    }

    fn token(&self, token_hash: &str) -> Result<Option<TokenOwner>> {
        self.with_conn(|conn| {
            conn.query_row(
                "SELECT t.username, t.expires_at FROM access_tokens t
                 JOIN users u ON u.username = t.username
                 WHERE t.token_hash = ?1 AND t.expires_at > ?2 AND NOT u.disabled",
                params![token_hash, Utc::now().timestamp_micros()],
                |row| {
                    Ok(TokenOwner {
                        username: row.get(0)?,
                        expires_at: micros_to_datetime(row.get(1)?),
                    })
                },
            )
            .optional()
        })
    }

    fn revoke_token(&self, token_hash: &str) -> Result<bool> {
        self.with_conn(|conn| {
            conn.execute(
                "DELETE FROM access_tokens WHERE token_hash = ?1",
                [token_hash],
            )
            .map(|removed| removed > 0)
        })
    }

    fn revoke_tokens(&self, username: &str) -> Result<u64> {
        self.with_conn(|conn| {
            conn.execute("DELETE FROM access_tokens WHERE username = ?1", [username])
                .map(|removed| removed as u64)
        })
    }
}

/// Whether `username` may be disabled or deleted (`removing`), or enabled: it must exist,
/// and the last enabled admin stays.
fn check_removable(
    conn: &Connection,
    username: &str,
    removing: bool,
) -> rusqlite::Result<UserChange> {
    let flags: Option<(bool, bool)> = conn
        .query_row(
            "SELECT admin, disabled FROM users WHERE username = ?1",
            [username],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((admin, disabled)) = flags else {
        return Ok(UserChange::NoSuchUser);
    };
    if !removing || !admin || disabled {
        return Ok(UserChange::Done);
    }
    let other_admins: i64 = conn.query_row(
        "SELECT COUNT(*) FROM users WHERE admin AND NOT disabled AND username != ?1",
        [username],
        |row| row.get(0),
    )?;
    Ok(if other_admins == 0 {
        UserChange::LastAdmin
    } else {
        UserChange::Done
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own under the system's temporary one, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn store() -> (Scratch, SqliteStore) {
        let dir = std::env::temp_dir().join(format!("opsml-accounts-{}", opsml_types::new_uid()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("opsml.db")).unwrap();
        (Scratch(dir), store)
    }

    fn user(name: &str, admin: bool) -> UserRecord {
        UserRecord {
            username: name.to_owned(),
            password_hash: format!("hash of {name}"),
            admin,
            disabled: false,
        }
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::hours(1)
    }

    #[test]
    fn disabled_users_keep_their_grants_but_lose_their_tokens_for_good() {
        let (_dir, store) = store();
        store.insert_user(&user("root", true)).unwrap();
        store.insert_user(&user("ana", false)).unwrap();
        store.grant("ana", "team", Access::Write).unwrap();
        store.put_token("t1", "ana", later()).unwrap();
        assert_eq!(store.token("t1").unwrap().unwrap().username, "ana");

        assert_eq!(store.set_disabled("ana", true).unwrap(), UserChange::Done);
        assert!(store.user("ana").unwrap().unwrap().disabled);
        assert!(store.token("t1").unwrap().is_none());
        // A token issued while disabled (it cannot be, but) is not honoured either.
        store.put_token("t2", "ana", later()).unwrap();
        assert!(store.token("t2").unwrap().is_none());

        assert_eq!(store.set_disabled("ana", false).unwrap(), UserChange::Done);
        assert!(store.token("t1").unwrap().is_none(), "gone for good");
        assert_eq!(
            store.grants("ana").unwrap(),
            [("team".into(), Access::Write)]
        );
        assert_eq!(
            store.set_disabled("nobody", true).unwrap(),
            UserChange::NoSuchUser
        );
    }

    #[test]
    fn the_last_enabled_admin_is_neither_disabled_nor_deleted() {
        let (_dir, store) = store();
        store.insert_user(&user("root", true)).unwrap();
        store.insert_user(&user("ops", true)).unwrap();
        assert_eq!(store.set_disabled("ops", true).unwrap(), UserChange::Done);
        assert_eq!(
            store.set_disabled("root", true).unwrap(),
            UserChange::LastAdmin
        );
        assert_eq!(store.delete_user("root").unwrap(), UserChange::LastAdmin);
        assert!(!store.user("root").unwrap().unwrap().disabled);
        // A disabled admin may go.
        assert_eq!(store.delete_user("ops").unwrap(), UserChange::Done);
        assert_eq!(store.delete_user("ops").unwrap(), UserChange::NoSuchUser);
    }

    #[test]
    fn deleting_a_user_removes_its_grants_and_tokens() {
        let (_dir, store) = store();
        store.insert_user(&user("root", true)).unwrap();
        store.insert_user(&user("ana", false)).unwrap();
        store.grant("ana", "team", Access::Read).unwrap();
        store.put_token("t1", "ana", later()).unwrap();
        assert_eq!(store.delete_user("ana").unwrap(), UserChange::Done);
        assert!(store.user("ana").unwrap().is_none());
        assert!(store.token("t1").unwrap().is_none());
        // A user of the same name later starts with nothing.
        store.insert_user(&user("ana", false)).unwrap();
        assert!(store.grants("ana").unwrap().is_empty());
        assert!(store.token("t1").unwrap().is_none());
        let names: Vec<_> = store
            .users()
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["ana", "root"]);
    }

    #[test]
    fn tokens_and_grants_are_revoked_one_or_all_at_a_time() {
        let (_dir, store) = store();
        store.insert_user(&user("ana", false)).unwrap();
        for hash in ["t1", "t2", "t3"] {
            store.put_token(hash, "ana", later()).unwrap();
        }
        store
            .put_token("old", "ana", Utc::now() - chrono::Duration::seconds(1))
            .unwrap();
        let owner = store.token("t1").unwrap().unwrap();
        assert!(owner.expires_at > Utc::now());
        assert!(store.token("old").unwrap().is_none(), "expired");
        assert!(store.revoke_token("t1").unwrap());
        assert!(!store.revoke_token("t1").unwrap());
        assert!(store.token("t1").unwrap().is_none());
        assert_eq!(store.revoke_tokens("ana").unwrap(), 3);
        assert!(store.token("t2").unwrap().is_none());

        store.grant("ana", "a", Access::Write).unwrap();
        store.grant("ana", "b", Access::Read).unwrap();
        assert!(store.revoke_grant("ana", "a").unwrap());
        assert!(!store.revoke_grant("ana", "a").unwrap());
        assert_eq!(store.grants("ana").unwrap(), [("b".into(), Access::Read)]);
    }
}

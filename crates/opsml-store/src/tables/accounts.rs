//! Users, grants and tokens, for either database.

use chrono::{DateTime, Utc};
use opsml_types::micros_to_datetime;

use crate::accounts::{Access, AccountStore, TokenOwner, UserChange, UserRecord, UserSummary};
use crate::database::Database;
use crate::error::Result;
use crate::sql::{params, Begin, Sql};

#[allow(
    private_bounds,
    reason = "the databases are this crate's; others implement AccountStore itself"
)]
impl<D: Database> AccountStore for D {
    fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        self.with_sql(|db| {
            db.query_opt(
                "SELECT username, password_hash, admin, disabled FROM users WHERE username = $1",
                &params![username],
                |row| {
                    Ok(UserRecord {
                        username: row.string_at(0)?,
                        password_hash: row.string_at(1)?,
                        admin: row.bool_at(2)?,
                        disabled: row.bool_at(3)?,
                    })
                },
            )
        })
    }

    fn users(&self) -> Result<Vec<UserSummary>> {
        self.with_sql(|db| {
            db.query_map(
                "SELECT username, admin, disabled, created_at FROM users ORDER BY username",
                &[],
                |row| {
                    Ok(UserSummary {
                        username: row.string_at(0)?,
                        admin: row.bool_at(1)?,
                        disabled: row.bool_at(2)?,
                        created_at: micros_to_datetime(row.int_at(3)?),
                    })
                },
            )
        })
    }

    fn put_user(&self, user: &UserRecord) -> Result<()> {
        self.with_sql(|db| {
            db.execute(
                "INSERT INTO users (username, password_hash, admin, disabled, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (username) DO UPDATE
                 SET password_hash = excluded.password_hash, admin = excluded.admin,
                     disabled = excluded.disabled",
                &params![
                    &user.username,
                    &user.password_hash,
                    user.admin,
                    user.disabled,
                    Utc::now().timestamp_micros()
                ],
            )
            .map(drop)
        })
    }

    fn insert_user(&self, user: &UserRecord) -> Result<bool> {
        self.with_sql(|db| {
            db.execute(
                "INSERT INTO users (username, password_hash, admin, disabled, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
                &params![
                    &user.username,
                    &user.password_hash,
                    user.admin,
                    user.disabled,
                    Utc::now().timestamp_micros()
                ],
            )
            .map(|inserted| inserted > 0)
        })
    }

    fn user_count(&self) -> Result<u64> {
        self.with_sql(|db| db.query_one("SELECT COUNT(*) FROM users", &[], |row| row.count_at(0)))
    }

    fn set_disabled(&self, username: &str, disabled: bool) -> Result<UserChange> {
        self.with_sql(|db| {
            // In one write transaction: two admins disabling each other at once cannot both
            // pass the check for the last admin.
            db.transaction(Begin::Write, |db| {
                let change = check_removable(db, username, disabled)?;
                if change == UserChange::Done {
                    db.execute(
                        "UPDATE users SET disabled = $2 WHERE username = $1",
                        &params![username, disabled],
                    )?;
                    if disabled {
                        db.execute(
                            "DELETE FROM access_tokens WHERE username = $1",
                            &params![username],
                        )?;
                    }
                }
                Ok(change)
            })
        })
    }

    fn delete_user(&self, username: &str) -> Result<UserChange> {
        self.with_sql(|db| {
            db.transaction(Begin::Write, |db| {
                let change = check_removable(db, username, true)?;
                if change == UserChange::Done {
                    // The foreign keys cascade too; this does not depend on SQLite's pragma.
                    for table in ["access_tokens", "space_grants", "users"] {
                        db.execute(
                            &format!("DELETE FROM {table} WHERE username = $1"),
                            &params![username],
                        )?;
                    }
                }
                Ok(change)
            })
        })
    }

    fn grant(&self, username: &str, space: &str, access: Access) -> Result<()> {
        self.with_sql(|db| {
            db.execute(
                "INSERT INTO space_grants (username, space, can_write) VALUES ($1, $2, $3)
                 ON CONFLICT (username, space) DO UPDATE SET can_write = excluded.can_write",
                &params![username, space, access == Access::Write],
            )
            .map(drop)
        })
    }

    fn grants(&self, username: &str) -> Result<Vec<(String, Access)>> {
        self.with_sql(|db| {
            db.query_map(
                "SELECT space, can_write FROM space_grants WHERE username = $1 ORDER BY space",
                &params![username],
                |row| {
                    let access = if row.bool_at(1)? {
                        Access::Write
                    } else {
                        Access::Read
                    };
                    Ok((row.string_at(0)?, access))
                },
            )
        })
    }

    fn revoke_grant(&self, username: &str, space: &str) -> Result<bool> {
        self.with_sql(|db| {
            db.execute(
                "DELETE FROM space_grants WHERE username = $1 AND space = $2",
                &params![username, space],
            )
            .map(|removed| removed > 0)
        })
    }

    fn put_token(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> Result<()> {
        self.with_sql(|db| {
            db.execute(
                "INSERT INTO access_tokens (token_hash, username, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
                &params![
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
        self.with_sql(|db| {
            db.query_opt(
                "SELECT t.username, t.expires_at FROM access_tokens t
                 JOIN users u ON u.username = t.username
                 WHERE t.token_hash = $1 AND t.expires_at > $2 AND NOT u.disabled",
                &params![token_hash, Utc::now().timestamp_micros()],
                |row| {
                    Ok(TokenOwner {
                        username: row.string_at(0)?,
                        expires_at: micros_to_datetime(row.int_at(1)?),
                    })
                },
            )
        })
    }

    fn revoke_token(&self, token_hash: &str) -> Result<bool> {
        self.with_sql(|db| {
            db.execute(
                "DELETE FROM access_tokens WHERE token_hash = $1",
                &params![token_hash],
            )
            .map(|removed| removed > 0)
        })
    }

    fn revoke_tokens(&self, username: &str) -> Result<u64> {
        self.with_sql(|db| {
            db.execute(
                "DELETE FROM access_tokens WHERE username = $1",
                &params![username],
            )
        })
    }
}

/// Whether `username` may be disabled or deleted (`removing`), or enabled: it must exist,
/// and the last enabled admin stays. Where rows lock (PostgreSQL), every enabled admin's row
/// is locked first, in one order, so that two admins removing each other take turns.
fn check_removable(db: &mut dyn Sql, username: &str, removing: bool) -> Result<UserChange> {
    let admins = if removing {
        let sql = format!(
            "SELECT username FROM users WHERE admin AND NOT disabled ORDER BY username{}",
            db.for_update()
        );
        db.query_map(&sql, &[], |row| row.string_at(0))?
    } else {
        Vec::new()
    };
    let sql = format!("SELECT 1 FROM users WHERE username = $1{}", db.for_update());
    let exists = db
        .query_opt(&sql, &params![username], |_| Ok(()))?
        .is_some();
    Ok(if !exists {
        UserChange::NoSuchUser
    } else if removing && admins.len() == 1 && admins[0] == username {
        UserChange::LastAdmin
    } else {
        UserChange::Done
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountStore;
    use crate::SqliteStore;

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

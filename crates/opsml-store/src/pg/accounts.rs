//! Users, grants and tokens in PostgreSQL.

use chrono::{DateTime, Utc};
use opsml_types::micros_to_datetime;
use postgres::GenericClient;

use super::PostgresStore;
use crate::accounts::{Access, AccountStore, TokenOwner, UserChange, UserRecord, UserSummary};
use crate::error::Result;

impl AccountStore for PostgresStore {
    fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        self.with_client(|client| {
            Ok(client
                .query_opt(
                    "SELECT username, password_hash, admin, disabled FROM users
                     WHERE username = $1",
                    &[&username],
                )?
                .map(|row| UserRecord {
                    username: row.get(0),
                    password_hash: row.get(1),
                    admin: row.get(2),
                    disabled: row.get(3),
                }))
        })
    }

    fn users(&self) -> Result<Vec<UserSummary>> {
        self.with_client(|client| {
            Ok(client
                .query(
                    "SELECT username, admin, disabled, created_at FROM users ORDER BY username",
                    &[],
                )?
                .iter()
                .map(|row| UserSummary {
                    username: row.get(0),
                    admin: row.get(1),
                    disabled: row.get(2),
                    created_at: micros_to_datetime(row.get(3)),
                })
                .collect())
        })
    }

    fn put_user(&self, user: &UserRecord) -> Result<()> {
        self.with_client(|client| {
            client
                .execute(
                    "INSERT INTO users (username, password_hash, admin, disabled, created_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (username) DO UPDATE
                     SET password_hash = excluded.password_hash, admin = excluded.admin,
                         disabled = excluded.disabled",
                    &[
                        &user.username,
                        &user.password_hash,
                        &user.admin,
                        &user.disabled,
                        &Utc::now().timestamp_micros(),
                    ],
                )
                .map(drop)
        })
    }

    fn insert_user(&self, user: &UserRecord) -> Result<bool> {
        self.with_client(|client| {
            client
                .execute(
                    "INSERT INTO users (username, password_hash, admin, disabled, created_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
                    &[
                        &user.username,
                        &user.password_hash,
                        &user.admin,
                        &user.disabled,
                        &Utc::now().timestamp_micros(),
                    ],
                )
                .map(|inserted| inserted > 0)
        })
    }

    fn user_count(&self) -> Result<u64> {
        self.with_client(|client| {
            let count: i64 = client.query_one("SELECT COUNT(*) FROM users", &[])?.get(0);
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    fn set_disabled(&self, username: &str, disabled: bool) -> Result<UserChange> {
        self.with_client(|client| {
            let mut tx = client.transaction()?;
            let change = check_removable(&mut tx, username, disabled)?;
            if change == UserChange::Done {
                tx.execute(
                    "UPDATE users SET disabled = $2 WHERE username = $1",
                    &[&username, &disabled],
                )?;
                if disabled {
                    tx.execute(
                        "DELETE FROM access_tokens WHERE username = $1",
                        &[&username],
                    )?;
                }
            }
            tx.commit()?;
            Ok(change)
        })
    }

    fn delete_user(&self, username: &str) -> Result<UserChange> {
        self.with_client(|client| {
            let mut tx = client.transaction()?;
            let change = check_removable(&mut tx, username, true)?;
            if change == UserChange::Done {
                // Grants and tokens go with the user (ON DELETE CASCADE).
                tx.execute("DELETE FROM users WHERE username = $1", &[&username])?;
            }
            tx.commit()?;
            Ok(change)
        })
    }

    fn grant(&self, username: &str, space: &str, access: Access) -> Result<()> {
        self.with_client(|client| {
            client
                .execute(
                    "INSERT INTO space_grants (username, space, can_write) VALUES ($1, $2, $3)
                     ON CONFLICT (username, space) DO UPDATE SET can_write = excluded.can_write",
                    &[&username, &space, &(access == Access::Write)],
                )
                .map(drop)
        })
    }

    fn grants(&self, username: &str) -> Result<Vec<(String, Access)>> {
        self.with_client(|client| {
            Ok(client
                .query(
                    "SELECT space, can_write FROM space_grants WHERE username = $1 ORDER BY space",
                    &[&username],
                )?
                .iter()
                .map(|row| {
                    let write: bool = row.get(1);
                    (row.get(0), if write { Access::Write } else { Access::Read })
                })
                .collect())
        })
    }

    fn revoke_grant(&self, username: &str, space: &str) -> Result<bool> {
        self.with_client(|client| {
            client
                .execute(
                    "DELETE FROM space_grants WHERE username = $1 AND space = $2",
                    &[&username, &space],
                )
                .map(|removed| removed > 0)
        })
    }

    fn put_token(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> Result<()> {
        self.with_client(|client| {
            client
                .execute(
                    "INSERT INTO access_tokens (token_hash, username, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                    &[
                        &token_hash,
                        &username,
                        &Utc::now().timestamp_micros(),
                        &expires_at.timestamp_micros(),
                    ],
                )
                .map(drop)
        })
    }

    fn token(&self, token_hash: &str) -> Result<Option<TokenOwner>> {
        self.with_client(|client| {
            Ok(client
                .query_opt(
                    "SELECT t.username, t.expires_at FROM access_tokens t
                     JOIN users u ON u.username = t.username
                     WHERE t.token_hash = $1 AND t.expires_at > $2 AND NOT u.disabled",
                    &[&token_hash, &Utc::now().timestamp_micros()],
                )?
                .map(|row| TokenOwner {
                    username: row.get(0),
                    expires_at: micros_to_datetime(row.get(1)),
                }))
        })
    }

    fn revoke_token(&self, token_hash: &str) -> Result<bool> {
        self.with_client(|client| {
            client
                .execute(
                    "DELETE FROM access_tokens WHERE token_hash = $1",
                    &[&token_hash],
                )
                .map(|removed| removed > 0)
        })
    }

    fn revoke_tokens(&self, username: &str) -> Result<u64> {
        self.with_client(|client| {
            client.execute(
                "DELETE FROM access_tokens WHERE username = $1",
                &[&username],
            )
        })
    }
}

/// Whether `username` may be disabled or deleted (`removing`), or enabled: it must exist,
/// and the last enabled admin stays. The enabled admins' rows are locked first, so that two
/// servers removing two admins at once cannot both see the other one still there.
fn check_removable(
    client: &mut impl GenericClient,
    username: &str,
    removing: bool,
) -> std::result::Result<UserChange, postgres::Error> {
    let admins: Vec<String> = if removing {
        client
            .query(
                "SELECT username FROM users WHERE admin AND NOT disabled
                 ORDER BY username FOR UPDATE",
                &[],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect()
    } else {
        Vec::new()
    };
    let exists = client
        .query_opt(
            "SELECT 1 FROM users WHERE username = $1 FOR UPDATE",
            &[&username],
        )?
        .is_some();
    Ok(if !exists {
        UserChange::NoSuchUser
    } else if removing && admins.len() == 1 && admins[0] == username {
        UserChange::LastAdmin
    } else {
        UserChange::Done
    })
}

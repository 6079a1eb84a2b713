//! Users, grants and tokens in PostgreSQL.

use chrono::{DateTime, Utc};

use super::PostgresStore;
use crate::{Access, AccountStore, Result, UserRecord};

impl AccountStore for PostgresStore {
    fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        self.with_client(|client| {
            Ok(client
                .query_opt(
                    "SELECT username, password_hash, admin FROM users WHERE username = $1",
                    &[&username],
                )?
                .map(|row| UserRecord {
                    username: row.get(0),
                    password_hash: row.get(1),
                    admin: row.get(2),
                }))
        })
    }

    fn put_user(&self, user: &UserRecord) -> Result<()> {
        self.with_client(|client| {
            client
                .execute(
                    "INSERT INTO users (username, password_hash, admin, created_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (username) DO UPDATE
                     SET password_hash = excluded.password_hash, admin = excluded.admin",
                    &[
                        &user.username,
                        &user.password_hash,
                        &user.admin,
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
                    "INSERT INTO users (username, password_hash, admin, created_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
                    &[
                        &user.username,
                        &user.password_hash,
                        &user.admin,
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

    fn token_user(&self, token_hash: &str) -> Result<Option<String>> {
        self.with_client(|client| {
            Ok(client
                .query_opt(
                    "SELECT username FROM access_tokens WHERE token_hash = $1 AND expires_at > $2",
                    &[&token_hash, &Utc::now().timestamp_micros()],
                )?
                .map(|row| row.get(0)))
        })
    }
}

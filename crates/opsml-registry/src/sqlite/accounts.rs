//! Users, grants and tokens in SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::{Access, AccountStore, Result, UserRecord};

impl AccountStore for SqliteStore {
    fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        self.with_conn(|conn| {
            conn.query_row(
                "SELECT username, password_hash, admin FROM users WHERE username = ?1",
                [username],
                |row| {
                    Ok(UserRecord {
                        username: row.get(0)?,
                        password_hash: row.get(1)?,
                        admin: row.get(2)?,
                    })
                },
            )
            .optional()
        })
    }

    fn put_user(&self, user: &UserRecord) -> Result<()> {
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO users (username, password_hash, admin, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (username) DO UPDATE
                 SET password_hash = excluded.password_hash, admin = excluded.admin",
                params![
                    user.username,
                    user.password_hash,
                    user.admin,
                    Utc::now().timestamp_micros()
                ],
            )
            .map(drop)
        })
    }

    fn insert_user(&self, user: &UserRecord) -> Result<bool> {
        self.with_conn(|conn| {
            conn.execute(
                "INSERT INTO users (username, password_hash, admin, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (username) DO NOTHING",
                params![
                    user.username,
                    user.password_hash,
                    user.admin,
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

    fn token_user(&self, token_hash: &str) -> Result<Option<String>> {
        self.with_conn(|conn| {
            conn.query_row(
                "SELECT username FROM access_tokens WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, Utc::now().timestamp_micros()],
                |row| row.get(0),
            )
            .optional()
        })
    }
}

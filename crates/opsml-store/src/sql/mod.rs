//! One SQL layer over both databases: statements are written once, with `$1`, `$2`, …
//! placeholders, and run on a connection of either kind through [`Sql`]. Each backend only
//! binds [`Param`]s with its own types and reads columns through [`SqlRow`].

mod postgres;
mod sqlite;

pub(crate) use self::postgres::PgSql;
pub(crate) use self::sqlite::SqliteSql;

use opsml_query::Dialect;

use crate::error::{Result, StoreError};

/// A value bound to a placeholder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
    Bool(bool),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Self::Blob(bytes)
    }
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<f64> for Param<'_> {
    fn from(x: f64) -> Self {
        Self::Real(x)
    }
}

impl From<bool> for Param<'_> {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

impl<'a> From<&'a opsml_query::Value> for Param<'a> {
    fn from(value: &'a opsml_query::Value) -> Self {
        match value {
            opsml_query::Value::Text(text) => Self::Text(text),
            opsml_query::Value::Integer(n) => Self::Int(*n),
            opsml_query::Value::Real(x) => Self::Real(*x),
            opsml_query::Value::Bool(b) => Self::Bool(*b),
        }
    }
}

/// The placeholders' values of a statement, in order: `params![a, b]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        [$($crate::sql::Param::from($value)),*]
    };
}
pub(crate) use params;

/// One row of a result; columns are numbered from 0. A column that does not hold the type
/// asked for is a corrupt record.
pub(crate) trait SqlRow {
    fn int(&self, column: usize) -> Result<Option<i64>>;
    fn real(&self, column: usize) -> Result<Option<f64>>;
    fn text(&self, column: usize) -> Result<Option<&str>>;
    fn blob(&self, column: usize) -> Result<Option<&[u8]>>;
    fn boolean(&self, column: usize) -> Result<Option<bool>>;
}

/// The failure to read `column` as `wanted`.
pub(crate) fn column_error(column: usize, wanted: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column} is not {wanted}: {why}"))
}

fn required<T>(value: Option<T>, column: usize, wanted: &str) -> Result<T> {
    value.ok_or_else(|| column_error(column, wanted, "it is NULL"))
}

/// Reads of columns that must not be NULL.
impl dyn SqlRow + '_ {
    pub(crate) fn int_at(&self, column: usize) -> Result<i64> {
        required(self.int(column)?, column, "an integer")
    }

    pub(crate) fn text_at(&self, column: usize) -> Result<&str> {
        required(self.text(column)?, column, "text")
    }

    pub(crate) fn string_at(&self, column: usize) -> Result<String> {
        self.text_at(column).map(str::to_owned)
    }

    pub(crate) fn blob_at(&self, column: usize) -> Result<&[u8]> {
        required(self.blob(column)?, column, "bytes")
    }

    pub(crate) fn bool_at(&self, column: usize) -> Result<bool> {
        required(self.boolean(column)?, column, "a boolean")
    }

    /// A count kept as a signed integer; a negative one (changed by hand) reads as 0.
    pub(crate) fn count_at(&self, column: usize) -> Result<u64> {
        Ok(u64::try_from(self.int_at(column)?).unwrap_or(0))
    }
}

/// How a transaction holds the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Reads first and writes later: SQLite takes its write lock at the start (a read lock
    /// cannot always become a write lock); PostgreSQL relies on row locks and advisory locks.
    Write,
}

/// A connection (or an open transaction) of either database.
pub(crate) trait Sql {
    /// Which SQL the database speaks, for the statements that differ.
    fn dialect(&self) -> Dialect;

    /// Runs `sql` once; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64>;

    /// Runs `sql` and hands each row of its result to `each`, in order.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()>;

    /// Runs statements that take no values and return no rows (transaction control).
    fn batch(&mut self, sql: &str) -> Result<()>;
}

impl dyn Sql + '_ {
    /// Every row of the result, each made into a `T`.
    pub(crate) fn query_map<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&dyn SqlRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        self.query_each(sql, params, &mut |row| {
            rows.push(f(row)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row of the result made into a `T`, if there is one.
    pub(crate) fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn SqlRow) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut first = None;
        self.query_each(sql, params, &mut |row| {
            if let Some(f) = f.take() {
                first = Some(f(row)?);
            }
            Ok(())
        })?;
        Ok(first)
    }

    /// The first row of a result that always has one (an aggregate).
    pub(crate) fn query_one<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn SqlRow) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {sql:?}")))
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    pub(crate) fn transaction<T>(
        &mut self,
        begin: Begin,
        f: impl FnOnce(&mut dyn Sql) -> Result<T>,
    ) -> Result<T> {
        let Begin::Write = begin;
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        match f(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // The rollback's own failure (a broken connection) says less than `e`; a
                // connection left inside a transaction is not returned to its pool.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Makes writers of the same `key` within `space` take turns until the transaction
    /// ends. SQLite's write transactions already do; PostgreSQL takes an advisory lock.
    pub(crate) fn take_turns(&mut self, space: i32, key: &str) -> Result<()> {
        match self.dialect() {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => self
                .query_each(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                    &params![i64::from(space), key],
                    &mut |_| Ok(()),
                )
                .map(drop),
        }
    }

    /// `FOR UPDATE` where the database locks rows read for writing (SQLite locks the file).
    pub(crate) fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// `sql` with its `$N` placeholders written as SQLite's `?N`; quoted text and names are
/// left as they are.
pub(crate) fn sqlite_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::sqlite_placeholders;

    #[test]
    fn numbered_placeholders_become_sqlite_ones_outside_quotes_only() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c = $12"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?12"
        );
        assert_eq!(
            sqlite_placeholders(r#"SELECT '$1', "a$2", json_extract(x, '$.b') WHERE d = $3"#),
            r#"SELECT '$1', "a$2", json_extract(x, '$.b') WHERE d = ?3"#
        );
        assert_eq!(sqlite_placeholders("SELECT 1"), "SELECT 1");
    }
}

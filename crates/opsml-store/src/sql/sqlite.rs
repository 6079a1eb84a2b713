//! [`Sql`] on a SQLite connection.

use std::path::Path;

use opsml_query::Dialect;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::{column_error, sqlite_placeholders, Param, Sql, SqlRow};
use crate::error::{Result, StoreError};

/// A SQLite connection (or a transaction on it) of the store file at `path`.
pub(crate) struct SqliteSql<'a> {
    conn: &'a Connection,
    path: &'a Path,
}

impl<'a> SqliteSql<'a> {
    pub(crate) fn new(conn: &'a Connection, path: &'a Path) -> Self {
        Self { conn, path }
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.to_owned(),
            source,
        }
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Int(n) => ToSqlOutput::from(n),
            Param::Real(x) => ToSqlOutput::from(x),
            Param::Text(text) => ToSqlOutput::from(text),
            Param::Blob(bytes) => ToSqlOutput::from(bytes),
            Param::Bool(b) => ToSqlOutput::from(b),
        })
    }
}

struct Row<'r, 's>(&'r rusqlite::Row<'s>);

impl Row<'_, '_> {
    fn value(&self, column: usize) -> Result<ValueRef<'_>> {
        self.0
            .get_ref(column)
            .map_err(|e| column_error(column, "readable", e))
    }
}

impl SqlRow for Row<'_, '_> {
    fn int(&self, column: usize) -> Result<Option<i64>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            other => Err(column_error(column, "an integer", other.data_type())),
        }
    }

    fn real(&self, column: usize) -> Result<Option<f64>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(x) => Ok(Some(x)),
            // REAL columns keep whole numbers as integers when that is exact.
            ValueRef::Integer(n) => Ok(Some(n as f64)),
            other => Err(column_error(column, "a number", other.data_type())),
        }
    }

    fn text(&self, column: usize) -> Result<Option<&str>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|e| column_error(column, "text", e)),
            other => Err(column_error(column, "text", other.data_type())),
        }
    }

    fn blob(&self, column: usize) -> Result<Option<&[u8]>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(bytes) => Ok(Some(bytes)),
            other => Err(column_error(column, "bytes", other.data_type())),
        }
    }

    fn boolean(&self, column: usize) -> Result<Option<bool>> {
        Ok(self.int(column)?.map(|n| n != 0))
    }
}

impl Sql for SqliteSql<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let run = || -> rusqlite::Result<usize> {
            let mut statement = self.conn.prepare_cached(&sqlite_placeholders(sql))?;
            statement.execute(rusqlite::params_from_iter(params))
        };
        run().map(|n| n as u64).map_err(|e| self.error(e))
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let mut statement = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(|e| self.error(e))?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            each(&Row(row))?;
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.error(e))
    }
}

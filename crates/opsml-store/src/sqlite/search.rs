//! `search_experiments` in SQLite: the filter language compiled to SQL and run in the store.

use opsml_query::{compile, Value};
use opsml_types::CardRecord;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql};

use super::cards::{record_from_row, CARD_COLUMNS};
use crate::SearchQuery;

/// A value of the compiled query, bound as an SQLite value.
struct Bound<'a>(&'a Value);

impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Text(text) => ToSqlOutput::from(text.as_str()),
            Value::Integer(n) => ToSqlOutput::from(*n),
            Value::Real(x) => ToSqlOutput::from(*x),
            Value::Bool(b) => ToSqlOutput::from(*b),
        })
    }
}

/// The records of the experiments matching `query`, in its order.
pub(super) fn search(conn: &Connection, query: &SearchQuery) -> rusqlite::Result<Vec<CardRecord>> {
    let filter = query.full_filter();
    let compiled = compile(filter.as_ref(), &query.order_by);
    let condition = if compiled.where_sql.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", compiled.where_sql)
    };
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM experiments {condition} ORDER BY {} LIMIT {limit}",
        compiled.order_sql
    );
    let mut stmt = conn.prepare(&sql)?;
    let bound: Vec<Bound<'_>> = compiled.params.iter().map(Bound).collect();
    let params: Vec<&dyn ToSql> = bound.iter().map(|b| b as &dyn ToSql).collect();
    let rows = stmt.query_map(params.as_slice(), record_from_row)?;
    rows.collect()
}

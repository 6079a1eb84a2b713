//! Card records found by a statement built for both databases (a listing, a search), with
//! its values bound as SQLite values.

use opsml_query::Value;
use opsml_types::CardRecord;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql};

use super::cards::record_from_row;
use crate::statements::Statement;

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

/// The records that `statement` (selecting [`crate::statements::CARD_COLUMNS`]) finds, in its order.
pub(super) fn records(
    conn: &Connection,
    statement: &Statement,
) -> rusqlite::Result<Vec<CardRecord>> {
    let mut stmt = conn.prepare(&statement.sql)?;
    let bound: Vec<Bound<'_>> = statement.params.iter().map(Bound).collect();
    let params: Vec<&dyn ToSql> = bound.iter().map(|b| b as &dyn ToSql).collect();
    let rows = stmt.query_map(params.as_slice(), record_from_row)?;
    rows.collect()
}

//! `search_experiments` in PostgreSQL: the filter language compiled for PostgreSQL, each
//! value bound with the type the server inferred for its placeholder.

use opsml_query::{compile_with, Dialect, Value};
use opsml_types::CardRecord;
use postgres::types::{ToSql, Type};
use postgres::Client;

use super::cards::{record_from_row, CARD_COLUMNS};
use crate::SearchQuery;

/// `value` as the type PostgreSQL expects at its placeholder: an integer literal compared
/// with a DOUBLE PRECISION expression is bound as a double, and so on.
fn bound(value: &Value, expected: &Type) -> Box<dyn ToSql + Sync> {
    match (value, expected) {
        (Value::Integer(n), &Type::FLOAT8) => Box::new(*n as f64),
        (Value::Integer(n), &Type::FLOAT4) => Box::new(*n as f32),
        (Value::Integer(n), &Type::INT4) => Box::new(i32::try_from(*n).unwrap_or(i32::MAX)),
        (Value::Integer(n), &Type::TEXT) => Box::new(n.to_string()),
        (Value::Integer(n), _) => Box::new(*n),
        (Value::Real(x), &Type::TEXT) => Box::new(x.to_string()),
        (Value::Real(x), _) => Box::new(*x),
        (Value::Text(text), _) => Box::new(text.clone()),
        (Value::Bool(b), &Type::TEXT) => Box::new(b.to_string()),
        (Value::Bool(b), _) => Box::new(*b),
    }
}

/// The records of the experiments matching `query`, in its order.
pub(super) fn search(
    client: &mut Client,
    query: &SearchQuery,
) -> Result<Result<Vec<CardRecord>, String>, postgres::Error> {
    let filter = query.full_filter();
    let compiled = compile_with(filter.as_ref(), &query.order_by, Dialect::Postgres);
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
    let statement = client.prepare(&sql)?;
    let values: Vec<Box<dyn ToSql + Sync>> = compiled
        .params
        .iter()
        .zip(statement.params())
        .map(|(value, expected)| bound(value, expected))
        .collect();
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
    let rows = client.query(&statement, &params)?;
    Ok(rows.iter().map(record_from_row).collect())
}

//! Card records found by a statement built for both databases (a listing, a search), each
//! value bound with the type the server inferred for its placeholder.

use opsml_query::Value;
use opsml_types::CardRecord;
use postgres::types::{ToSql, Type};
use postgres::Client;

use super::cards::record_from_row;
use crate::statements::Statement;

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

/// The records that `statement` (selecting [`crate::statements::CARD_COLUMNS`]) finds, in its order.
pub(super) fn records(
    client: &mut Client,
    statement: &Statement,
) -> Result<Result<Vec<CardRecord>, String>, postgres::Error> {
    let prepared = client.prepare(&statement.sql)?;
    let values: Vec<Box<dyn ToSql + Sync>> = statement
        .params
        .iter()
        .zip(prepared.params())
        .map(|(value, expected)| bound(value, expected))
        .collect();
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
    let rows = client.query(&prepared, &params)?;
    Ok(rows.iter().map(record_from_row).collect())
}

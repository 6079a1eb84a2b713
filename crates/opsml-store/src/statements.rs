//! Statements written once for both databases: the SQL, in the dialect asked for, and the
//! values of its placeholders. Each backend binds the values with its own types and decodes
//! the rows ([`CARD_COLUMNS`] in this order).

use opsml_query::{compile_with, Dialect, Value};

use crate::store::{CardQuery, SearchQuery};

/// The columns of a card record, in the order the backends decode them.
pub(crate) const CARD_COLUMNS: &str = "uid, space, name, version, tags, status, created_at, \
     ended_at, parent_uid, username, compute_environment, opsml_version, metadata";

/// A statement and the values of its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
}

/// The `n`th placeholder (from 1), for `value`.
fn placeholder(dialect: Dialect, n: usize, value: &Value) -> String {
    match (dialect, value) {
        (Dialect::Sqlite, _) => format!("?{n}"),
        // Cast, so that text is bound as text where the statement reads it as JSON.
        (Dialect::Postgres, Value::Text(_)) => format!("${n}::text"),
        (Dialect::Postgres, _) => format!("${n}"),
    }
}

/// The elements of the JSON array of text `json`, as a FROM item with one column, `value`.
pub(crate) fn json_elements(dialect: Dialect, json: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("json_each({json})"),
        Dialect::Postgres => {
            format!("jsonb_array_elements_text(({json})::jsonb) AS elements(value)")
        }
    }
}

/// The card records that `query` asks for, in its order.
pub(crate) fn list_cards(query: &CardQuery, dialect: Dialect) -> Statement {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    // `clause` with `{}` where its value goes.
    let mut add = |clause: &str, value: Value| {
        clauses.push(clause.replace("{}", &placeholder(dialect, params.len() + 1, &value)));
        params.push(value);
    };
    if let Some(uid) = &query.uid {
        add("uid = {}", Value::Text(uid.clone()));
    }
    if let Some(space) = &query.space {
        add("space = {}", Value::Text(space.clone()));
    }
    if let Some(spaces) = &query.spaces {
        // As a JSON array, so that any number of spaces is one parameter.
        let spaces = serde_json::Value::from(spaces.clone()).to_string();
        let elements = json_elements(dialect, "{}");
        add(
            &format!("space IN (SELECT value FROM {elements})"),
            Value::Text(spaces),
        );
    }
    if let Some(name) = &query.name {
        add("name = {}", Value::Text(name.clone()));
    }
    if let Some(version) = &query.version {
        add("version = {}", Value::Text(version.to_string()));
    }
    for tag in &query.tags {
        let elements = json_elements(dialect, "experiments.tags");
        add(
            &format!("EXISTS (SELECT 1 FROM {elements} WHERE value = {{}})"),
            Value::Text(tag.clone()),
        );
    }
    if let Some(max_date) = query.max_date {
        add(
            "created_at <= {}",
            Value::Integer(max_date.timestamp_micros()),
        );
    }
    let order = if query.sort_by_timestamp {
        "created_at DESC, uid DESC"
    } else {
        "space, name, major DESC, minor DESC, patch DESC"
    };
    Statement {
        sql: select_cards(&clauses.join(" AND "), order, query.limit),
        params,
    }
}

/// The card records of the experiments matching a search, in its order.
pub(crate) fn search_cards(query: &SearchQuery, dialect: Dialect) -> Statement {
    let filter = query.full_filter();
    let compiled = compile_with(filter.as_ref(), &query.order_by, dialect);
    Statement {
        sql: select_cards(&compiled.where_sql, &compiled.order_sql, query.limit),
        params: compiled.params,
    }
}

fn select_cards(condition: &str, order: &str, limit: usize) -> String {
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!("WHERE {condition}")
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    format!("SELECT {CARD_COLUMNS} FROM experiments {condition} ORDER BY {order} LIMIT {limit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_its_own_numbered_placeholder_in_both_dialects() {
        let query = CardQuery {
            space: Some("team".into()),
            spaces: Some(vec!["team".into(), "other".into()]),
            tags: vec!["a".into(), "b".into()],
            max_date: chrono::DateTime::from_timestamp_micros(5),
            limit: 10,
            ..CardQuery::default()
        };
        let sqlite = list_cards(&query, Dialect::Sqlite);
        assert_eq!(
            sqlite.params,
            [
                Value::Text("team".into()),
                Value::Text(r#"["team","other"]"#.into()),
                Value::Text("a".into()),
                Value::Text("b".into()),
                Value::Integer(5),
            ]
        );
        for n in 1..=5 {
            assert!(sqlite.sql.contains(&format!("?{n}")), "{}", sqlite.sql);
        }
        assert!(sqlite.sql.ends_with("LIMIT 10"), "{}", sqlite.sql);
        let postgres = list_cards(&query, Dialect::Postgres);
        assert_eq!(postgres.params, sqlite.params);
        for n in 1..=4 {
            assert!(
                postgres.sql.contains(&format!("${n}::text")),
                "{}",
                postgres.sql
            );
        }
        assert!(
            postgres.sql.contains("created_at <= $5"),
            "{}",
            postgres.sql
        );
        assert!(!postgres.sql.contains('?'), "{}", postgres.sql);
    }
}

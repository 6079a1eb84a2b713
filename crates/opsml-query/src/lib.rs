//! The filter and order-by language of
//! `search_experiments(filter=None, space=None, order_by=None, limit=100)`,
//! compiled to SQL that the store evaluates, so searches never load every
//! experiment into memory.
//!
//! # Filters
//!
//! A filter is a boolean expression of conditions:
//!
//! ```text
//! status = 'completed' and metrics.loss.min < 0.1 and (tags = 'bert' or params.lr >= 1e-4)
//! ```
//!
//! * **Conditions**: `field = value`, `!=` (or `<>`), `<`, `<=`, `>`, `>=`;
//!   `field like 'pattern'` and `field not like 'pattern'` (`%` matches any
//!   run of characters, `_` one character); `field in (v1, v2, …)` and
//!   `field not in (…)`; `field is null` and `field is not null`.
//! * **Logic**: `and`, `or`, `not` and parentheses; `and` binds tighter than
//!   `or`, so `a or b and c` means `a or (b and c)`. Keywords are
//!   case-insensitive.
//! * **Values**: strings in single or double quotes, where `\'`, `\"` and
//!   `\\` stand for a quote and a backslash; integers and decimals, with an
//!   optional leading `-` and exponent (`-3`, `0.5`, `1e-4`); `true` and `false`.
//!
//! # Fields
//!
//! | field | values | notes |
//! |---|---|---|
//! | `uid`, `space`, `name`, `status`, `username`, `parent_uid` | strings | all operators, incl. `like` |
//! | `created_at`, `ended_at` | unix milliseconds, or a UTC date string | `'2026-11-26'`, `'2026-11-26T10:00:00Z'`, `'2026-11-26 10:00+02:00'` |
//! | `version` | `'MAJOR.MINOR.PATCH'` | compared as semver: `'1.10.0' > '1.9.0'` |
//! | `tags` (or `tag`) | a string | `tags = 'x'`: has tag x; `tags != 'x'`: lacks it; no other operator |
//! | `params.<name>` (or `param.`, `parameters.`) | any | a literal matches parameters of its own kind: numbers match int and float parameters numerically, strings match string parameters, `true`/`false` boolean ones |
//! | `metrics.<name>.<stat>` | numbers | `stat` is `count`, `min`, `max`, `mean`, `first`, `last` (the default) or `last_step` |
//!
//! Field names and statistics are case-insensitive; parameter and metric
//! names are not. Names may contain letters, digits, `_`, `-`, `/` and `:`;
//! quote any other name in backticks: ``metrics.`val.loss`.max``,
//! ``params.`model.depth` ``.
//!
//! A date without a time means midnight UTC, so `created_at >= '2026-11-26'`
//! selects experiments created on or after that day.
//!
//! In a `like` pattern a backslash makes `%`, `_` or `\` literal. Since the
//! string itself needs `\\` for a backslash, a literal `%` is written
//! `name like '100\\%%'`. Whether `like` ignores ASCII case is up to the
//! store: SQLite does, PostgreSQL does not.
//!
//! # Missing values
//!
//! A condition on a value that an experiment lacks — a parameter it never
//! logged, a metric statistic it has none of, `ended_at` while it runs,
//! `parent_uid` of a top-level run — is **false**, whatever the operator:
//! `params.lr != 0.1` means "has `lr`, and it is not 0.1" (a value of another
//! kind, such as the string `'0.1'`, also counts as not equal). `not` is an
//! exact complement, so `not params.lr = 0.1` also selects experiments
//! without `lr`. Test for absence with `is null`: `params.lr is null`,
//! `ended_at is null`. The same holds for `not in` and `not like`.
//!
//! # Sorting
//!
//! `order_by` is a list of `field [asc|desc]` strings (ascending by
//! default) over the same fields, except `tags`. Experiments without the
//! value sort last in both directions. `version` sorts as semver. A
//! parameter sorts numeric values first (numerically), then strings and
//! booleans (as text). Ties, and the whole order when no field is given,
//! fall back to newest first (`created_at desc`), then `uid`.
//!
//! # Size
//!
//! A search runs as one SQL statement, so a filter holds at most
//! [`MAX_CONDITIONS`] conditions (a version `in` list counts one per
//! version), [`MAX_VALUES`] values in all and [`MAX_LIST_VALUES`] values per
//! `in` list, and an order-by list at most [`MAX_ORDER_ITEMS`] items; larger
//! ones are refused with [`QueryErrorKind::TooLarge`]. No string or name may
//! hold a NUL character. Trees built outside the parser are checked against
//! the same bounds with [`check_filter`] and [`check_order_by`].
//!
//! # Example
//!
//! ```
//! use opsml_query::{compile, parse_filter, parse_order_by, Value};
//!
//! let filter = parse_filter("status = 'completed' and metrics.loss.min < 0.5")?;
//! let order = parse_order_by(&["metrics.loss.min", "name desc"])?;
//! let compiled = compile(Some(&filter), &order);
//! let sql = format!(
//!     "SELECT uid FROM experiments WHERE {} ORDER BY {} LIMIT 100",
//!     compiled.where_sql, compiled.order_sql
//! );
//! assert!(sql.contains("experiments.status = ?"));
//! assert_eq!(compiled.params[0], Value::Text("completed".into()));
//!
//! let err = parse_filter("status > ").unwrap_err();
//! assert_eq!(err.position(), 9);
//! assert_eq!(
//!     err.to_string(),
//!     "expected a value after '>' at position 9: status > \n\
//!      \x20                                                  ^"
//! );
//! # Ok::<(), opsml_query::QueryError>(())
//! ```

mod ast;
mod check;
mod compile;
mod date;
mod error;
mod fields;
mod lexer;
mod limits;
mod parser;

pub use ast::{
    CmpOp, Condition, Expr, MetricStat, Number, OrderItem, OrderKey, ParamValue, Test, TextField,
    TimeField, Version,
};
pub use compile::{compile, compile_with, Compiled, Dialect, Value};
pub use error::{QueryError, QueryErrorKind};
pub use limits::{
    check_filter, check_order_by, MAX_CONDITIONS, MAX_LIST_VALUES, MAX_ORDER_ITEMS, MAX_VALUES,
};

/// Parses and type-checks a filter. An empty or all-whitespace filter is
/// `Expr::And(vec![])`, which compiles to no condition.
pub fn parse_filter(src: &str) -> Result<Expr, QueryError> {
    parser::parse_filter(src).map_err(|e| e.with_input(src))
}

/// Parses an order-by list, one `field [asc|desc]` per item. An error's
/// position is within its item, and [`QueryError::item`] says which one.
pub fn parse_order_by(items: &[&str]) -> Result<Vec<OrderItem>, QueryError> {
    if let Some(extra) = items.get(MAX_ORDER_ITEMS) {
        return Err(QueryError::new(
            QueryErrorKind::TooLarge,
            0,
            limits::order_too_long(items.len()),
        )
        .with_input(extra)
        .in_item(MAX_ORDER_ITEMS));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, src)| parser::parse_order_item(src).map_err(|e| e.with_input(src).in_item(i)))
        .collect()
}

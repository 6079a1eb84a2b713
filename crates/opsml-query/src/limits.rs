//! How large a search may be. A filter becomes one SQL statement: each value a bound
//! parameter (SQLite takes at most 32,766 in a statement, PostgreSQL 65,535) and each
//! condition a level of SQLite's expression tree (at most 1,000 deep). Bounds well below
//! those let the language refuse an oversized search with a message naming the bound it
//! passed, instead of the store failing on it. A NUL character is refused too: no stored
//! text can hold one, and PostgreSQL refuses to even compare with it.

use crate::ast::{Condition, Expr, OrderItem, OrderKey, ParamValue, Test};
use crate::error::{QueryError, QueryErrorKind};
use crate::parser::MAX_DEPTH;

/// Most conditions in one filter; a version `in` list counts one per version, since each
/// is a comparison of its own.
pub const MAX_CONDITIONS: usize = 200;
/// Most values in one `in` list.
pub const MAX_LIST_VALUES: usize = 1_000;
/// Most values in one filter, all conditions and lists together.
pub const MAX_VALUES: usize = 5_000;
/// Most items in one order-by list.
pub const MAX_ORDER_ITEMS: usize = 32;
/// Deepest nesting of `and`, `or` and `not` in a tree built outside the parser: more than
/// any filter text within [`MAX_DEPTH`] parses to.
const MAX_TREE_DEPTH: usize = 2 * MAX_DEPTH;

/// The size of a filter so far.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    conditions: usize,
    values: usize,
}

impl Tally {
    /// Counts one more condition; the error names the bound it passes.
    pub(crate) fn add(&mut self, condition: &Condition) -> Result<(), String> {
        let (conditions, values, longest_list) = size(condition);
        if longest_list > MAX_LIST_VALUES {
            return Err(list_too_long());
        }
        self.conditions += conditions;
        self.values += values;
        if self.conditions > MAX_CONDITIONS {
            return Err(format!(
                "a filter may hold at most {MAX_CONDITIONS} conditions (a version `in` list \
                 counts one per version); split the search"
            ));
        }
        if self.values > MAX_VALUES {
            return Err(format!(
                "a filter may hold at most {MAX_VALUES} values in all; split the search"
            ));
        }
        Ok(())
    }
}

pub(crate) fn list_too_long() -> String {
    format!("an `in` list may hold at most {MAX_LIST_VALUES} values; split the search")
}

pub(crate) fn nul_refused(what: &str) -> String {
    format!("a {what} cannot hold a NUL character")
}

/// Conditions, values and the longest `in` list of one condition.
fn size(condition: &Condition) -> (usize, usize, usize) {
    fn test<T>(test: &Test<T>) -> (usize, usize) {
        match test {
            Test::Compare(..) => (1, 1),
            Test::In(items) | Test::NotIn(items) => (items.len(), items.len()),
            Test::IsNull | Test::IsNotNull => (0, 0),
        }
    }
    match condition {
        Condition::Text { test: t, .. } => {
            let (values, list) = test(t);
            (1, values, list)
        }
        Condition::Time { test: t, .. } => {
            let (values, list) = test(t);
            (1, values, list)
        }
        Condition::Version(t) => {
            let (values, list) = test(t);
            (values.max(1), values, list)
        }
        Condition::Param { test: t, .. } => {
            let (values, list) = test(t);
            (1, values, list)
        }
        Condition::Metric { test: t, .. } => {
            let (values, list) = test(t);
            (1, values, list)
        }
        Condition::Like { .. } | Condition::Tag { .. } | Condition::ParamLike { .. } => (1, 1, 0),
    }
}

/// The text a condition sends to the store, each with what it is.
fn texts(condition: &Condition) -> Vec<(&'static str, &str)> {
    fn tested<'a, T>(test: &'a Test<T>, as_text: fn(&'a T) -> Option<&'a str>) -> Vec<&'a str> {
        match test {
            Test::Compare(_, value) => as_text(value).into_iter().collect(),
            Test::In(items) | Test::NotIn(items) => items.iter().filter_map(as_text).collect(),
            Test::IsNull | Test::IsNotNull => Vec::new(),
        }
    }
    match condition {
        Condition::Text { test, .. } => tested(test, |text: &String| Some(text.as_str()))
            .into_iter()
            .map(|s| ("string", s))
            .collect(),
        Condition::Like { pattern, .. } => vec![("pattern", pattern.as_str())],
        Condition::Tag { tag, .. } => vec![("tag", tag.as_str())],
        Condition::Param { name, test } => {
            let mut found = vec![("parameter name", name.as_str())];
            found.extend(tested(test, param_text).into_iter().map(|s| ("string", s)));
            found
        }
        Condition::ParamLike { name, pattern, .. } => vec![
            ("parameter name", name.as_str()),
            ("pattern", pattern.as_str()),
        ],
        Condition::Metric { name, .. } => vec![("metric name", name.as_str())],
        Condition::Time { .. } | Condition::Version(_) => Vec::new(),
    }
}

fn param_text(value: &ParamValue) -> Option<&str> {
    match value {
        ParamValue::Text(text) => Some(text),
        ParamValue::Number(_) | ParamValue::Bool(_) => None,
    }
}

fn too_large(message: String) -> QueryError {
    QueryError::unlocated(QueryErrorKind::TooLarge, message)
}

fn refuse_nul(what: &str, text: &str) -> Result<(), QueryError> {
    if text.contains('\0') {
        return Err(QueryError::unlocated(
            QueryErrorKind::Value,
            format!("{}: {text:?}", nul_refused(what)),
        ));
    }
    Ok(())
}

/// Checks a filter built outside the parser (one a client sent as a tree) against the
/// bounds that the parser applies to filter text: size, nesting and no NUL characters.
pub fn check_filter(filter: &Expr) -> Result<(), QueryError> {
    let mut tally = Tally::default();
    walk(filter, 0, &mut tally)
}

fn walk(expr: &Expr, depth: usize, tally: &mut Tally) -> Result<(), QueryError> {
    if depth > MAX_TREE_DEPTH {
        return Err(too_large(format!(
            "a filter may nest `and`, `or` and `not` at most {MAX_TREE_DEPTH} deep"
        )));
    }
    match expr {
        Expr::And(items) | Expr::Or(items) => items
            .iter()
            .try_for_each(|item| walk(item, depth + 1, tally)),
        Expr::Not(inner) => walk(inner, depth + 1, tally),
        Expr::Cond(condition) => {
            for (what, text) in texts(condition) {
                refuse_nul(what, text)?;
            }
            tally.add(condition).map_err(too_large)
        }
    }
}

/// Checks an order-by list built outside the parser: its length and its names.
pub fn check_order_by(items: &[OrderItem]) -> Result<(), QueryError> {
    if items.len() > MAX_ORDER_ITEMS {
        return Err(too_large(order_too_long(items.len())));
    }
    for item in items {
        match &item.key {
            OrderKey::Param(name) => refuse_nul("parameter name", name)?,
            OrderKey::Metric { name, .. } => refuse_nul("metric name", name)?,
            OrderKey::Text(_) | OrderKey::Time(_) | OrderKey::Version => {}
        }
    }
    Ok(())
}

pub(crate) fn order_too_long(items: usize) -> String {
    format!("order_by may hold at most {MAX_ORDER_ITEMS} items, not {items}")
}

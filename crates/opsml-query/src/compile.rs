//! SQL generation from a checked tree. It cannot fail: every error was
//! raised while parsing, and every user value becomes a bound parameter.
//!
//! Portability: everything but the placeholders and the tag test is standard
//! SQL that SQLite (≥ 3.30: row values, NULLS LAST) and PostgreSQL both run;
//! [`Dialect`] spells those two. On PostgreSQL the driver must bind each
//! [`Value`] with the type the placeholder's context infers (e.g. an
//! `Integer` compared with a DOUBLE PRECISION expression).

use std::fmt::Write as _;

use crate::ast::{
    CmpOp, Condition, Expr, MetricStat, Number, OrderItem, OrderKey, ParamValue, Test, TimeField,
    Version,
};

/// A value bound to one placeholder of [`Compiled`], in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Bound as TEXT.
    Text(String),
    /// Bound as INTEGER (timestamps, version parts, integer literals).
    Integer(i64),
    /// Bound as REAL / DOUBLE PRECISION.
    Real(f64),
    /// Bound as a boolean. The current compiler never emits it, because the
    /// store keeps booleans as the text `'true'`/`'false'`; it exists so that
    /// callers' conversions stay exhaustive if a boolean column is added.
    Bool(bool),
}

/// The SQL database the fragments are for. Tags are stored as a JSON array
/// of strings in a text column on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `?` for every parameter; tags read with `json_each`.
    #[default]
    Sqlite,
    /// `$1`, `$2`, … numbered across `where_sql` then `order_sql`; tags read
    /// with `jsonb_array_elements_text`.
    Postgres,
}

/// The SQL fragments of one search, ready to be placed after `WHERE` and
/// `ORDER BY` of a query over `experiments`.
///
/// Columns are qualified with `experiments.`, so the fragments also work
/// when the caller joins other tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// A boolean expression without the `WHERE` keyword; empty when there
    /// is no condition, so callers can skip the clause.
    pub where_sql: String,
    /// Sort expressions without `ORDER BY`; never empty, since a final
    /// `experiments.created_at DESC, experiments.uid` makes results
    /// deterministic for paging.
    pub order_sql: String,
    /// Values for the placeholders of `where_sql` and then `order_sql`, in
    /// textual order.
    pub params: Vec<Value>,
}

/// Compiles a filter and an order-by list for SQLite.
pub fn compile(filter: Option<&Expr>, order: &[OrderItem]) -> Compiled {
    compile_with(filter, order, Dialect::Sqlite)
}

/// Compiles a filter and an order-by list for the given database.
pub fn compile_with(filter: Option<&Expr>, order: &[OrderItem], dialect: Dialect) -> Compiled {
    let mut w = Writer {
        sql: String::new(),
        params: Vec::new(),
        dialect,
    };
    match filter {
        None => {}
        Some(Expr::And(items)) if items.is_empty() => {}
        Some(expr) => w.expr(expr),
    }
    let where_sql = std::mem::take(&mut w.sql);
    for item in order {
        w.order_item(item);
        w.sql.push_str(", ");
    }
    w.sql
        .push_str("experiments.created_at DESC, experiments.uid");
    Compiled {
        where_sql,
        order_sql: w.sql,
        params: w.params,
    }
}

/// The value stored in `created_at` / `ended_at` (unix microseconds) for a time in unix
/// milliseconds. The one place to change if the store's unit changes.
fn store_time(millis: i64) -> i64 {
    millis.saturating_mul(1000)
}

const PARAM_ROW: &str = "FROM parameters p WHERE p.experiment_uid = experiments.uid AND p.name = ";
const METRIC_ROW: &str =
    "FROM metric_summaries m WHERE m.experiment_uid = experiments.uid AND m.name = ";
const NUM_KIND: &str = "p.kind IN ('int', 'float')";
/// The CASE keeps PostgreSQL from casting a text value to a number: it does
/// not promise to evaluate the kind test before the cast.
const NUM_VALUE: &str =
    "CASE WHEN p.kind IN ('int', 'float') THEN CAST(p.value AS DOUBLE PRECISION) END";
const LIKE_ESCAPE: &str = " ESCAPE '\\'";

struct Writer {
    sql: String,
    params: Vec<Value>,
    dialect: Dialect,
}

impl Writer {
    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    fn bind(&mut self, value: Value) {
        self.params.push(value);
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => {
                let _ = write!(self.sql, "${}", self.params.len());
            }
        }
    }

    fn bind_number(&mut self, n: Number) {
        self.bind(match n {
            Number::Integer(i) => Value::Integer(i),
            Number::Real(r) => Value::Real(r),
        });
    }

    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.push("(");
        for (k, item) in items.iter().enumerate() {
            if k > 0 {
                self.push(", ");
            }
            each(self, item);
        }
        self.push(")");
    }

    fn joined(&mut self, items: &[Expr], op: &str, empty: &str) {
        match items {
            [] => self.push(empty),
            [only] => self.expr(only),
            _ => {
                self.push("(");
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        self.push(op);
                    }
                    self.expr(item);
                }
                self.push(")");
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::And(items) => self.joined(items, " AND ", "(1 = 1)"),
            Expr::Or(items) => self.joined(items, " OR ", "(1 = 0)"),
            Expr::Not(inner) => {
                self.push("NOT (");
                self.expr(inner);
                self.push(")");
            }
            Expr::Cond(c) => self.condition(c),
        }
    }

    fn condition(&mut self, c: &Condition) {
        match c {
            Condition::Text { field, test } => {
                let col = format!("experiments.{}", field.column());
                self.column_test(&col, field.nullable(), test, |w, v| {
                    w.bind(Value::Text(v.clone()));
                });
            }
            Condition::Like {
                field,
                pattern,
                negated,
            } => {
                let col = format!("experiments.{}", field.column());
                self.guard_null(&col, field.nullable(), |w| {
                    w.push(&col);
                    w.push(if *negated { " NOT LIKE " } else { " LIKE " });
                    w.bind(Value::Text(pattern.clone()));
                    w.push(LIKE_ESCAPE);
                });
            }
            Condition::Time { field, test } => self.time(*field, test),
            Condition::Version(test) => self.version(test),
            Condition::Tag { tag, present } => {
                if !present {
                    self.push("NOT ");
                }
                self.push(match self.dialect {
                    Dialect::Sqlite => {
                        "EXISTS (SELECT 1 FROM json_each(experiments.tags) WHERE value = "
                    }
                    Dialect::Postgres => {
                        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(experiments.tags::jsonb) \
                         AS tag(value) WHERE value = "
                    }
                });
                self.bind(Value::Text(tag.clone()));
                self.push(")");
            }
            Condition::Param { name, test } => self.param(name, test),
            Condition::ParamLike {
                name,
                pattern,
                negated,
            } => {
                self.param_exists(name, true);
                self.push(" AND ");
                if *negated {
                    self.push("NOT ");
                }
                self.push("(p.kind = 'str' AND p.value LIKE ");
                self.bind(Value::Text(pattern.clone()));
                self.push(LIKE_ESCAPE);
                self.push("))");
            }
            Condition::Metric { name, stat, test } => self.metric(name, *stat, test),
        }
    }

    /// `(col IS NOT NULL AND …)` for nullable columns, so that a missing
    /// value makes the test false rather than NULL and `not` stays a true
    /// complement.
    fn guard_null(&mut self, col: &str, nullable: bool, body: impl FnOnce(&mut Self)) {
        if nullable {
            self.push("(");
            self.push(col);
            self.push(" IS NOT NULL AND ");
            body(self);
            self.push(")");
        } else {
            body(self);
        }
    }

    fn column_test<T>(
        &mut self,
        col: &str,
        nullable: bool,
        test: &Test<T>,
        mut bind: impl FnMut(&mut Self, &T),
    ) {
        match test {
            Test::IsNull => {
                self.push(col);
                self.push(" IS NULL");
            }
            Test::IsNotNull => {
                self.push(col);
                self.push(" IS NOT NULL");
            }
            Test::Compare(op, v) => self.guard_null(col, nullable, |w| {
                w.push(col);
                w.push(" ");
                w.push(op.sql());
                w.push(" ");
                bind(w, v);
            }),
            Test::In(vs) | Test::NotIn(vs) => self.guard_null(col, nullable, |w| {
                if vs.is_empty() {
                    // Only reachable through a hand-built tree.
                    w.push(if matches!(test, Test::In(_)) {
                        "(1 = 0)"
                    } else {
                        "(1 = 1)"
                    });
                    return;
                }
                w.push(col);
                w.push(if matches!(test, Test::In(_)) {
                    " IN "
                } else {
                    " NOT IN "
                });
                w.list(vs, |w, v| bind(w, v));
            }),
        }
    }

    fn time(&mut self, field: TimeField, test: &Test<i64>) {
        let col = format!("experiments.{}", field.column());
        self.column_test(&col, field.nullable(), test, |w, ms| {
            w.bind(Value::Integer(store_time(*ms)));
        });
    }

    fn version_tuple(&mut self, op: CmpOp, v: Version) {
        self.push("(experiments.major, experiments.minor, experiments.patch) ");
        self.push(op.sql());
        self.push(" ");
        self.list(&[v.major, v.minor, v.patch], |w, part| {
            w.bind(Value::Integer(*part));
        });
    }

    /// Row-value comparisons (SQLite ≥ 3.15, PostgreSQL) give semver order
    /// on the integer parts: `(1, 10, 0) > (1, 9, 0)`.
    fn version(&mut self, test: &Test<Version>) {
        match test {
            Test::Compare(op, v) => self.version_tuple(*op, *v),
            Test::In(vs) | Test::NotIn(vs) => {
                if matches!(test, Test::NotIn(_)) {
                    self.push("NOT ");
                }
                self.push("(");
                if vs.is_empty() {
                    self.push("1 = 0");
                }
                for (k, v) in vs.iter().enumerate() {
                    if k > 0 {
                        self.push(" OR ");
                    }
                    self.version_tuple(CmpOp::Eq, *v);
                }
                self.push(")");
            }
            Test::IsNull => self.push("experiments.version IS NULL"),
            Test::IsNotNull => self.push("experiments.version IS NOT NULL"),
        }
    }

    /// `[NOT ]EXISTS (SELECT 1 FROM parameters p WHERE … AND p.name = ?` —
    /// left open so callers can add a condition and the closing parenthesis.
    fn param_exists(&mut self, name: &str, exists: bool) {
        self.push(if exists {
            "EXISTS (SELECT 1 "
        } else {
            "NOT EXISTS (SELECT 1 "
        });
        self.push(PARAM_ROW);
        self.bind(Value::Text(name.to_owned()));
    }

    fn param(&mut self, name: &str, test: &Test<ParamValue>) {
        match test {
            Test::IsNull | Test::IsNotNull => {
                self.param_exists(name, matches!(test, Test::IsNotNull));
                self.push(")");
                return;
            }
            _ => self.param_exists(name, true),
        }
        self.push(" AND ");
        match test {
            // "Exists and is not equal": a value of another kind differs too.
            Test::Compare(CmpOp::Ne, v) => {
                self.push("NOT ");
                self.param_compare(CmpOp::Eq, v);
            }
            Test::Compare(op, v) => self.param_compare(*op, v),
            Test::In(vs) => self.param_in(vs),
            Test::NotIn(vs) => {
                self.push("NOT ");
                self.param_in(vs);
            }
            Test::IsNull | Test::IsNotNull => {}
        }
        self.push(")");
    }

    /// A two-valued comparison that only matches parameters of the
    /// literal's kind: the kind test is FALSE, never NULL, for other kinds.
    fn param_compare(&mut self, op: CmpOp, v: &ParamValue) {
        match v {
            ParamValue::Number(n) => {
                let _ = write!(self.sql, "({NUM_KIND} AND {NUM_VALUE} {} ", op.sql());
                self.bind_number(*n);
            }
            ParamValue::Text(s) => {
                let _ = write!(self.sql, "(p.kind = 'str' AND p.value {} ", op.sql());
                self.bind(Value::Text(s.clone()));
            }
            ParamValue::Bool(b) => {
                let _ = write!(self.sql, "(p.kind = 'bool' AND p.value {} '{b}'", op.sql());
            }
        }
        self.push(")");
    }

    /// Membership grouped by kind: `(numbers) OR (strings) OR (booleans)`.
    fn param_in(&mut self, vs: &[ParamValue]) {
        let numbers: Vec<Number> = vs
            .iter()
            .filter_map(|v| match v {
                ParamValue::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        let texts: Vec<&String> = vs
            .iter()
            .filter_map(|v| match v {
                ParamValue::Text(s) => Some(s),
                _ => None,
            })
            .collect();
        let bools: Vec<bool> = vs
            .iter()
            .filter_map(|v| match v {
                ParamValue::Bool(b) => Some(*b),
                _ => None,
            })
            .collect();
        let mut first = true;
        let mut sep = |w: &mut Self| {
            w.push(if first { "(" } else { " OR " });
            first = false;
        };
        if !numbers.is_empty() {
            sep(self);
            let _ = write!(self.sql, "({NUM_KIND} AND {NUM_VALUE} IN ");
            self.list(&numbers, |w, n| w.bind_number(*n));
            self.push(")");
        }
        if !texts.is_empty() {
            sep(self);
            self.push("(p.kind = 'str' AND p.value IN ");
            self.list(&texts, |w, s| w.bind(Value::Text((*s).clone())));
            self.push(")");
        }
        if !bools.is_empty() {
            sep(self);
            self.push("(p.kind = 'bool' AND p.value IN ");
            self.list(&bools, |w, b| w.push(if *b { "'true'" } else { "'false'" }));
            self.push(")");
        }
        if first {
            self.push("(1 = 0");
        }
        self.push(")");
    }

    /// Inside EXISTS a NULL statistic simply selects no row, so every test
    /// is two-valued and requires the statistic to exist.
    fn metric(&mut self, name: &str, stat: MetricStat, test: &Test<Number>) {
        let col = format!("m.{}", stat.column());
        self.push(if matches!(test, Test::IsNull) {
            "NOT EXISTS (SELECT 1 "
        } else {
            "EXISTS (SELECT 1 "
        });
        self.push(METRIC_ROW);
        self.bind(Value::Text(name.to_owned()));
        self.push(" AND ");
        self.push(&col);
        match test {
            Test::IsNull | Test::IsNotNull => self.push(" IS NOT NULL"),
            Test::Compare(op, n) => {
                self.push(" ");
                self.push(op.sql());
                self.push(" ");
                self.bind_number(*n);
            }
            Test::In(ns) | Test::NotIn(ns) => {
                let is_in = matches!(test, Test::In(_));
                if ns.is_empty() {
                    // Only reachable through a hand-built tree.
                    self.push(if is_in {
                        " IS NOT NULL AND 1 = 0"
                    } else {
                        " IS NOT NULL"
                    });
                } else {
                    self.push(if is_in { " IN " } else { " NOT IN " });
                    self.list(ns, |w, n| w.bind_number(*n));
                }
            }
        }
        self.push(")");
    }

    fn order_item(&mut self, item: &OrderItem) {
        let dir = if item.descending { " DESC" } else { " ASC" };
        match &item.key {
            OrderKey::Text(f) => self.order_column(f.column(), f.nullable(), dir),
            OrderKey::Time(f) => self.order_column(f.column(), f.nullable(), dir),
            OrderKey::Version => {
                let _ = write!(
                    self.sql,
                    "experiments.major{dir}, experiments.minor{dir}, experiments.patch{dir}"
                );
            }
            OrderKey::Param(name) => {
                // Numbers sort numerically before text; PostgreSQL cannot
                // mix both in one sort key, so they are two keys.
                self.push("(SELECT CAST(p.value AS DOUBLE PRECISION) ");
                self.push(PARAM_ROW);
                self.bind(Value::Text(name.clone()));
                let _ = write!(
                    self.sql,
                    " AND {NUM_KIND}){dir} NULLS LAST, (SELECT p.value "
                );
                self.push(PARAM_ROW);
                self.bind(Value::Text(name.clone()));
                let _ = write!(self.sql, " AND p.kind IN ('str', 'bool')){dir} NULLS LAST");
            }
            OrderKey::Metric { name, stat } => {
                let _ = write!(self.sql, "(SELECT m.{} ", stat.column());
                self.push(METRIC_ROW);
                self.bind(Value::Text(name.clone()));
                let _ = write!(self.sql, "){dir} NULLS LAST");
            }
        }
    }

    /// NULLS LAST (SQLite ≥ 3.30, PostgreSQL) puts missing values last in
    /// both directions and, unlike `x IS NULL, x`, evaluates `x` once.
    fn order_column(&mut self, column: &str, nullable: bool, dir: &str) {
        let _ = write!(self.sql, "experiments.{column}{dir}");
        if nullable {
            self.push(" NULLS LAST");
        }
    }
}

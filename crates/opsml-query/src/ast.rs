//! The checked syntax tree a filter and an order-by list parse into.
//!
//! Every condition is already typed: a date is unix milliseconds, a version is
//! three integers, a parameter literal knows its kind. So an invalid query
//! (`tags > 'x'`, `status > 3`) cannot be represented, and [`compile`] never
//! fails. Callers may also build trees by hand, e.g. to add the `space`
//! argument of `search_experiments` as one more condition.
//!
//! [`compile`]: crate::compile
//!
//! Trees travel between an opsml client and server as their serde forms: any tree that
//! deserializes is one `compile` accepts.

use serde::{Deserialize, Serialize};

/// A boolean filter over experiments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// True when every child is; `And(vec![])` is always true and is what an
    /// empty filter parses to, so it compiles to no WHERE condition at all.
    And(Vec<Expr>),
    /// True when any child is; `Or(vec![])` is always false.
    Or(Vec<Expr>),
    /// The complement of its child. Conditions are two-valued (a missing
    /// value makes a comparison false, never SQL NULL), so `not` includes
    /// exactly the experiments its child excludes.
    Not(Box<Expr>),
    /// One test on one field.
    Cond(Condition),
}

impl Expr {
    /// Combines two filters with `and`, flattening nested conjunctions so
    /// the generated SQL stays shallow.
    #[must_use]
    pub fn and(self, other: Expr) -> Expr {
        let mut items = match self {
            Expr::And(items) => items,
            e => vec![e],
        };
        match other {
            Expr::And(more) => items.extend(more),
            e => items.push(e),
        }
        Expr::And(items)
    }
}

/// A single typed test, one variant per family of fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    /// A text column of the card.
    Text {
        /// Which column.
        field: TextField,
        /// The test; values are compared as text.
        test: Test<String>,
    },
    /// `field like 'pattern'` on a text column (`%` any run, `_` any
    /// character, backslash escapes either).
    Like {
        /// Which column.
        field: TextField,
        /// The SQL LIKE pattern.
        pattern: String,
        /// `not like`.
        negated: bool,
    },
    /// A timestamp column; values in the tree are unix milliseconds (UTC), the store keeps microseconds.
    Time {
        /// Which column.
        field: TimeField,
        /// The test.
        test: Test<i64>,
    },
    /// The card version, compared as semver on its integer parts.
    Version(Test<Version>),
    /// Whether the experiment carries a tag (`tags = 'x'` / `tags != 'x'`).
    Tag {
        /// The tag, matched exactly.
        tag: String,
        /// `true` for `=`, `false` for `!=`.
        present: bool,
    },
    /// A logged parameter, by name.
    Param {
        /// The parameter name, case-sensitive.
        name: String,
        /// The test; each literal only matches parameters of its own kind.
        test: Test<ParamValue>,
    },
    /// `params.x like 'pattern'`, matching string parameters only.
    ParamLike {
        /// The parameter name.
        name: String,
        /// The SQL LIKE pattern.
        pattern: String,
        /// `not like`: the parameter exists and is not a matching string.
        negated: bool,
    },
    /// One summary statistic of a logged metric.
    Metric {
        /// The metric name, case-sensitive.
        name: String,
        /// Which statistic of the metric.
        stat: MetricStat,
        /// The test.
        test: Test<Number>,
    },
}

/// The operator part of a condition, generic over the field's value type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Test<T> {
    /// `field OP value`.
    Compare(CmpOp, T),
    /// `field in (a, b, …)`; never empty when parsed.
    In(Vec<T>),
    /// `field not in (a, b, …)`: the value exists and is none of these.
    NotIn(Vec<T>),
    /// `field is null`: the value is missing.
    IsNull,
    /// `field is not null`: the value exists.
    IsNotNull,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`: the value exists and differs.
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The SQL spelling (`<>` rather than `!=` since it is the standard one).
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether this is `=` or `!=`, the only operators booleans and tags allow.
    pub fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// The text columns of `experiments` a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextField {
    /// `uid`
    Uid,
    /// `space`
    Space,
    /// `name`
    Name,
    /// `status` (`running`, `completed`, `failed`, `killed`)
    Status,
    /// `parent_uid`, missing for top-level experiments.
    ParentUid,
    /// `username`
    Username,
}

impl TextField {
    /// The column name, identical to the field name users write.
    pub fn column(self) -> &'static str {
        match self {
            TextField::Uid => "uid",
            TextField::Space => "space",
            TextField::Name => "name",
            TextField::Status => "status",
            TextField::ParentUid => "parent_uid",
            TextField::Username => "username",
        }
    }

    /// Whether the column may hold NULL, which the compiler must guard so
    /// that comparisons stay two-valued.
    pub fn nullable(self) -> bool {
        matches!(self, TextField::ParentUid)
    }
}

/// The timestamp columns of `experiments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeField {
    /// `created_at`
    CreatedAt,
    /// `ended_at`, missing while the experiment runs.
    EndedAt,
}

impl TimeField {
    /// The column name, identical to the field name users write.
    pub fn column(self) -> &'static str {
        match self {
            TimeField::CreatedAt => "created_at",
            TimeField::EndedAt => "ended_at",
        }
    }

    /// Whether the column may hold NULL.
    pub fn nullable(self) -> bool {
        matches!(self, TimeField::EndedAt)
    }
}

/// A `major.minor.patch` version, the parts the store keeps as integers so
/// that `1.10.0 > 1.9.0` holds, unlike a text comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version {
    /// Major part.
    pub major: i64,
    /// Minor part.
    pub minor: i64,
    /// Patch part.
    pub patch: i64,
}

/// A numeric literal, kept as written so integers bind as integers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Number {
    /// Written without a fraction or exponent.
    Integer(i64),
    /// Written with a fraction or exponent.
    Real(f64),
}

/// A literal compared with a parameter; its type selects which parameter
/// kinds can match (numbers match `int` and `float`, text `str`, booleans `bool`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    /// Matches `int` and `float` parameters, numerically.
    Number(Number),
    /// Matches `str` parameters, as text.
    Text(String),
    /// Matches `bool` parameters.
    Bool(bool),
}

/// A statistic of `metric_summaries`, one column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MetricStat {
    /// Number of points logged.
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Arithmetic mean.
    Mean,
    /// Value at the first step.
    First,
    /// Value at the last step; the default when no statistic is written.
    Last,
    /// The last step number.
    LastStep,
}

impl MetricStat {
    /// Every statistic, in the order error messages list them.
    pub const ALL: [MetricStat; 7] = [
        MetricStat::Count,
        MetricStat::Min,
        MetricStat::Max,
        MetricStat::Mean,
        MetricStat::First,
        MetricStat::Last,
        MetricStat::LastStep,
    ];

    /// The column name, identical to the statistic name users write.
    pub fn column(self) -> &'static str {
        match self {
            MetricStat::Count => "count",
            MetricStat::Min => "min",
            MetricStat::Max => "max",
            MetricStat::Mean => "mean",
            MetricStat::First => "first",
            MetricStat::Last => "last",
            MetricStat::LastStep => "last_step",
        }
    }
}

/// One `field [asc|desc]` entry of an order-by list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    /// What to sort by.
    pub key: OrderKey,
    /// `desc`; ascending otherwise.
    pub descending: bool,
}

/// A sortable field. Tags are a set and have no order, so they are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderKey {
    /// A text column.
    Text(TextField),
    /// A timestamp column.
    Time(TimeField),
    /// Semver order on major, minor, patch.
    Version,
    /// A parameter: numeric values first (numerically), then text and
    /// booleans (as text), then experiments without it.
    Param(String),
    /// A metric statistic; experiments without it sort last.
    Metric {
        /// The metric name.
        name: String,
        /// The statistic.
        stat: MetricStat,
    },
}

//! Type checking: turns a field, an operator and untyped literals into a
//! typed [`Condition`], converting dates and versions on the way. All
//! semantic errors are raised here, with the position of the offending
//! operator or literal.

use crate::ast::{CmpOp, Condition, Number, ParamValue, Test, Version};
use crate::date::parse_iso_millis;
use crate::error::{QueryError, QueryErrorKind};
use crate::fields::FieldRef;

/// A literal as written, before it is checked against a field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LitValue {
    Str(String),
    Int(i64),
    Real(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lit {
    pub value: LitValue,
    pub pos: usize,
}

impl Lit {
    fn describe(&self) -> String {
        match &self.value {
            LitValue::Str(s) => format!("string '{s}'"),
            LitValue::Int(i) => format!("number {i}"),
            LitValue::Real(r) => format!("number {r}"),
            LitValue::Bool(b) => b.to_string(),
        }
    }
}

/// The test part of a condition as parsed: `like`, which only text takes,
/// or one of the tests every field type shares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawTest {
    Like { negated: bool, pattern: Lit },
    Plain(PlainTest),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PlainTest {
    Compare(CmpOp, Lit),
    In { negated: bool, items: Vec<Lit> },
    Null { negated: bool },
}

/// Where the operator was and how it was written, for operator errors.
pub(crate) struct OpAt<'a> {
    pub pos: usize,
    pub text: &'a str,
}

pub(crate) fn condition(
    field: FieldRef,
    op: &OpAt<'_>,
    raw: RawTest,
) -> Result<Condition, QueryError> {
    let name = field.describe();
    match field {
        FieldRef::Text(field) => match raw {
            RawTest::Like { negated, pattern } => Ok(Condition::Like {
                field,
                pattern: like_pattern(&name, pattern)?,
                negated,
            }),
            RawTest::Plain(plain) => {
                let test = typed_test(plain, |lit| match lit.value {
                    LitValue::Str(s) => Ok(s),
                    _ => Err(mismatch(&name, "text: expected a quoted string", &lit)),
                })?;
                Ok(Condition::Text { field, test })
            }
        },
        FieldRef::Time(field) => {
            let hint = "compare it with =, <, >, … against a date or unix milliseconds";
            let plain = no_like(raw, op, &name, hint)?;
            let test = typed_test(plain, |lit| time_millis(&name, &lit))?;
            Ok(Condition::Time { field, test })
        }
        FieldRef::Version => {
            let hint = "compare it with =, <, >, … against 'MAJOR.MINOR.PATCH'";
            let plain = no_like(raw, op, &name, hint)?;
            let test = typed_test(plain, |lit| version(&name, &lit))?;
            Ok(Condition::Version(test))
        }
        FieldRef::Tags => tag(op, raw),
        FieldRef::Param(param) => {
            let plain = match raw {
                RawTest::Like { negated, pattern } => {
                    return Ok(Condition::ParamLike {
                        name: param,
                        pattern: like_pattern(&name, pattern)?,
                        negated,
                    })
                }
                RawTest::Plain(plain) => plain,
            };
            if let PlainTest::Compare(
                cmp,
                Lit {
                    value: LitValue::Bool(_),
                    ..
                },
            ) = &plain
            {
                if !cmp.is_equality() {
                    return Err(operator(op, "booleans only compare with = and !="));
                }
            }
            let test = typed_test(plain, |lit| {
                Ok(match lit.value {
                    LitValue::Str(s) => ParamValue::Text(s),
                    LitValue::Int(i) => ParamValue::Number(Number::Integer(i)),
                    LitValue::Real(r) => ParamValue::Number(Number::Real(r)),
                    LitValue::Bool(b) => ParamValue::Bool(b),
                })
            })?;
            Ok(Condition::Param { name: param, test })
        }
        FieldRef::Metric { name: metric, stat } => {
            let plain = no_like(raw, op, &name, "metrics are numbers")?;
            let test = typed_test(plain, |lit| match lit.value {
                LitValue::Int(i) => Ok(Number::Integer(i)),
                LitValue::Real(r) => Ok(Number::Real(r)),
                _ => Err(mismatch(&name, "a number", &lit)),
            })?;
            Ok(Condition::Metric {
                name: metric,
                stat,
                test,
            })
        }
    }
}

/// Maps every literal of a test through `convert`.
fn typed_test<T>(
    plain: PlainTest,
    mut convert: impl FnMut(Lit) -> Result<T, QueryError>,
) -> Result<Test<T>, QueryError> {
    Ok(match plain {
        PlainTest::Compare(op, lit) => Test::Compare(op, convert(lit)?),
        PlainTest::In { negated, items } => {
            let values = items.into_iter().map(convert).collect::<Result<_, _>>()?;
            if negated {
                Test::NotIn(values)
            } else {
                Test::In(values)
            }
        }
        PlainTest::Null { negated: false } => Test::IsNull,
        PlainTest::Null { negated: true } => Test::IsNotNull,
    })
}

fn mismatch(field: &str, expected: &str, found: &Lit) -> QueryError {
    QueryError::new(
        QueryErrorKind::Type,
        found.pos,
        format!("{field} is {expected}, found {}", found.describe()),
    )
}

fn operator(op: &OpAt<'_>, message: &str) -> QueryError {
    QueryError::new(
        QueryErrorKind::Operator,
        op.pos,
        format!("'{}' cannot be used here: {message}", op.text),
    )
}

/// Rejects `like` for fields that are not text.
fn no_like(raw: RawTest, op: &OpAt<'_>, field: &str, hint: &str) -> Result<PlainTest, QueryError> {
    match raw {
        RawTest::Like { .. } => Err(operator(op, &format!("{field} is not text; {hint}"))),
        RawTest::Plain(plain) => Ok(plain),
    }
}

/// Tags are a set: only membership (`=`) and its negation (`!=`) make sense.
fn tag(op: &OpAt<'_>, raw: RawTest) -> Result<Condition, QueryError> {
    match raw {
        RawTest::Plain(PlainTest::Compare(cmp, lit)) if cmp.is_equality() => match lit.value {
            LitValue::Str(tag) => Ok(Condition::Tag {
                tag,
                present: cmp == CmpOp::Eq,
            }),
            _ => Err(mismatch(
                "tags",
                "a set of strings: expected a quoted tag",
                &lit,
            )),
        },
        _ => Err(operator(
            op,
            "tags only supports tags = 'x' (has the tag) and tags != 'x' (lacks it)",
        )),
    }
}

/// A backslash in a LIKE pattern must escape `%`, `_` or itself, since the
/// compiled SQL declares `ESCAPE '\'` and SQLite and PostgreSQL disagree on
/// what a dangling escape means.
fn like_pattern(field: &str, lit: Lit) -> Result<String, QueryError> {
    let LitValue::Str(pattern) = lit.value else {
        return Err(mismatch(
            field,
            "matched by 'like' with a quoted pattern",
            &lit,
        ));
    };
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && !matches!(chars.next(), Some('%' | '_' | '\\')) {
            return Err(QueryError::new(
                QueryErrorKind::Value,
                lit.pos,
                "in a like pattern a backslash must precede %, _ or another backslash \
                 (write '\\\\%' for a literal %)",
            ));
        }
    }
    Ok(pattern)
}

fn time_millis(field: &str, lit: &Lit) -> Result<i64, QueryError> {
    const EXPECTED: &str = "a time: expected unix milliseconds or a date string like '2026-11-26'";
    match &lit.value {
        LitValue::Int(i) => Ok(*i),
        // Whole reals such as 1.7e12 are fine; the bounds keep the cast exact.
        LitValue::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e18 => Ok(*r as i64),
        LitValue::Real(_) => Err(QueryError::new(
            QueryErrorKind::Value,
            lit.pos,
            format!("{field} takes whole milliseconds, found {}", lit.describe()),
        )),
        LitValue::Str(s) => parse_iso_millis(s)
            .map_err(|message| QueryError::new(QueryErrorKind::Value, lit.pos, message)),
        LitValue::Bool(_) => Err(mismatch(field, EXPECTED, lit)),
    }
}

/// `MAJOR.MINOR.PATCH`; pre-release and build suffixes are rejected because
/// the store keeps only the three integers comparisons use.
fn version(field: &str, lit: &Lit) -> Result<Version, QueryError> {
    let LitValue::Str(text) = &lit.value else {
        return Err(mismatch(
            field,
            "a version: expected a string like '1.2.0'",
            lit,
        ));
    };
    let parts: Vec<&str> = text.split('.').collect();
    let parsed: Option<Vec<i64>> = parts
        .iter()
        .map(|p| {
            let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| p.parse::<i64>().ok()).flatten()
        })
        .collect();
    match parsed.as_deref() {
        Some(&[major, minor, patch]) => Ok(Version {
            major,
            minor,
            patch,
        }),
        _ => Err(QueryError::new(
            QueryErrorKind::Value,
            lit.pos,
            format!("'{text}' is not a version: expected MAJOR.MINOR.PATCH such as '1.2.0'"),
        )),
    }
}

//! Which names a query may use, and what each one refers to.

use crate::ast::{MetricStat, TextField, TimeField};
use crate::error::{QueryError, QueryErrorKind};
use crate::lexer::Segment;

/// A resolved field name, before its operator and literal are checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldRef {
    Text(TextField),
    Time(TimeField),
    Version,
    Tags,
    Param(String),
    Metric { name: String, stat: MetricStat },
}

impl FieldRef {
    /// How messages name the field: as the user would write it.
    pub(crate) fn describe(&self) -> String {
        match self {
            FieldRef::Text(f) => f.column().to_owned(),
            FieldRef::Time(f) => f.column().to_owned(),
            FieldRef::Version => "version".to_owned(),
            FieldRef::Tags => "tags".to_owned(),
            FieldRef::Param(name) => format!("params.{name}"),
            FieldRef::Metric { name, stat } => format!("metrics.{name}.{}", stat.column()),
        }
    }
}

const KNOWN: &str = "uid, space, name, version, status, created_at, ended_at, parent_uid, \
                     username, tags, params.<name> or metrics.<name>[.<stat>]";

fn card_field(name: &str) -> Option<FieldRef> {
    let field = match name.to_ascii_lowercase().as_str() {
        "uid" => FieldRef::Text(TextField::Uid),
        "space" => FieldRef::Text(TextField::Space),
        "name" => FieldRef::Text(TextField::Name),
        "status" => FieldRef::Text(TextField::Status),
        "parent_uid" => FieldRef::Text(TextField::ParentUid),
        "username" => FieldRef::Text(TextField::Username),
        "created_at" => FieldRef::Time(TimeField::CreatedAt),
        "ended_at" => FieldRef::Time(TimeField::EndedAt),
        "version" => FieldRef::Version,
        "tags" | "tag" => FieldRef::Tags,
        _ => return None,
    };
    Some(field)
}

fn stat(name: &str) -> Option<MetricStat> {
    MetricStat::ALL
        .into_iter()
        .find(|s| s.column().eq_ignore_ascii_case(name))
}

fn error(kind: QueryErrorKind, pos: usize, message: String) -> QueryError {
    QueryError::new(kind, pos, message)
}

/// The position just after a bare segment, where a missing part belongs.
fn end_of(segment: &Segment) -> usize {
    segment.pos + segment.text.chars().count()
}

/// Resolves a dotted path. Card field names, prefixes and statistics are
/// case-insensitive like keywords; parameter and metric names are not,
/// because users log them with exact spellings.
pub(crate) fn resolve(segments: &[Segment]) -> Result<FieldRef, QueryError> {
    #[allow(clippy::expect_used, reason = "the lexer never yields an empty path")]
    let (head, rest) = segments
        .split_first()
        .expect("the lexer never yields an empty path");
    let prefix = head.text.to_ascii_lowercase();
    match prefix.as_str() {
        "params" | "param" | "parameters" => match rest {
            [] => Err(error(
                QueryErrorKind::Syntax,
                end_of(head),
                format!("expected a parameter name after '{}.'", head.text),
            )),
            [name] => Ok(FieldRef::Param(name.text.clone())),
            [_, extra, ..] => Err(error(
                QueryErrorKind::Syntax,
                extra.pos,
                "parameter names containing '.' must be quoted with backticks, \
                 e.g. params.`a.b`"
                    .to_owned(),
            )),
        },
        "metrics" | "metric" => match rest {
            [] => Err(error(
                QueryErrorKind::Syntax,
                end_of(head),
                format!("expected a metric name after '{}.'", head.text),
            )),
            [name] => Ok(FieldRef::Metric {
                name: name.text.clone(),
                stat: MetricStat::Last,
            }),
            [name, s] => match stat(&s.text) {
                Some(stat) => Ok(FieldRef::Metric {
                    name: name.text.clone(),
                    stat,
                }),
                None => Err(error(
                    QueryErrorKind::UnknownField,
                    s.pos,
                    format!(
                        "unknown metric statistic '{}'; expected one of count, min, max, \
                         mean, first, last, last_step (quote names containing '.' with \
                         backticks, e.g. metrics.`a.b`.max)",
                        s.text
                    ),
                )),
            },
            [_, _, extra, ..] => Err(error(
                QueryErrorKind::Syntax,
                extra.pos,
                "metric names containing '.' must be quoted with backticks, \
                 e.g. metrics.`val.loss`.max"
                    .to_owned(),
            )),
        },
        _ => match (card_field(&head.text), rest) {
            (Some(field), []) => Ok(field),
            (Some(_), [sub, ..]) => Err(error(
                QueryErrorKind::UnknownField,
                sub.pos,
                format!("field '{}' has no sub-field '{}'", head.text, sub.text),
            )),
            (None, _) => Err(error(
                QueryErrorKind::UnknownField,
                head.pos,
                format!("unknown field '{}'; expected {KNOWN}", head.text),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::{tokenize, Tok};

    fn resolve_str(src: &str) -> Result<FieldRef, QueryError> {
        let lexed = tokenize(src);
        let Tok::Path(segments) = &lexed.tokens[0].tok else {
            panic!("not a path: {src}")
        };
        resolve(segments)
    }

    #[test]
    fn card_fields_are_case_insensitive() {
        assert_eq!(resolve_str("Status"), Ok(FieldRef::Text(TextField::Status)));
        assert_eq!(
            resolve_str("CREATED_AT"),
            Ok(FieldRef::Time(TimeField::CreatedAt))
        );
        assert_eq!(resolve_str("tag"), Ok(FieldRef::Tags));
        assert_eq!(resolve_str("version"), Ok(FieldRef::Version));
    }

    #[test]
    fn params_and_metrics() {
        assert_eq!(resolve_str("params.lr"), Ok(FieldRef::Param("lr".into())));
        assert_eq!(resolve_str("PARAM.LR"), Ok(FieldRef::Param("LR".into())));
        assert_eq!(
            resolve_str("parameters.`a.b`"),
            Ok(FieldRef::Param("a.b".into()))
        );
        assert_eq!(
            resolve_str("metrics.loss"),
            Ok(FieldRef::Metric {
                name: "loss".into(),
                stat: MetricStat::Last
            })
        );
        assert_eq!(
            resolve_str("metric.train/loss.Last_Step"),
            Ok(FieldRef::Metric {
                name: "train/loss".into(),
                stat: MetricStat::LastStep
            })
        );
    }

    #[test]
    fn errors_point_at_the_bad_segment() {
        let e = resolve_str("foo.bar").unwrap_err();
        assert_eq!((e.position(), e.kind()), (0, QueryErrorKind::UnknownField));
        let e = resolve_str("metrics.loss.median").unwrap_err();
        assert_eq!(e.position(), 13);
        let e = resolve_str("metrics.val.loss.max").unwrap_err();
        assert_eq!(e.position(), 17);
        let e = resolve_str("params.a.b").unwrap_err();
        assert_eq!(e.position(), 9);
        let e = resolve_str("status.x").unwrap_err();
        assert_eq!(e.position(), 7);
        let e = resolve_str("params").unwrap_err();
        assert_eq!(e.position(), 6);
    }
}

//! The trees filters and order-by items parse into.

use opsml_query::{
    parse_filter, parse_order_by, CmpOp, Condition, Expr, MetricStat, Number, OrderItem, OrderKey,
    ParamValue, Test, TextField, TimeField, Version,
};

fn parse(src: &str) -> Expr {
    parse_filter(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn cond(src: &str) -> Condition {
    match parse(src) {
        Expr::Cond(c) => c,
        other => panic!("{src:?} is not a single condition: {other:?}"),
    }
}

fn text(field: TextField, op: CmpOp, v: &str) -> Expr {
    Expr::Cond(Condition::Text {
        field,
        test: Test::Compare(op, v.to_owned()),
    })
}

fn status(v: &str) -> Expr {
    text(TextField::Status, CmpOp::Eq, v)
}

#[test]
fn empty_filter_is_the_empty_conjunction() {
    assert_eq!(parse(""), Expr::And(vec![]));
    assert_eq!(parse("  \t\n "), Expr::And(vec![]));
}

#[test]
fn every_comparison_operator() {
    for (src, op) in [
        ("name = 'a'", CmpOp::Eq),
        ("name != 'a'", CmpOp::Ne),
        ("name <> 'a'", CmpOp::Ne),
        ("name < 'a'", CmpOp::Lt),
        ("name <= 'a'", CmpOp::Le),
        ("name > 'a'", CmpOp::Gt),
        ("name >= 'a'", CmpOp::Ge),
        ("name>='a'", CmpOp::Ge),
    ] {
        assert_eq!(parse(src), text(TextField::Name, op, "a"), "{src}");
    }
}

#[test]
fn like_in_and_null_tests() {
    assert_eq!(
        cond("name like 'bert%'"),
        Condition::Like {
            field: TextField::Name,
            pattern: "bert%".into(),
            negated: false
        }
    );
    assert_eq!(
        cond("name NOT LIKE 'bert\\\\_%'"),
        Condition::Like {
            field: TextField::Name,
            pattern: "bert\\_%".into(),
            negated: true
        }
    );
    assert_eq!(
        cond("status in ('failed', \"killed\")"),
        Condition::Text {
            field: TextField::Status,
            test: Test::In(vec!["failed".into(), "killed".into()])
        }
    );
    assert_eq!(
        cond("status not in ('running')"),
        Condition::Text {
            field: TextField::Status,
            test: Test::NotIn(vec!["running".into()])
        }
    );
    assert_eq!(
        cond("parent_uid is null"),
        Condition::Text {
            field: TextField::ParentUid,
            test: Test::IsNull
        }
    );
    assert_eq!(
        cond("ended_at IS NOT NULL"),
        Condition::Time {
            field: TimeField::EndedAt,
            test: Test::IsNotNull
        }
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let a = status("a");
    let b = status("b");
    let c = status("c");
    assert_eq!(
        parse("status = 'a' or status = 'b' and status = 'c'"),
        Expr::Or(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])])
    );
    assert_eq!(
        parse("status = 'a' and status = 'b' or status = 'c'"),
        Expr::Or(vec![Expr::And(vec![a.clone(), b.clone()]), c.clone()])
    );
    // Chains are flat, not nested.
    assert_eq!(
        parse("status = 'a' AND status = 'b' And status = 'c'"),
        Expr::And(vec![a, b, c])
    );
}

#[test]
fn parentheses_override_precedence() {
    let (a, b, c) = (status("a"), status("b"), status("c"));
    assert_eq!(
        parse("(status = 'a' or status = 'b') and status = 'c'"),
        Expr::And(vec![Expr::Or(vec![a.clone(), b.clone()]), c])
    );
    assert_eq!(parse("((((status = 'a'))))"), a);
}

#[test]
fn not_applies_to_the_next_condition_or_group() {
    let (a, b) = (status("a"), status("b"));
    assert_eq!(
        parse("not status = 'a' and status = 'b'"),
        Expr::And(vec![Expr::Not(Box::new(a.clone())), b.clone()])
    );
    assert_eq!(
        parse("NOT (status = 'a' or status = 'b')"),
        Expr::Not(Box::new(Expr::Or(vec![a.clone(), b])))
    );
    assert_eq!(
        parse("not not status = 'a'"),
        Expr::Not(Box::new(Expr::Not(Box::new(a))))
    );
}

#[test]
fn quoting_and_escapes() {
    assert_eq!(
        parse(r"name = 'it\'s'"),
        text(TextField::Name, CmpOp::Eq, "it's")
    );
    assert_eq!(
        parse(r#"name = "say \"hi\"""#),
        text(TextField::Name, CmpOp::Eq, "say \"hi\"")
    );
    assert_eq!(
        parse(r#"name = "it's""#),
        text(TextField::Name, CmpOp::Eq, "it's")
    );
    assert_eq!(
        parse(r"name = 'C:\\runs'"),
        text(TextField::Name, CmpOp::Eq, r"C:\runs")
    );
    assert_eq!(
        parse("name = 'and or not'"),
        text(TextField::Name, CmpOp::Eq, "and or not")
    );
    assert_eq!(
        parse("name = 'ünïcödé ✓'"),
        text(TextField::Name, CmpOp::Eq, "ünïcödé ✓")
    );
}

#[test]
fn backticks_quote_names_with_dots_and_spaces() {
    assert_eq!(
        cond("metrics.`val.loss`.max < 1"),
        Condition::Metric {
            name: "val.loss".into(),
            stat: MetricStat::Max,
            test: Test::Compare(CmpOp::Lt, Number::Integer(1))
        }
    );
    assert_eq!(
        cond("params.`batch size` = 32"),
        Condition::Param {
            name: "batch size".into(),
            test: Test::Compare(CmpOp::Eq, ParamValue::Number(Number::Integer(32)))
        }
    );
    assert_eq!(
        cond("params.`a\\`b` = 'x'"),
        Condition::Param {
            name: "a`b".into(),
            test: Test::Compare(CmpOp::Eq, ParamValue::Text("x".into()))
        }
    );
    // Keywords are fine as names.
    assert_eq!(
        cond("params.and = true"),
        Condition::Param {
            name: "and".into(),
            test: Test::Compare(CmpOp::Eq, ParamValue::Bool(true))
        }
    );
}

#[test]
fn metric_names_and_default_stat() {
    assert_eq!(
        cond("metrics.train/loss:ema-2 >= -1.5e-3"),
        Condition::Metric {
            name: "train/loss:ema-2".into(),
            stat: MetricStat::Last,
            test: Test::Compare(CmpOp::Ge, Number::Real(-1.5e-3))
        }
    );
    for (stat, expected) in [
        ("count", MetricStat::Count),
        ("min", MetricStat::Min),
        ("max", MetricStat::Max),
        ("mean", MetricStat::Mean),
        ("first", MetricStat::First),
        ("last", MetricStat::Last),
        ("last_step", MetricStat::LastStep),
    ] {
        let Condition::Metric { stat: got, .. } = cond(&format!("metric.acc.{stat} in (1, 2.5)"))
        else {
            panic!()
        };
        assert_eq!(got, expected);
    }
}

#[test]
fn param_literal_kinds() {
    assert_eq!(
        cond("param.lr in (0.1, 'auto', false, 3)"),
        Condition::Param {
            name: "lr".into(),
            test: Test::In(vec![
                ParamValue::Number(Number::Real(0.1)),
                ParamValue::Text("auto".into()),
                ParamValue::Bool(false),
                ParamValue::Number(Number::Integer(3)),
            ])
        }
    );
    assert_eq!(
        cond("parameters.opt like 'ada%'"),
        Condition::ParamLike {
            name: "opt".into(),
            pattern: "ada%".into(),
            negated: false
        }
    );
}

#[test]
fn tags() {
    assert_eq!(
        cond("tags = 'bert'"),
        Condition::Tag {
            tag: "bert".into(),
            present: true
        }
    );
    assert_eq!(
        cond("TAG != 'bert'"),
        Condition::Tag {
            tag: "bert".into(),
            present: false
        }
    );
    assert_eq!(
        cond("tags <> 'x'"),
        Condition::Tag {
            tag: "x".into(),
            present: false
        }
    );
}

#[test]
fn versions_parse_into_integer_parts() {
    assert_eq!(
        cond("version >= '1.10.0'"),
        Condition::Version(Test::Compare(
            CmpOp::Ge,
            Version {
                major: 1,
                minor: 10,
                patch: 0
            }
        ))
    );
    assert_eq!(
        cond("version in ('0.1.2', '3.0.0')"),
        Condition::Version(Test::In(vec![
            Version {
                major: 0,
                minor: 1,
                patch: 2
            },
            Version {
                major: 3,
                minor: 0,
                patch: 0
            }
        ]))
    );
}

#[test]
fn dates_become_unix_milliseconds() {
    let day = 1_795_651_200_000; // 2026-11-26T00:00:00Z
    for (src, ms) in [
        ("created_at >= '2026-11-26'", day),
        ("created_at >= '2026-11-26T10:00:00Z'", day + 36_000_000),
        ("created_at >= '2026-11-26T10:00:00.250Z'", day + 36_000_250),
        ("created_at >= '2026-11-26T12:00+02:00'", day + 36_000_000),
        ("created_at >= 1795651200000", day),
        ("created_at >= 1.7956512e12", day),
        ("created_at >= -5", -5),
    ] {
        assert_eq!(
            cond(src),
            Condition::Time {
                field: TimeField::CreatedAt,
                test: Test::Compare(CmpOp::Ge, ms)
            },
            "{src}"
        );
    }
}

#[test]
fn case_insensitive_keywords_and_fields() {
    assert_eq!(
        parse("STATUS = 'a' OR Name LIKE 'b' AND NOT uid IS NULL"),
        parse("status = 'a' or name like 'b' and not uid is null")
    );
    assert_eq!(cond("params.x = TRUE"), cond("params.x = true"));
}

#[test]
fn order_by_items() {
    assert_eq!(
        parse_order_by(&[
            "metrics.loss.min",
            "params.lr DESC",
            "version asc",
            "created_at desc",
            "Name",
            "metrics.`val.acc`",
        ])
        .unwrap(),
        vec![
            OrderItem {
                key: OrderKey::Metric {
                    name: "loss".into(),
                    stat: MetricStat::Min
                },
                descending: false
            },
            OrderItem {
                key: OrderKey::Param("lr".into()),
                descending: true
            },
            OrderItem {
                key: OrderKey::Version,
                descending: false
            },
            OrderItem {
                key: OrderKey::Time(TimeField::CreatedAt),
                descending: true
            },
            OrderItem {
                key: OrderKey::Text(TextField::Name),
                descending: false
            },
            OrderItem {
                key: OrderKey::Metric {
                    name: "val.acc".into(),
                    stat: MetricStat::Last
                },
                descending: false
            },
        ]
    );
    assert_eq!(parse_order_by(&[]).unwrap(), vec![]);
}

#[test]
fn expr_and_flattens() {
    let (a, b, c) = (status("a"), status("b"), status("c"));
    assert_eq!(
        Expr::And(vec![a.clone(), b.clone()]).and(c.clone()),
        Expr::And(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(a.clone().and(b.clone()), Expr::And(vec![a, b]));
}

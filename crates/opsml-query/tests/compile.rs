//! The exact SQL and parameters the compiler emits.

use opsml_query::{
    compile, compile_with, parse_filter, parse_order_by, CmpOp, Compiled, Condition, Dialect, Expr,
    Test, TextField, Value,
};

fn sql(filter: &str) -> (String, Vec<Value>) {
    let expr = parse_filter(filter).unwrap_or_else(|e| panic!("{e}"));
    let c = compile(Some(&expr), &[]);
    (c.where_sql, c.params)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

const TIE_BREAK: &str = "experiments.created_at DESC, experiments.uid";

#[test]
fn no_filter_means_no_condition() {
    let c = compile(None, &[]);
    assert_eq!(
        c,
        Compiled {
            where_sql: String::new(),
            order_sql: TIE_BREAK.into(),
            params: vec![]
        }
    );
    let empty = parse_filter("   ").unwrap();
    assert_eq!(compile(Some(&empty), &[]), c);
}

#[test]
fn card_columns() {
    assert_eq!(
        sql("status = 'completed'"),
        ("experiments.status = ?".into(), vec![text("completed")])
    );
    assert_eq!(
        sql("name != 'a'"),
        ("experiments.name <> ?".into(), vec![text("a")])
    );
    assert_eq!(
        sql("space in ('a', 'b')"),
        (
            "experiments.space IN (?, ?)".into(),
            vec![text("a"), text("b")]
        )
    );
    assert_eq!(
        sql("name like 'bert%'"),
        (
            "experiments.name LIKE ? ESCAPE '\\'".into(),
            vec![text("bert%")]
        )
    );
    assert_eq!(sql("uid is not null").0, "experiments.uid IS NOT NULL");
}

#[test]
fn nullable_columns_are_guarded_so_not_is_a_complement() {
    assert_eq!(
        sql("parent_uid != 'p'").0,
        "(experiments.parent_uid IS NOT NULL AND experiments.parent_uid <> ?)"
    );
    assert_eq!(
        sql("not ended_at > 5"),
        (
            "NOT ((experiments.ended_at IS NOT NULL AND experiments.ended_at > ?))".into(),
            vec![Value::Integer(5000)]
        )
    );
    assert_eq!(sql("ended_at is null").0, "experiments.ended_at IS NULL");
}

#[test]
fn boolean_structure() {
    assert_eq!(
        sql("status = 'a' or name = 'b' and not uid = 'c'").0,
        "(experiments.status = ? OR (experiments.name = ? AND NOT (experiments.uid = ?)))"
    );
}

#[test]
fn version_compiles_to_a_tuple_comparison() {
    assert_eq!(
        sql("version >= '1.2.0'"),
        (
            "(experiments.major, experiments.minor, experiments.patch) >= (?, ?, ?)".into(),
            vec![Value::Integer(1), Value::Integer(2), Value::Integer(0)]
        )
    );
    assert_eq!(
        sql("version != '1.2.3'").0,
        "(experiments.major, experiments.minor, experiments.patch) <> (?, ?, ?)"
    );
    assert_eq!(
        sql("version not in ('1.0.0', '2.0.0')").0,
        "NOT ((experiments.major, experiments.minor, experiments.patch) = (?, ?, ?) OR \
         (experiments.major, experiments.minor, experiments.patch) = (?, ?, ?))"
    );
}

#[test]
fn tags_use_json_each_or_jsonb_elements() {
    assert_eq!(
        sql("tags = 'x'"),
        (
            "EXISTS (SELECT 1 FROM json_each(experiments.tags) WHERE value = ?)".into(),
            vec![text("x")]
        )
    );
    assert_eq!(
        sql("tag != 'x'").0,
        "NOT EXISTS (SELECT 1 FROM json_each(experiments.tags) WHERE value = ?)"
    );
    let expr = parse_filter("tag = 'x'").unwrap();
    assert_eq!(
        compile_with(Some(&expr), &[], Dialect::Postgres).where_sql,
        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(experiments.tags::jsonb) \
         AS tag(value) WHERE value = $1)"
    );
}

#[test]
fn params_match_by_kind_inside_exists() {
    let head = "EXISTS (SELECT 1 FROM parameters p WHERE p.experiment_uid = experiments.uid AND p.name = ?";
    let num = "CASE WHEN p.kind IN ('int', 'float') THEN CAST(p.value AS DOUBLE PRECISION) END";
    assert_eq!(
        sql("params.lr > 0.01"),
        (
            format!("{head} AND (p.kind IN ('int', 'float') AND {num} > ?))"),
            vec![text("lr"), Value::Real(0.01)]
        )
    );
    assert_eq!(
        sql("params.opt = 'adam'").0,
        format!("{head} AND (p.kind = 'str' AND p.value = ?))")
    );
    assert_eq!(
        sql("params.flag = true"),
        (
            format!("{head} AND (p.kind = 'bool' AND p.value = 'true'))"),
            vec![text("flag")]
        )
    );
    assert_eq!(
        sql("params.opt != 'adam'").0,
        format!("{head} AND NOT (p.kind = 'str' AND p.value = ?))")
    );
    assert_eq!(
        sql("params.x in (1, 'a', false)"),
        (
            format!(
                "{head} AND ((p.kind IN ('int', 'float') AND {num} IN (?)) OR \
                 (p.kind = 'str' AND p.value IN (?)) OR (p.kind = 'bool' AND p.value IN ('false'))))"
            ),
            vec![text("x"), Value::Integer(1), text("a")]
        )
    );
    assert_eq!(
        sql("params.x like 'a%'").0,
        format!("{head} AND (p.kind = 'str' AND p.value LIKE ? ESCAPE '\\'))")
    );
    assert_eq!(sql("params.x is null").0, format!("NOT {head})"));
    assert_eq!(sql("params.x is not null").0, format!("{head})"));
}

#[test]
fn metrics_use_the_summary_table() {
    let row = "FROM metric_summaries m WHERE m.experiment_uid = experiments.uid AND m.name = ?";
    assert_eq!(
        sql("metrics.loss < 0.5"),
        (
            format!("EXISTS (SELECT 1 {row} AND m.last < ?)"),
            vec![text("loss"), Value::Real(0.5)]
        )
    );
    assert_eq!(
        sql("metrics.loss.count not in (1, 2)").0,
        format!("EXISTS (SELECT 1 {row} AND m.count NOT IN (?, ?))")
    );
    assert_eq!(
        sql("metrics.loss.max is null").0,
        format!("NOT EXISTS (SELECT 1 {row} AND m.max IS NOT NULL)")
    );
}

#[test]
fn order_by_sorts_missing_values_last_and_ends_with_the_tie_break() {
    let order = parse_order_by(&[
        "metrics.loss.min",
        "params.lr desc",
        "version desc",
        "ended_at",
        "name desc",
    ])
    .unwrap();
    let c = compile(None, &order);
    assert_eq!(
        c.order_sql,
        format!(
            "(SELECT m.min FROM metric_summaries m WHERE m.experiment_uid = experiments.uid AND m.name = ?) ASC NULLS LAST, \
             (SELECT CAST(p.value AS DOUBLE PRECISION) FROM parameters p WHERE p.experiment_uid = experiments.uid AND p.name = ? AND p.kind IN ('int', 'float')) DESC NULLS LAST, \
             (SELECT p.value FROM parameters p WHERE p.experiment_uid = experiments.uid AND p.name = ? AND p.kind IN ('str', 'bool')) DESC NULLS LAST, \
             experiments.major DESC, experiments.minor DESC, experiments.patch DESC, \
             experiments.ended_at ASC NULLS LAST, \
             experiments.name DESC, {TIE_BREAK}"
        )
    );
    assert_eq!(c.params, vec![text("loss"), text("lr"), text("lr")]);
}

#[test]
fn dollar_placeholders_number_where_then_order() {
    let expr = parse_filter("status = 'a' and version > '1.0.0'").unwrap();
    let order = parse_order_by(&["metrics.acc desc"]).unwrap();
    let c = compile_with(Some(&expr), &order, Dialect::Postgres);
    assert_eq!(
        c.where_sql,
        "(experiments.status = $1 AND (experiments.major, experiments.minor, experiments.patch) > ($2, $3, $4))"
    );
    assert!(c.order_sql.starts_with(
        "(SELECT m.last FROM metric_summaries m WHERE m.experiment_uid = experiments.uid AND m.name = $5) DESC"
    ));
    assert_eq!(c.params.len(), 5);
    assert_eq!(c.params[4], text("acc"));
    // Question style binds the same values in the same order.
    assert_eq!(compile(Some(&expr), &order).params, c.params);
}

#[test]
fn hand_built_trees_compile() {
    let space = Expr::Cond(Condition::Text {
        field: TextField::Space,
        test: Test::Compare(CmpOp::Eq, "team".into()),
    });
    let user = parse_filter("name like 'x%'").unwrap();
    let c = compile(Some(&user.and(space)), &[]);
    assert_eq!(
        c.where_sql,
        "(experiments.name LIKE ? ESCAPE '\\' AND experiments.space = ?)"
    );
    assert_eq!(compile(Some(&Expr::Or(vec![])), &[]).where_sql, "(1 = 0)");
    assert_eq!(
        compile(Some(&Expr::Not(Box::new(Expr::And(vec![])))), &[]).where_sql,
        "NOT ((1 = 1))"
    );
}

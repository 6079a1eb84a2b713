//! Arbitrary input never panics the parser, errors point inside the input,
//! and whatever parses compiles to SQL with one placeholder per parameter.

use opsml_query::{compile, parse_filter, parse_order_by, QueryError};
use proptest::prelude::*;

/// Fragments that steer random input deep into the grammar.
const VOCABULARY: &[&str] = &[
    "status",
    "name",
    "version",
    "created_at",
    "ended_at",
    "parent_uid",
    "tags",
    "tag",
    "params.lr",
    "param.`a.b`",
    "metrics.loss",
    "metrics.loss.min",
    "metrics.`x`.count",
    "metrics.",
    "params",
    "foo",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "like",
    "not",
    "in",
    "is",
    "null",
    "and",
    "or",
    "(",
    ")",
    ",",
    "'completed'",
    "'bert%'",
    "'1.2.0'",
    "'2026-11-26'",
    "'2026-02-30'",
    "'a\\\\b'",
    "'unterminated",
    "\"x\"",
    "0.5",
    "10",
    "-1",
    "1e9",
    "1e999",
    "true",
    "false",
    "asc",
    "desc",
    "`",
    ".",
    "-",
    "é",
    "\t",
];

fn check_error(src: &str, e: &QueryError) -> Result<(), TestCaseError> {
    prop_assert!(
        e.position() <= src.chars().count(),
        "{src:?}: position {} beyond input",
        e.position()
    );
    prop_assert_eq!(e.input(), src);
    // Display must not panic either, and always shows the caret line.
    prop_assert!(e.to_string().ends_with('^'));
    Ok(())
}

fn check_filter(src: &str) -> Result<(), TestCaseError> {
    match parse_filter(src) {
        Ok(expr) => {
            let c = compile(Some(&expr), &[]);
            let placeholders = c.where_sql.matches('?').count() + c.order_sql.matches('?').count();
            prop_assert_eq!(placeholders, c.params.len(), "{}", src);
        }
        Err(e) => check_error(src, &e)?,
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn printable_strings_never_panic(src in "\\PC{0,80}") {
        check_filter(&src)?;
        match parse_order_by(&[src.as_str()]) {
            Ok(order) => prop_assert_eq!(order.len(), 1),
            Err(e) => {
                check_error(&src, &e)?;
                prop_assert_eq!(e.item(), Some(0));
            }
        }
    }

    #[test]
    fn any_unicode_never_panics(src in any::<String>()) {
        check_filter(&src)?;
    }

    #[test]
    fn token_soup_never_panics(
        words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..14),
        glue in proptest::sample::select(&[" ", "", "  "][..]),
    ) {
        let src = words.join(glue);
        check_filter(&src)?;
        let items: Vec<&str> = words.clone();
        if let Err(e) = parse_order_by(&items) {
            let item = e.item().expect("order-by errors carry their item");
            check_error(items[item], &e)?;
        }
    }
}

//! Every mistake is reported with its kind, exact character position and a
//! message saying what was expected.

use opsml_query::{parse_filter, parse_order_by, QueryError, QueryErrorKind as K};

fn err(src: &str) -> QueryError {
    match parse_filter(src) {
        Ok(e) => panic!("{src:?} parsed: {e:?}"),
        Err(e) => e,
    }
}

/// Asserts kind and position, and that the message contains `needle`.
fn check(src: &str, kind: K, position: usize, needle: &str) {
    let e = err(src);
    assert_eq!((e.kind(), e.position()), (kind, position), "{src:?}: {e}");
    assert!(
        e.message().contains(needle),
        "{src:?}: {:?} lacks {needle:?}",
        e.message()
    );
    assert_eq!(e.input(), src);
    assert_eq!(e.item(), None);
}

/// `(input, position, message fragment)`
type Case = (&'static str, usize, &'static str);

fn check_all(kind: K, cases: &[Case]) {
    for &(src, position, needle) in cases {
        check(src, kind, position, needle);
    }
}

#[test]
fn lexical_error_positions() {
    check_all(
        K::Syntax,
        &[
            ("name = 'bert", 7, "unterminated string"),
            ("name = \"bert\\\"", 7, "unterminated string"),
            ("metrics.`val.loss.max > 1", 8, "unterminated quoted name"),
            ("status = 'a' @", 13, "unexpected character '@'"),
            ("status ! 'a'", 7, "expected '=' after '!'"),
            ("name = 'a\\nb'", 9, "unknown escape"),
            ("params. = 1", 7, "expected a name after '.'"),
            ("metrics.x > 1.", 14, "expected a digit after '.'"),
            ("metrics.x > 12abc", 14, "unexpected 'a' in a number"),
        ],
    );
}

#[test]
fn grammar_error_positions() {
    check_all(
        K::Syntax,
        &[
            ("status > ", 9, "expected a value after '>'"),
            ("status >", 8, "expected a value after '>'"),
            ("status = 'a' foo", 13, "found 'foo'"),
            ("status = 'a' 3", 13, "expected 'and', 'or' or the end of the filter"),
            ("(status = 'a'", 13, "expected ')' to close '('"),
            ("((status = 'a') or (name = 'b')", 31, "expected ')' to close '(' after ')'"),
            ("(status = 'a' foo", 14, "expected ')' to close '(', found 'foo'"),
            ("status = 'a')", 12, "unmatched ')'"),
            ("status = 'a' and (name = 'b' or)", 31, "expected a field name after 'or', found ')'"),
            ("status", 6, "expected an operator (=, !=, <, <=, >, >=, like, in, not in, is null) after 'status'"),
            ("and status = 'a'", 0, "expected a field name, found 'and'"),
            ("status = 'a' and", 16, "expected a field name after 'and'"),
            ("status = null", 9, "is null"),
            ("status in ()", 11, "expected a value after '(', found ')'"),
            ("status in ('a' 'b')", 15, "expected ',' or ')'"),
            ("status in ('a',)", 15, "expected a value after ','"),
            ("status in 'a'", 10, "expected '(' after 'in'"),
            ("status is 'a'", 10, "expected 'null' after 'is'"),
            ("status is not 3", 14, "expected 'null' after 'not'"),
            ("status not = 'a'", 11, "expected 'in' or 'like' after 'not'"),
            ("metrics = 1", 7, "expected a metric name after 'metrics.'"),
            ("params.a.b = 1", 9, "quoted with backticks"),
            ("metrics.val.loss.max > 1", 17, "quoted with backticks"),
        ],
    );
}

#[test]
fn the_first_error_in_reading_order_wins() {
    // A syntax error before a lexical one is reported first ...
    check(
        "status = 'a') 'unterminated",
        K::Syntax,
        12,
        "unmatched ')'",
    );
    // ... and an unknown field before a bad literal.
    check(
        "foo = 'unterminated",
        K::UnknownField,
        0,
        "unknown field 'foo'",
    );
}

#[test]
fn positions_count_characters() {
    check(
        "name = 'é✓' and zz = 1",
        K::UnknownField,
        16,
        "unknown field 'zz'",
    );
    check(
        "name = '日本' or",
        K::Syntax,
        14,
        "expected a field name after 'or'",
    );
}

#[test]
fn nesting_is_bounded() {
    let ok = format!("{}status = 'a'{}", "(".repeat(64), ")".repeat(64));
    assert!(parse_filter(&ok).is_ok());
    let deep = format!("{}status = 'a'{}", "(".repeat(65), ")".repeat(65));
    check(&deep, K::Syntax, 64, "nesting is deeper than 64");
    let nots = format!("{}status = 'a'", "not ".repeat(65));
    check(&nots, K::Syntax, 256, "nesting");
    // Long flat chains are not nesting (their length has a bound of its own).
    let chain = vec!["status = 'a'"; opsml_query::MAX_CONDITIONS].join(" or ");
    assert!(parse_filter(&chain).is_ok());
}

#[test]
fn unknown_fields() {
    check(
        "foo = 1",
        K::UnknownField,
        0,
        "unknown field 'foo'; expected uid, space",
    );
    check(
        "name = 'a' or experiment.name = 'b'",
        K::UnknownField,
        14,
        "unknown field 'experiment'",
    );
    check(
        "status.code = 1",
        K::UnknownField,
        7,
        "field 'status' has no sub-field 'code'",
    );
    check(
        "metrics.loss.median > 1",
        K::UnknownField,
        13,
        "unknown metric statistic 'median'",
    );
    check(
        "`tags x` = 'a'",
        K::UnknownField,
        0,
        "unknown field 'tags x'",
    );
}

#[test]
fn bad_operators_for_a_field() {
    check("tags > 'x'", K::Operator, 5, "tags only supports");
    check(
        "tags like 'x%'",
        K::Operator,
        5,
        "'like' cannot be used here",
    );
    check("tags in ('a')", K::Operator, 5, "'in' cannot be used here");
    check("tags is null", K::Operator, 5, "'is' cannot be used here");
    check(
        "metrics.loss like 'a'",
        K::Operator,
        13,
        "metrics.loss.last is not text",
    );
    check(
        "created_at not like '2026%'",
        K::Operator,
        11,
        "'not like' cannot be used here",
    );
    check("version like '1.%'", K::Operator, 8, "version is not text");
    check(
        "params.flag < true",
        K::Operator,
        12,
        "booleans only compare with = and !=",
    );
}

#[test]
fn type_mismatches() {
    check(
        "status > 3",
        K::Type,
        9,
        "status is text: expected a quoted string, found number 3",
    );
    check("name = true", K::Type, 7, "found true");
    check("uid in ('a', 2.5)", K::Type, 13, "found number 2.5");
    check("tags = 3", K::Type, 7, "tags is a set of strings");
    check(
        "metrics.loss = 'low'",
        K::Type,
        15,
        "metrics.loss.last is a number, found string 'low'",
    );
    check("metrics.loss.max in (1, true)", K::Type, 24, "found true");
    check("version = 1", K::Type, 10, "version is a version");
    check("created_at > false", K::Type, 13, "created_at is a time");
    check("name like 3", K::Type, 10, "quoted pattern");
    check("params.x like 1", K::Type, 14, "quoted pattern");
}

#[test]
fn bad_values() {
    check("created_at > '2026-13-01'", K::Value, 13, "month 13");
    check("ended_at < 'yesterday'", K::Value, 11, "is not a date");
    check("created_at > 1.5", K::Value, 13, "whole milliseconds");
    check(
        "version = '1.2'",
        K::Value,
        10,
        "expected MAJOR.MINOR.PATCH",
    );
    check("version = '1.2.3-rc1'", K::Value, 10, "is not a version");
    check(
        "version >= '99999999999999999999.0.0'",
        K::Value,
        11,
        "is not a version",
    );
    check("name like 'a\\\\b'", K::Value, 10, "backslash must precede");
    check("name like 'a\\\\'", K::Value, 10, "backslash must precede");
    check("metrics.x > 1e400", K::Value, 12, "out of range");
    check(
        "metrics.x > 99999999999999999999",
        K::Value,
        12,
        "out of range",
    );
}

#[test]
fn display_shows_position_input_and_caret() {
    let e = err("status = 'a' and name > ");
    assert_eq!(
        e.to_string(),
        format!(
            "expected a value after '>' at position 24: status = 'a' and name > \n{}^",
            " ".repeat("expected a value after '>' at position 24: ".len() + 24)
        )
    );
}

#[test]
fn order_by_errors_name_the_item() {
    let e = parse_order_by(&["name", "metrics.loss sideways"]).unwrap_err();
    assert_eq!((e.kind(), e.position(), e.item()), (K::Syntax, 13, Some(1)));
    assert_eq!(
        e.message(),
        "expected 'asc', 'desc' or the end of the item after 'metrics.loss', found 'sideways'"
    );
    assert_eq!(e.input(), "metrics.loss sideways");
    assert!(e
        .to_string()
        .starts_with("expected 'asc', 'desc' or the end of the item after 'metrics.loss', found 'sideways' at position 13 of order_by item 1: metrics.loss sideways\n"));

    let cases: &[(&[&str], K, usize, usize, &str)] = &[
        (&["tags"], K::Operator, 0, 0, "cannot be sorted"),
        (&["name", ""], K::Syntax, 1, 0, "expected a field name"),
        (&["   "], K::Syntax, 0, 3, "expected a field name"),
        (&["name, version"], K::Syntax, 0, 4, "its own order_by item"),
        (&["name desc asc"], K::Syntax, 0, 10, "found 'asc'"),
        (
            &["version", "foo desc"],
            K::UnknownField,
            1,
            0,
            "unknown field 'foo'",
        ),
        (&["metrics.`x"], K::Syntax, 0, 8, "unterminated quoted name"),
        (
            &["metrics.x.p99"],
            K::UnknownField,
            0,
            10,
            "statistic 'p99'",
        ),
        (
            &["desc"],
            K::Syntax,
            0,
            0,
            "expected a field name, found 'desc'",
        ),
        (&["name = 'a'"], K::Syntax, 0, 5, "found '='"),
    ];
    for &(items, kind, item, position, needle) in cases {
        let e = parse_order_by(items).unwrap_err();
        assert_eq!(
            (e.kind(), e.item(), e.position()),
            (kind, Some(item), position),
            "{items:?}: {e}"
        );
        assert!(e.message().contains(needle), "{items:?}: {}", e.message());
    }
}

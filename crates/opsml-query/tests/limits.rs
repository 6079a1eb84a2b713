//! Searches too large for one SQL statement, and text no store can compare with, are
//! refused with a message naming the bound, whether they come as text or as a tree.

use opsml_query::{
    check_filter, check_order_by, parse_filter, parse_order_by, CmpOp, Condition, Expr, OrderItem,
    OrderKey, QueryErrorKind as K, Test, TextField, MAX_CONDITIONS, MAX_LIST_VALUES,
    MAX_ORDER_ITEMS, MAX_VALUES,
};

/// `count` conditions joined by `or`.
fn conditions(count: usize) -> String {
    (0..count)
        .map(|n| format!("params.p{n} = {n}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `field in (…)` with `count` values.
fn list(field: &str, count: usize, first: usize) -> String {
    let values: Vec<String> = (first..first + count).map(|n| n.to_string()).collect();
    format!("{field} in ({})", values.join(", "))
}

fn name(value: &str) -> Expr {
    Expr::Cond(Condition::Text {
        field: TextField::Name,
        test: Test::Compare(CmpOp::Eq, value.to_owned()),
    })
}

#[test]
fn filters_up_to_the_bounds_parse() {
    parse_filter(&conditions(MAX_CONDITIONS)).unwrap();
    parse_filter(&list("params.lr", MAX_LIST_VALUES, 0)).unwrap();
    let lists: Vec<String> = (0..MAX_VALUES / MAX_LIST_VALUES)
        .map(|n| list("params.lr", MAX_LIST_VALUES, n * MAX_LIST_VALUES))
        .collect();
    parse_filter(&lists.join(" or ")).unwrap();
    let items: Vec<&str> = vec!["name"; MAX_ORDER_ITEMS];
    parse_order_by(&items).unwrap();
}

#[test]
fn too_many_conditions_are_refused_at_the_first_one_past_the_bound() {
    let src = conditions(1_000);
    let e = parse_filter(&src).unwrap_err();
    assert_eq!(e.kind(), K::TooLarge);
    assert!(
        e.message().contains(&MAX_CONDITIONS.to_string()),
        "{}",
        e.message()
    );
    let past = format!("params.p{MAX_CONDITIONS} ");
    assert_eq!(e.position(), src.find(&past).unwrap());
    // A version list counts one condition per version: each is its own comparison.
    let versions: Vec<String> = (0..=MAX_CONDITIONS).map(|n| format!("'1.{n}.0'")).collect();
    let e = parse_filter(&format!("version in ({})", versions.join(", "))).unwrap_err();
    assert_eq!(e.kind(), K::TooLarge, "{e}");
}

#[test]
fn long_lists_and_too_many_values_are_refused() {
    let src = list("params.lr", 40_000, 0);
    let e = parse_filter(&src).unwrap_err();
    assert_eq!(e.kind(), K::TooLarge);
    assert!(
        e.message().contains(&MAX_LIST_VALUES.to_string()),
        "{}",
        e.message()
    );
    assert_eq!(
        e.position(),
        src.find(&format!(" {MAX_LIST_VALUES},")).unwrap() + 1
    );
    assert!(e.to_string().ends_with('^'), "{e}");

    let lists: Vec<String> = (0..=MAX_VALUES / MAX_LIST_VALUES)
        .map(|n| list("metrics.loss", MAX_LIST_VALUES, n * MAX_LIST_VALUES))
        .collect();
    let e = parse_filter(&lists.join(" and ")).unwrap_err();
    assert_eq!(e.kind(), K::TooLarge);
    assert!(
        e.message().contains(&MAX_VALUES.to_string()),
        "{}",
        e.message()
    );
}

#[test]
fn nul_characters_are_refused_where_they_are() {
    let e = parse_filter("name = 'a\0b'").unwrap_err();
    assert_eq!((e.kind(), e.position()), (K::Value, 9), "{e}");
    assert!(e.message().contains("NUL"), "{}", e.message());
    let e = parse_filter("params.`a\0` = 1").unwrap_err();
    assert_eq!((e.kind(), e.position()), (K::Value, 9), "{e}");
    let e = parse_filter("name = 'a' \0").unwrap_err();
    assert!(e.message().contains("'\\0'"), "escaped: {}", e.message());
}

#[test]
fn long_order_by_lists_are_refused() {
    let items: Vec<&str> = vec!["name"; MAX_ORDER_ITEMS + 1];
    let e = parse_order_by(&items).unwrap_err();
    assert_eq!((e.kind(), e.item()), (K::TooLarge, Some(MAX_ORDER_ITEMS)));
    assert!(
        e.message().contains(&MAX_ORDER_ITEMS.to_string()),
        "{}",
        e.message()
    );
}

#[test]
fn trees_are_held_to_the_same_bounds() {
    check_filter(&parse_filter(&conditions(MAX_CONDITIONS)).unwrap()).unwrap();

    let many = Expr::Or((0..1_000).map(|n| name(&n.to_string())).collect());
    let e = check_filter(&many).unwrap_err();
    assert_eq!(e.kind(), K::TooLarge);
    assert_eq!(
        e.to_string(),
        e.message(),
        "no caret: a tree has no text to point into"
    );
    assert!(e.message().contains(&MAX_CONDITIONS.to_string()), "{e}");

    let long = Expr::Cond(Condition::Text {
        field: TextField::Uid,
        test: Test::In((0..40_000).map(|n| n.to_string()).collect()),
    });
    let e = check_filter(&long).unwrap_err();
    assert!(e.message().contains(&MAX_LIST_VALUES.to_string()), "{e}");

    let e = check_filter(&name("a\0b").and(name("ok"))).unwrap_err();
    assert_eq!(e.kind(), K::Value);
    assert!(e.message().contains(r#""a\0b""#), "escaped: {e}");

    let mut deep = name("x");
    for _ in 0..200 {
        deep = Expr::Not(Box::new(deep));
    }
    assert_eq!(check_filter(&deep).unwrap_err().kind(), K::TooLarge);

    let order = vec![
        OrderItem {
            key: OrderKey::Param("a\0".into()),
            descending: false,
        };
        2
    ];
    assert_eq!(check_order_by(&order).unwrap_err().kind(), K::Value);
    let order = vec![
        OrderItem {
            key: OrderKey::Version,
            descending: true,
        };
        MAX_ORDER_ITEMS + 1
    ];
    assert_eq!(check_order_by(&order).unwrap_err().kind(), K::TooLarge);
}

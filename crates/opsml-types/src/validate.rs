use crate::{Parameter, ParameterValue, TypesError};

/// Longest metric, parameter, space or experiment name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Checks a user-supplied name: not empty, at most [`MAX_NAME_CHARS`] characters,
/// no control characters (they break tables, CSV exports and terminals), no characters that
/// reorder or hide text, and at least one visible character.
pub fn validate_name(kind: &'static str, name: &str) -> Result<(), TypesError> {
    if name.is_empty() {
        return Err(TypesError::EmptyName { kind });
    }
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(TypesError::NameTooLong {
            kind,
            name: name.chars().take(40).collect::<String>() + "...",
            len,
            limit: MAX_NAME_CHARS,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(TypesError::ControlCharacter {
            kind,
            name: name.to_owned(),
        });
    }
    if let Some(character) = name.chars().find(|&c| is_deceptive(c)) {
        return Err(TypesError::DeceptiveCharacter {
            kind,
            name: name.to_owned(),
            character,
        });
    }
    if name.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(TypesError::InvisibleName {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Longest description a run keeps, in characters: a paragraph or a page of notes, not a
/// document (artifacts hold those).
pub const MAX_DESCRIPTION_CHARS: usize = 16_384;

/// Most evaluation metrics one run keeps (each is a name and a number on the card).
pub const MAX_EVAL_METRICS: usize = 1_000;

/// Checks a run's description: at most [`MAX_DESCRIPTION_CHARS`], free of control
/// characters other than newlines and tabs, and of characters that reorder or hide text.
pub fn validate_description(text: &str) -> Result<(), TypesError> {
    let len = text.chars().count();
    if len > MAX_DESCRIPTION_CHARS {
        return Err(TypesError::DescriptionTooLong {
            len,
            limit: MAX_DESCRIPTION_CHARS,
        });
    }
    let refused = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_deceptive(c);
    match text.chars().find(|&c| refused(c)) {
        Some(character) => Err(TypesError::DescriptionCharacter { character }),
        None => Ok(()),
    }
}

/// Checks evaluation metrics: each name as [`validate_name`] does, at most
/// [`MAX_EVAL_METRICS`] of them.
pub fn validate_eval_metrics<'a>(
    names: impl ExactSizeIterator<Item = &'a str>,
) -> Result<(), TypesError> {
    let count = names.len();
    if count > MAX_EVAL_METRICS {
        return Err(TypesError::TooManyEvalMetrics {
            count,
            limit: MAX_EVAL_METRICS,
        });
    }
    for name in names {
        validate_name("evaluation metric", name)?;
    }
    Ok(())
}

/// Bidirectional controls (they reorder what follows them), and characters that take no
/// room and join nothing (one name could pass for another).
fn is_deceptive(c: char) -> bool {
    crate::printable::is_bidi_control(c)
        || matches!(
            c,
            '\u{200b}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{180e}'
        )
}

/// Characters that show nothing by themselves: allowed beside visible ones (the joiners
/// shape some scripts), not alone.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200c}'
            | '\u{200d}'
            | '\u{034f}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{ffa0}'
            | '\u{2800}'
            | '\u{fe00}'..='\u{fe0f}'
    )
}

/// Checks a parameter: its name as [`validate_name`] does, and a text value free of NUL
/// characters, which PostgreSQL cannot keep in text (so no store accepts them).
pub fn validate_parameter(parameter: &Parameter) -> Result<(), TypesError> {
    validate_name("parameter", &parameter.name)?;
    match &parameter.value {
        ParameterValue::Str(text) if text.contains('\0') => Err(TypesError::NulInValue {
            name: parameter.name.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_lines_and_refuse_what_hides_text() {
        validate_description("Baseline.\n\n\tSame data as run 12, lr halved.").unwrap();
        validate_description(&"x".repeat(MAX_DESCRIPTION_CHARS)).unwrap();
        let long = validate_description(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)).unwrap_err();
        assert!(long.to_string().contains("16385"), "{long}");
        for (text, character) in [("a\u{1b}[31mred", '\u{1b}'), ("b\u{202e}c", '\u{202e}')] {
            let err = validate_description(text).unwrap_err();
            assert_eq!(err, TypesError::DescriptionCharacter { character });
        }
    }

    #[test]
    fn eval_metrics_are_named_and_counted() {
        validate_eval_metrics(["auc", "test.rmse"].into_iter()).unwrap();
        let err = validate_eval_metrics(["ok", ""].into_iter()).unwrap_err();
        assert_eq!(
            err,
            TypesError::EmptyName {
                kind: "evaluation metric"
            }
        );
        let names: Vec<String> = (0..=MAX_EVAL_METRICS).map(|i| format!("m{i}")).collect();
        let err = validate_eval_metrics(names.iter().map(String::as_str)).unwrap_err();
        assert!(err.to_string().contains("1001"), "{err}");
    }

    #[test]
    fn look_alike_and_invisible_names_are_refused_with_the_character() {
        for name in [
            "exp\u{202e}txt.exe",
            "a\u{2066}b",
            "res\u{200b}net",
            "\u{feff}run",
        ] {
            let error = validate_name("experiment", name).unwrap_err();
            assert!(
                matches!(error, TypesError::DeceptiveCharacter { .. }),
                "{name:?}: {error}"
            );
        }
        for name in [" ", "\u{3000}\u{2003}", "\u{200d}", " \u{2800} "] {
            let error = validate_name("space", name).unwrap_err();
            assert!(
                matches!(error, TypesError::InvisibleName { .. }),
                "{name:?}: {error}"
            );
        }
        // Scripts that need joiners, spaces inside a name and emoji sequences stay valid.
        for name in [
            "می\u{200c}خواهم",
            "my run",
            "\u{1f469}\u{200d}\u{1f52c} lab",
            "résumé",
        ] {
            validate_name("experiment", name).unwrap();
        }
        let message = validate_name("experiment", "exp\u{202e}txt.exe")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\\u{202e}"), "{message}");
    }

    #[test]
    fn parameter_text_with_nul_is_refused_with_its_name() {
        let parameter = |value: &str| Parameter {
            name: "optimizer".into(),
            value: ParameterValue::Str(value.into()),
        };
        assert!(validate_parameter(&parameter("adam\tw")).is_ok());
        let err = validate_parameter(&parameter("ad\0am")).unwrap_err();
        assert!(err.to_string().contains("\"optimizer\""), "{err}");
    }

    #[test]
    fn accepts_ordinary_and_unicode_names() {
        assert!(validate_name("metric", "loss").is_ok());
        assert!(validate_name("metric", "val/accuracy@top-1 ✓").is_ok());
        assert!(validate_name("metric", &"x".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_control_names() {
        assert_eq!(
            validate_name("metric", ""),
            Err(TypesError::EmptyName { kind: "metric" })
        );
        let long = "y".repeat(MAX_NAME_CHARS + 1);
        let err = validate_name("parameter", &long).unwrap_err();
        assert!(err.to_string().contains("256 characters"), "{err}");
        assert!(validate_name("metric", "a\nb").is_err());
        assert!(validate_name("metric", "a\0b").is_err());
    }
}

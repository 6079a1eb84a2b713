use crate::{Parameter, ParameterValue, TypesError};

/// Longest metric, parameter, space or experiment name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Checks a user-supplied name: not empty, at most [`MAX_NAME_CHARS`] characters,
/// no control characters (they break tables, CSV exports and terminals).
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
    Ok(())
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

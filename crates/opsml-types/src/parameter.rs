use std::fmt;

use serde::{Deserialize, Serialize};

/// The value of a parameter. Booleans stay booleans and integers stay integers,
/// so that a parameter reads back with the type it was logged with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ParameterValue {
    Int(i64),
    /// NaN and the infinities as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
    Float(#[serde(with = "crate::json_float")] f64),
    Str(String),
    Bool(bool),
    /// No value (Python's `None`): the parameter exists and says "not set".
    Null,
}

impl ParameterValue {
    /// Short name of the value's type, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Int(_) => "int",
            Self::Float(_) => "float",
            Self::Str(_) => "str",
            Self::Bool(_) => "bool",
            Self::Null => "null",
        }
    }

    /// The value as text that [`ParameterValue::from_stored`] turns back into
    /// the same value (floats use the shortest round-tripping form, NaN and
    /// infinities included).
    pub fn to_stored(&self) -> String {
        match self {
            Self::Int(v) => v.to_string(),
            Self::Float(v) => format!("{v:?}"),
            Self::Str(v) => v.clone(),
            Self::Bool(v) => v.to_string(),
            Self::Null => String::new(),
        }
    }

    /// Rebuilds a value from its stored kind and text; `None` when they do not
    /// describe a value (a corrupted row).
    pub fn from_stored(kind: &str, text: &str) -> Option<Self> {
        match kind {
            "int" => text.parse().ok().map(Self::Int),
            "float" => text.parse().ok().map(Self::Float),
            "str" => Some(Self::Str(text.to_owned())),
            "bool" => text.parse().ok().map(Self::Bool),
            "null" => text.is_empty().then_some(Self::Null),
            _ => None,
        }
    }
}

impl fmt::Display for ParameterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(v) => write!(f, "{v:?}"),
            Self::Null => f.write_str("null"),
            other => f.write_str(&other.to_stored()),
        }
    }
}

/// A named parameter (hyper-parameter, configuration value) of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parameter {
    pub name: String,
    pub value: ParameterValue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_every_kind() {
        let values = [
            ParameterValue::Int(i64::MIN),
            ParameterValue::Int(42),
            ParameterValue::Float(0.1),
            ParameterValue::Float(1e300),
            ParameterValue::Float(f64::INFINITY),
            ParameterValue::Float(f64::NEG_INFINITY),
            ParameterValue::Float(-0.0),
            ParameterValue::Str("adam \u{1F600}".into()),
            ParameterValue::Str(String::new()),
            ParameterValue::Bool(true),
            ParameterValue::Null,
        ];
        for value in values {
            let back = ParameterValue::from_stored(value.kind(), &value.to_stored()).unwrap();
            assert_eq!(back, value);
        }
        let nan = ParameterValue::Float(f64::NAN);
        match ParameterValue::from_stored("float", &nan.to_stored()) {
            Some(ParameterValue::Float(v)) => assert!(v.is_nan()),
            other => panic!("NaN did not round-trip: {other:?}"),
        }
    }

    #[test]
    fn null_travels_as_its_own_kind() {
        let json = serde_json::to_string(&ParameterValue::Null).unwrap();
        assert_eq!(json, r#"{"type":"null"}"#);
        let back: ParameterValue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ParameterValue::Null);
        assert_eq!(ParameterValue::Null.to_string(), "null");
        assert_eq!(ParameterValue::from_stored("null", "x"), None);
    }

    #[test]
    fn corrupted_rows_are_reported_as_none() {
        assert_eq!(ParameterValue::from_stored("int", "1.5"), None);
        assert_eq!(ParameterValue::from_stored("complex", "1"), None);
    }
}

//! Floats through JSON, which has no numbers for NaN and the infinities: those travel as the
//! strings `"NaN"`, `"Infinity"` and `"-Infinity"`, every other value as a number. Use with
//! `#[serde(with = "opsml_types::json_float")]` (or `json_float::option` for `Option<f64>`).

use serde::{de, Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let value = *value;
    if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value.is_infinite() {
        serializer.serialize_str(if value > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        serializer.serialize_f64(value)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(f64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(value) => Ok(value),
        Raw::Text(text) => match text.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => Err(de::Error::custom(format!(
                "{other:?} is not a number, \"NaN\", \"Infinity\" or \"-Infinity\""
            ))),
        },
    }
}

/// The same for `Option<f64>`, `None` as `null`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` passes a reference to the field
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super")] f64);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(value)| value))
    }
}

/// The same for the values of a map by name.
pub mod map {
    use std::collections::BTreeMap;

    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "super")] f64);

    pub fn serialize<S: Serializer>(
        values: &BTreeMap<String, f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(values.len()))?;
        for (name, value) in values {
            map.serialize_entry(name, &Wrapped(*value))?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let wrapped = BTreeMap::<String, Wrapped>::deserialize(deserializer)?;
        Ok(wrapped
            .into_iter()
            .map(|(name, Wrapped(value))| (name, value))
            .collect())
    }
}

/// The schema of such a float in the server's OpenAPI document (`value_type` of a field).
#[cfg(feature = "openapi")]
pub struct JsonFloat;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for JsonFloat {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["NaN", "Infinity", "-Infinity"])),
            )
            .description(Some("A float; NaN and the infinities as strings."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for JsonFloat {}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "super")]
        value: f64,
        #[serde(with = "super::option")]
        maybe: Option<f64>,
    }

    #[test]
    fn special_values_survive_and_others_stay_numbers() {
        let awkward = [
            6.972_284_278_342_099e-59,
            5.960_464_477_539_063e-8,
            0.1 + 0.2,
        ];
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1.5e300]
            .into_iter()
            .chain(awkward)
        {
            for maybe in [None, Some(value)] {
                let text = serde_json::to_string(&Sample { value, maybe }).unwrap();
                let back: Sample = serde_json::from_str(&text).unwrap();
                assert_eq!(back.value.to_bits(), value.to_bits(), "{text}");
                assert_eq!(
                    back.maybe.map(f64::to_bits),
                    maybe.map(f64::to_bits),
                    "{text}"
                );
            }
        }
        let text = serde_json::to_string(&Sample {
            value: f64::NAN,
            maybe: Some(2.5),
        })
        .unwrap();
        assert_eq!(text, r#"{"value":"NaN","maybe":2.5}"#);
        let err = serde_json::from_str::<Sample>(r#"{"value":"lots","maybe":null}"#).unwrap_err();
        assert!(err.to_string().contains("lots"), "{err}");
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct Named(#[serde(with = "super::map")] std::collections::BTreeMap<String, f64>);

    #[test]
    fn maps_keep_every_value_and_name() {
        let values = [("auc", 0.93), ("loss", f64::NAN), ("rmse", f64::INFINITY)]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let text = serde_json::to_string(&Named(values)).unwrap();
        assert_eq!(text, r#"{"auc":0.93,"loss":"NaN","rmse":"Infinity"}"#);
        let Named(back) = serde_json::from_str(&text).unwrap();
        assert_eq!(back["auc"], 0.93);
        assert!(back["loss"].is_nan());
        assert_eq!(back["rmse"], f64::INFINITY);
    }
}

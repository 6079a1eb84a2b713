//! What clients and the opsml server send each other, where the shape is the server's own
//! (cards and records travel as their serde forms).

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use opsml_types::{HardwareSample, MetricPoint, Parameter};

use crate::{Lease, PointRecord, RemoteWriter};

/// A float that keeps NaN and the infinities through JSON, which has no numbers for them:
/// those travel as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WireFloat(pub f64);

impl Serialize for WireFloat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0;
        if value.is_nan() {
            serializer.serialize_str("NaN")
        } else if value.is_infinite() {
            serializer.serialize_str(if value > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            serializer.serialize_f64(value)
        }
    }
}

impl<'de> Deserialize<'de> for WireFloat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(value) => Ok(Self(value)),
            Raw::Text(text) => match text.as_str() {
                "NaN" => Ok(Self(f64::NAN)),
                "Infinity" => Ok(Self(f64::INFINITY)),
                "-Infinity" => Ok(Self(f64::NEG_INFINITY)),
                other => Err(de::Error::custom(format!(
                    "{other:?} is not a number, \"NaN\", \"Infinity\" or \"-Infinity\""
                ))),
            },
        }
    }
}

/// Metric points in columns, each point's name an index into [`BatchBody::names`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointColumns {
    pub name_ids: Vec<u32>,
    pub steps: Vec<Option<i64>>,
    pub values: Vec<WireFloat>,
    pub timestamps: Vec<Option<i64>>,
    /// Microseconds since the Unix epoch.
    pub created_at: Vec<i64>,
}

/// One batch of a remote writer: `POST /api/v1/experiments/{uid}/batches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub writer_id: String,
    /// 1 for the writer's first batch, then one more for each.
    pub seq: u64,
    pub lease: Lease,
    pub names: Vec<String>,
    #[serde(default)]
    pub points: PointColumns,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    #[serde(default)]
    pub hardware: Vec<HardwareSample>,
}

impl BatchBody {
    /// The writer that sent the batch.
    pub fn writer(&self) -> RemoteWriter {
        RemoteWriter {
            writer_id: self.writer_id.clone(),
            seq: self.seq,
            lease: self.lease.clone(),
        }
    }

    /// The points as records, after checking that the columns agree; the error says how
    /// they do not.
    pub fn records(&self) -> Result<Vec<PointRecord>, String> {
        let p = &self.points;
        let len = p.name_ids.len();
        for (column, other) in [
            ("steps", p.steps.len()),
            ("values", p.values.len()),
            ("timestamps", p.timestamps.len()),
            ("created_at", p.created_at.len()),
        ] {
            if other != len {
                return Err(format!(
                    "points.{column} has {other} entries, points.name_ids {len}"
                ));
            }
        }
        if let Some(bad) = p
            .name_ids
            .iter()
            .find(|&&id| id as usize >= self.names.len())
        {
            return Err(format!(
                "name id {bad} is outside the {} names of the batch",
                self.names.len()
            ));
        }
        Ok((0..len)
            .map(|i| PointRecord {
                name_id: p.name_ids[i],
                point: MetricPoint {
                    step: p.steps[i],
                    value: p.values[i].0,
                    timestamp: p.timestamps[i],
                    created_at: p.created_at[i],
                },
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_floats_survive_json() {
        let values = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1.5e300];
        let wire: Vec<WireFloat> = values.iter().copied().map(WireFloat).collect();
        let text = serde_json::to_string(&wire).unwrap();
        assert_eq!(text, r#"["NaN","Infinity","-Infinity",-0.0,1.5e+300]"#);
        let back: Vec<WireFloat> = serde_json::from_str(&text).unwrap();
        for (got, expected) in back.iter().zip(values) {
            assert_eq!(got.0.to_bits(), expected.to_bits());
        }
        let err = serde_json::from_str::<WireFloat>("\"lots\"").unwrap_err();
        assert!(err.to_string().contains("lots"), "{err}");
    }

    #[test]
    fn columns_that_disagree_are_named() {
        let body = BatchBody {
            writer_id: "w".into(),
            seq: 1,
            lease: Lease::current(),
            names: vec!["loss".into()],
            points: PointColumns {
                name_ids: vec![0, 0],
                steps: vec![Some(1), None],
                values: vec![WireFloat(1.0)],
                timestamps: vec![None, None],
                created_at: vec![0, 0],
            },
            parameters: Vec::new(),
            hardware: Vec::new(),
        };
        assert!(body.records().unwrap_err().contains("points.values"));
        let outside = BatchBody {
            points: PointColumns {
                name_ids: vec![3],
                steps: vec![None],
                values: vec![WireFloat(1.0)],
                timestamps: vec![None],
                created_at: vec![0],
            },
            ..body
        };
        assert!(outside.records().unwrap_err().contains("name id 3"));
    }
}

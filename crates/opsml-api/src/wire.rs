//! What clients and the opsml server send each other, where the shape is the server's own
//! (cards and records travel as their serde forms).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use opsml_types::{
    ComputeEnvironment, HardwareSample, MetricColumns, MetricPoint, MetricSummary, Parameter,
    ParameterValue, Status,
};

use opsml_store::{Lease, NewExperiment, PointRecord, RemoteWriter};

/// Most cards one listing or search of a server returns.
pub const MAX_LIST_LIMIT: usize = 10_000;

/// A float that keeps NaN and the infinities through JSON, which has no numbers for them:
/// those travel as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WireFloat(pub f64);

impl Serialize for WireFloat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        opsml_types::json_float::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for WireFloat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        opsml_types::json_float::deserialize(deserializer).map(Self)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for WireFloat {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        opsml_types::json_float::JsonFloat::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for WireFloat {}

/// Metric points in columns, each point's name an index into [`BatchBody::names`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        records(&self.names, &self.points)
    }
}

/// The points of `p` as records, after checking that the columns agree; the error says how
/// they do not.
fn records(names: &[String], p: &PointColumns) -> Result<Vec<PointRecord>, String> {
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
    if let Some(bad) = p.name_ids.iter().find(|&&id| id as usize >= names.len()) {
        return Err(format!(
            "name id {bad} is outside the {} names of the batch",
            names.len()
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

/// What was read back of an experiment's metrics: `GET /api/v1/experiments/{uid}/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsBody {
    pub names: Vec<String>,
    pub points: PointColumns,
}

impl MetricsBody {
    pub fn from_columns(columns: &MetricColumns) -> Self {
        let len = columns.len();
        Self {
            names: columns.names.clone(),
            points: PointColumns {
                name_ids: columns.name_ids.clone(),
                steps: (0..len).map(|i| columns.steps.get(i)).collect(),
                values: columns.values.iter().copied().map(WireFloat).collect(),
                timestamps: (0..len).map(|i| columns.timestamps.get(i)).collect(),
                created_at: columns.created_at.clone(),
            },
        }
    }
}

/// Query of `GET /api/v1/experiments`: a card listing. Tags the cards must all carry are
/// repeated `tag` parameters (a tag may hold any character but control ones).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub uid: Option<String>,
    pub space: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    /// Cards created at or before this instant.
    pub max_date: Option<DateTime<Utc>>,
    /// Newest first instead of by space, name and version.
    #[serde(default)]
    pub newest_first: bool,
    pub limit: Option<usize>,
}

/// Body of `POST /api/v1/experiments/search`: a filter as text of the search language or
/// as its parsed tree (what clients send), and sort keys likewise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchBody {
    /// A filter of the search language; empty or absent matches every experiment.
    #[serde(default)]
    pub filter: String,
    /// The filter as a parsed tree, instead of `filter`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub tree: Option<opsml_query::Expr>,
    #[serde(default)]
    pub order_by: Vec<String>,
    /// The sort keys as parsed items, instead of `order_by`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub order: Option<Vec<opsml_query::OrderItem>>,
    pub space: Option<String>,
    pub limit: Option<usize>,
}

/// The body of `POST /api/v1/experiments`: the server allocates the version, and the card
/// records the authenticated user as its user. The client makes the uid, so a run can start
/// while its server is down and be created later with the same uid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateBody {
    pub uid: String,
    pub space: String,
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub parent_uid: Option<String>,
    #[serde(default)]
    pub compute_environment: ComputeEnvironment,
    pub opsml_version: String,
    pub created_at: DateTime<Utc>,
    pub lease: Lease,
}

impl CreateBody {
    /// The body creating `new` (its user is the server's to say).
    pub fn of(new: &NewExperiment) -> Self {
        Self {
            uid: new.uid.clone(),
            space: new.space.clone(),
            name: new.name.clone(),
            tags: new.tags.clone(),
            parent_uid: new.parent_uid.clone(),
            compute_environment: new.compute_environment.clone(),
            opsml_version: new.opsml_version.clone(),
            created_at: new.created_at,
            lease: new.lease.clone(),
        }
    }
}

/// A new status of an experiment: `PUT /api/v1/experiments/{uid}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusBody {
    pub status: Status,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A wrapped data key, base64 (standard alphabet): `/api/v1/experiments/{uid}/key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WrappedKeyBody {
    pub wrapped: String,
}

/// `GET /api/v1/experiments/{uid}/objects/{id}/url`: a signed URL that downloads the object
/// straight from the storage, or `None` where the storage cannot sign one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DownloadUrl {
    pub url: Option<String>,
}

/// `GET /api/v1/experiments/{uid}/objects/{id}/upload-url`: a signed URL that `PUT`s the
/// whole object straight into the storage, or `None` where the storage cannot sign one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadUrl {
    pub url: Option<String>,
}

/// `POST /api/v1/experiments/{uid}/objects/{id}/multipart`: the id of a multipart upload
/// whose parts go straight to the storage, or `None` where the storage cannot sign their URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MultipartUpload {
    pub upload_id: Option<String>,
}

/// `POST .../multipart/part-urls`: which parts (numbered from 1) of an upload to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartUrlsRequest {
    pub upload_id: String,
    pub parts: Vec<u32>,
}

/// The signed `PUT` URLs of the parts asked for, in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartUrls {
    pub urls: Vec<String>,
}

/// `POST .../multipart/complete`: the `ETag` each part's `PUT` answered, in part order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompleteMultipart {
    pub upload_id: String,
    pub etags: Vec<String>,
}

/// `POST .../multipart/abort`: drops an upload and its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbortMultipart {
    pub upload_id: String,
}

/// The answer to a batch: `false` for a resend of a batch applied before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applied {
    pub applied: bool,
}

/// Most runs of one `POST /api/v1/experiments/table-cells`; a client asks for more in parts.
pub const MAX_TABLE_CELLS_RUNS: usize = 1_000;

/// `POST /api/v1/experiments/table-cells`: the runs whose parameters and metric summaries a
/// table of runs shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableCellsBody {
    /// Uids of the runs, each once; at most [`MAX_TABLE_CELLS_RUNS`].
    pub uids: Vec<String>,
}

/// Its answer: each parameter's value and each metric's summary per run, in the order of the
/// uids asked for; `null` where a run lacks it, is not there or may not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableCellsAnswer {
    pub parameters: BTreeMap<String, Vec<Option<ParameterValue>>>,
    pub summaries: BTreeMap<String, Vec<Option<MetricSummary>>>,
}

/// The answer to `POST /api/v1/experiments/{uid}/killed`: `false` when the experiment changed
/// since it was listed (it is alive after all, or ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Marked {
    pub marked: bool,
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

//! Plain data shared by every opsml crate: experiment cards and their records,
//! metric points, parameters, statuses and versions. No I/O happens here.

mod artifact;
mod card;
mod display;
mod error;
mod hardware;
pub mod json_float;
mod metric;
mod optional;
mod parameter;
mod printable;
mod summary;
mod time;
mod validate;
mod version;

pub use artifact::{
    normalize_artifact_path, ArtifactRecord, CODE_PREFIX, MAX_ARTIFACT_PATH_BYTES,
    REQUIREMENTS_PATH,
};
pub use card::{
    CardRecord, CodeCapture, ComputeEnvironment, ExperimentCard, ExperimentMetadata, GitInfo,
    GpuDevice, RegistryType, Status,
};
pub use display::{float_text, human_bytes};
pub use error::TypesError;
pub use hardware::{
    GpuSample, GpuSummary, HardwareSample, HardwareSummary, HardwareSummaryBuilder, IoSample,
    MeanPeak, ProcessSample,
};
pub use metric::{MetricColumns, MetricPoint};
pub use optional::{permute, OptionalInts};
pub use parameter::{Parameter, ParameterValue};
pub use printable::{is_unprintable, printable, push_printable};
pub use semver::Version;
pub use summary::MetricSummary;
pub use time::{micros_to_datetime, now_micros};
pub use validate::{
    validate_description, validate_eval_metrics, validate_name, validate_parameter,
    MAX_DESCRIPTION_CHARS, MAX_EVAL_METRICS, MAX_NAME_CHARS,
};
pub use version::{is_pending, parse_version, pending_version, PENDING_PRE_RELEASE};

/// A new time-ordered unique identifier (`UUIDv7`) as a string.
pub fn new_uid() -> String {
    uuid::Uuid::now_v7().to_string()
}

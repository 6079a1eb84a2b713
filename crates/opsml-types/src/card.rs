use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use semver::Version;
use serde::{Deserialize, Serialize};

use crate::TypesError;

/// Lifecycle state of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    /// Started and not ended yet.
    Running,
    /// Ended normally.
    Completed,
    /// Ended by an exception.
    Failed,
    /// Ended by a signal or found dead.
    Killed,
}

impl Status {
    /// The lowercase name used in the store and in Python.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Killed => "killed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = TypesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "running" => Ok(Self::Running),
            "completed" => Ok(Self::Completed),
            "failed" => Ok(Self::Failed),
            "killed" => Ok(Self::Killed),
            _ => Err(TypesError::UnknownStatus(s.to_owned())),
        }
    }
}

/// Kind of card a registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryType {
    Experiment,
}

impl RegistryType {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Experiment => "experiment",
        }
    }
}

impl FromStr for RegistryType {
    type Err = TypesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "experiment" => Ok(Self::Experiment),
            _ => Err(TypesError::UnknownRegistryType(s.to_owned())),
        }
    }
}

/// Where an experiment ran. Fields added later default when absent, so cards
/// written by older versions still load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComputeEnvironment {
    /// Logical CPUs available to the process.
    pub cpu_count: usize,
    /// Physical memory of the host, in bytes.
    pub total_memory_bytes: u64,
    /// Operating system name and version.
    pub os: String,
    /// Host name.
    pub hostname: String,
    /// Python version, when the experiment was started from Python.
    pub python_version: Option<String>,
    /// CPU model name.
    pub cpu_model: String,
    /// NVIDIA GPUs visible to the process (empty without a driver).
    pub gpus: Vec<GpuDevice>,
    /// NVIDIA driver version, when a driver is present.
    pub gpu_driver_version: Option<String>,
    /// CUDA version the driver supports, when a driver is present.
    pub cuda_version: Option<String>,
}

/// A GPU of the compute environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpuDevice {
    pub index: u32,
    pub uuid: String,
    pub name: String,
    pub memory_total_bytes: u64,
}

/// Where the experiment's code came from, when it ran inside a git repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GitInfo {
    /// Commit checked out.
    pub commit: String,
    /// Branch checked out; `None` on a detached head.
    pub branch: Option<String>,
    /// Whether tracked files had uncommitted changes.
    pub dirty: bool,
    /// URL of the `origin` remote, without any credentials.
    pub remote_url: Option<String>,
}

/// What code capture stored under `code/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeCapture {
    /// The directory (or script) captured.
    pub root: String,
    /// Files stored.
    pub files: usize,
    /// Bytes stored (before compression and encryption).
    pub bytes: u64,
    /// Files left out for their size, relative to `root`.
    pub skipped: Vec<String>,
}

/// Facts recorded about an experiment after it starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExperimentMetadata {
    pub git: Option<GitInfo>,
    pub code: Option<CodeCapture>,
    /// Hardware use over the run, when it was monitored.
    pub hardware: Option<crate::HardwareSummary>,
    /// What the run is for, in its author's words.
    pub description: Option<String>,
    /// Final evaluation results by name, kept apart from the metrics logged over steps.
    #[serde(with = "crate::json_float::map")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = std::collections::BTreeMap<String, crate::json_float::JsonFloat>)
    )]
    pub eval_metrics: std::collections::BTreeMap<String, f64>,
}

impl ExperimentMetadata {
    /// Checks what a user writes here (the description and the evaluation metrics), as
    /// [`crate::validate_description`] and [`crate::validate_eval_metrics`] do.
    pub fn validate(&self) -> Result<(), TypesError> {
        if let Some(description) = &self.description {
            crate::validate_description(description)?;
        }
        crate::validate_eval_metrics(self.eval_metrics.keys().map(String::as_str))
    }
}

/// The full record of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExperimentCard {
    pub uid: String,
    pub space: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub version: Version,
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Uids of the child experiments, oldest first.
    pub experimentcard_uids: Vec<String>,
    pub parent_uid: Option<String>,
    pub compute_environment: ComputeEnvironment,
    /// Version of opsml that created the card.
    pub opsml_version: String,
    pub username: String,
    /// Git state and code capture, filled in shortly after the start.
    pub metadata: ExperimentMetadata,
}

impl ExperimentCard {
    /// The short listing form of the card.
    pub fn record(&self) -> CardRecord {
        CardRecord {
            uid: self.uid.clone(),
            space: self.space.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            tags: self.tags.clone(),
            status: self.status,
            created_at: self.created_at,
            ended_at: self.ended_at,
            parent_uid: self.parent_uid.clone(),
            username: self.username.clone(),
        }
    }
}

/// One row of a card listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardRecord {
    pub uid: String,
    pub space: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub version: Version,
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub parent_uid: Option<String>,
    pub username: String,
}

impl CardRecord {
    /// The whole card: this record with what only a card holds.
    pub fn into_card(
        self,
        experimentcard_uids: Vec<String>,
        compute_environment: ComputeEnvironment,
        opsml_version: String,
        metadata: ExperimentMetadata,
    ) -> ExperimentCard {
        ExperimentCard {
            uid: self.uid,
            space: self.space,
            name: self.name,
            version: self.version,
            tags: self.tags,
            status: self.status,
            created_at: self.created_at,
            ended_at: self.ended_at,
            experimentcard_uids,
            parent_uid: self.parent_uid,
            compute_environment,
            opsml_version,
            username: self.username,
            metadata,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_its_own_names_and_rejects_others() {
        for status in [
            Status::Running,
            Status::Completed,
            Status::Failed,
            Status::Killed,
        ] {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert_eq!("Completed".parse::<Status>(), Ok(Status::Completed));
        let err = "done".parse::<Status>().unwrap_err();
        assert!(err.to_string().contains("\"done\""), "{err}");
    }

    #[test]
    fn registry_type_accepts_any_case() {
        assert_eq!(
            "Experiment".parse::<RegistryType>(),
            Ok(RegistryType::Experiment)
        );
        assert!("model".parse::<RegistryType>().is_err());
    }

    #[test]
    fn compute_environment_loads_with_missing_fields() {
        let env: ComputeEnvironment = serde_json::from_str(r#"{"cpu_count": 4}"#).unwrap();
        assert_eq!(env.cpu_count, 4);
        assert_eq!(env.python_version, None);
    }
}

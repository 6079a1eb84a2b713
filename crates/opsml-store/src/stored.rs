//! Values as both databases keep them, decoded alike.

use opsml_types::ParameterValue;

/// The value of parameter `name` of experiment `uid`, stored as `kind` and `text`; the error
/// names the row when the two describe no value (the database was changed by hand).
pub(crate) fn parameter_value(
    uid: &str,
    name: &str,
    kind: &str,
    text: &str,
) -> Result<ParameterValue, String> {
    ParameterValue::from_stored(kind, text)
        .ok_or_else(|| format!("experiment {uid}, parameter {name:?}: {kind} value {text:?}"))
}

//! Which GPUs the process may use, from `CUDA_VISIBLE_DEVICES`.

/// The devices named by `CUDA_VISIBLE_DEVICES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisibleDevices {
    /// Unset: every device.
    All,
    /// Devices by NVML index or UUID (a `GPU-…` prefix is enough), in order.
    Listed(Vec<DeviceRef>),
}

/// One entry of `CUDA_VISIBLE_DEVICES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    Index(u32),
    Uuid(String),
}

/// Parses a `CUDA_VISIBLE_DEVICES` value like CUDA does: entries up to the
/// first invalid one (so `-1` hides every device, and an empty value too).
pub(crate) fn parse_visible_devices(value: Option<&str>) -> VisibleDevices {
    let Some(value) = value else {
        return VisibleDevices::All;
    };
    let mut devices = Vec::new();
    for entry in value.split(',').map(str::trim) {
        if let Ok(index) = entry.parse::<u32>() {
            devices.push(DeviceRef::Index(index));
        } else if entry.starts_with("GPU-") || entry.starts_with("MIG-") {
            devices.push(DeviceRef::Uuid(entry.to_owned()));
        } else {
            break;
        }
    }
    VisibleDevices::Listed(devices)
}

/// The devices of this process's `CUDA_VISIBLE_DEVICES`.
pub fn visible_devices() -> VisibleDevices {
    parse_visible_devices(std::env::var("CUDA_VISIBLE_DEVICES").ok().as_deref())
}

impl VisibleDevices {
    /// Whether the device with this NVML index and UUID is visible.
    pub fn contains(&self, index: u32, uuid: &str) -> bool {
        match self {
            Self::All => true,
            Self::Listed(devices) => devices.iter().any(|d| match d {
                DeviceRef::Index(i) => *i == index,
                DeviceRef::Uuid(prefix) => uuid.starts_with(prefix.as_str()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_every_device() {
        assert_eq!(parse_visible_devices(None), VisibleDevices::All);
        assert!(VisibleDevices::All.contains(7, "GPU-x"));
    }

    #[test]
    fn indices_and_uuid_prefixes_select_devices() {
        let visible = parse_visible_devices(Some("2, GPU-8f3a"));
        assert!(visible.contains(2, "GPU-0000"));
        assert!(visible.contains(0, "GPU-8f3a0c1d-aaaa"));
        assert!(!visible.contains(1, "GPU-1111"));
    }

    #[test]
    fn empty_or_invalid_entries_hide_what_follows() {
        assert_eq!(
            parse_visible_devices(Some("")),
            VisibleDevices::Listed(vec![])
        );
        assert_eq!(
            parse_visible_devices(Some("-1")),
            VisibleDevices::Listed(vec![])
        );
        assert_eq!(
            parse_visible_devices(Some("0,bogus,1")),
            VisibleDevices::Listed(vec![DeviceRef::Index(0)])
        );
    }
}

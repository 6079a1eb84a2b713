use std::collections::HashMap;

use opsml_types::{validate_name, TypesError};

/// Metric names of one experiment mapped to small dense ids, so that a logged
/// point carries a `u32` rather than a string. The last name looked up is
/// remembered: a training loop usually logs the same few names in turn, and a
/// string comparison is cheaper than hashing.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    names: Vec<String>,
    ids: HashMap<String, u32>,
    last: Option<u32>,
}

impl NameTable {
    /// The id of `name`, validating and adding it on first sight.
    pub(crate) fn intern(&mut self, name: &str) -> Result<u32, TypesError> {
        if let Some(last) = self.last {
            if self.names[last as usize] == name {
                return Ok(last);
            }
        }
        let id = if let Some(&id) = self.ids.get(name) {
            id
        } else {
            validate_name("metric", name)?;
            let id = self.names.len() as u32;
            self.names.push(name.to_owned());
            self.ids.insert(name.to_owned(), id);
            id
        };
        self.last = Some(id);
        Ok(id)
    }

    /// Names from id `from` on.
    pub(crate) fn since(&self, from: usize) -> &[String] {
        &self.names[from..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_stable_and_validated() {
        let mut table = NameTable::default();
        assert_eq!(table.intern("loss"), Ok(0));
        assert_eq!(table.intern("acc"), Ok(1));
        assert_eq!(table.intern("loss"), Ok(0));
        assert_eq!(table.intern("acc"), Ok(1));
        assert!(table.intern("").is_err());
        assert_eq!(table.since(0).len(), 2);
        assert_eq!(table.since(1), ["acc".to_owned()]);
    }
}

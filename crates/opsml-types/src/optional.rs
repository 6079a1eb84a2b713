//! A column of optional integers laid out as Arrow lays out a nullable Int64 column, so that
//! read-back can hand it over without converting point by point.

/// Optional integers as a value per slot (0 where absent) and presence flags, which exist only
/// once some slot is absent: the common all-present column costs 8 bytes a slot, not 16.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionalInts {
    values: Vec<i64>,
    /// One flag per slot; `None` while every slot holds a value.
    present: Option<Vec<bool>>,
}

impl OptionalInts {
    /// An empty column with room for `len` slots.
    pub fn with_capacity(len: usize) -> Self {
        Self {
            values: Vec::with_capacity(len),
            present: None,
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value in slot `index`, if present. Panics when `index` is out of range.
    pub fn get(&self, index: usize) -> Option<i64> {
        let value = self.values[index];
        match &self.present {
            Some(present) if !present[index] => None,
            _ => Some(value),
        }
    }

    /// Appends one slot.
    pub fn push(&mut self, value: Option<i64>) {
        if value.is_none() && self.present.is_none() {
            self.present = Some(vec![true; self.values.len()]);
        }
        if let Some(present) = &mut self.present {
            present.push(value.is_some());
        }
        self.values.push(value.unwrap_or(0));
    }

    /// Appends slots from raw values (0 where absent) and their presence flags, which must
    /// be as many. A run of present values copies the values only.
    pub fn extend<P>(&mut self, values: impl IntoIterator<Item = i64>, present: P)
    where
        P: IntoIterator<Item = bool>,
        P::IntoIter: Clone,
    {
        let before = self.values.len();
        self.values.extend(values);
        let present = present.into_iter();
        if self.present.is_none() && present.clone().all(|p| p) {
            return;
        }
        let flags = self.present.get_or_insert_with(|| vec![true; before]);
        flags.extend(present);
        assert_eq!(
            flags.len(),
            self.values.len(),
            "as many presence flags as values"
        );
    }

    /// The slots in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<i64>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Reorders the slots `start..start + order.len()`: slot `start + k` takes the slot
    /// `start + order[k]` held before.
    pub fn permute(&mut self, start: usize, order: &[usize]) {
        permute(&mut self.values, start, order);
        if let Some(present) = &mut self.present {
            permute(present, start, order);
        }
    }

    /// The raw values (0 where absent) and, if some slot is absent, the presence flags.
    pub fn into_parts(self) -> (Vec<i64>, Option<Vec<bool>>) {
        (self.values, self.present)
    }
}

impl FromIterator<Option<i64>> for OptionalInts {
    fn from_iter<I: IntoIterator<Item = Option<i64>>>(iter: I) -> Self {
        let mut column = Self::default();
        for value in iter {
            column.push(value);
        }
        column
    }
}

/// Reorders `column[start..start + order.len()]` so that slot `start + k` takes the value
/// slot `start + order[k]` held before.
pub fn permute<T: Copy>(column: &mut [T], start: usize, order: &[usize]) {
    let original = column[start..start + order.len()].to_vec();
    for (slot, &from) in column[start..].iter_mut().zip(order) {
        *slot = original[from];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_absent_slots_apart_from_zero() {
        let column: OptionalInts = [Some(0), None, Some(-4)].into_iter().collect();
        assert_eq!(column.iter().collect::<Vec<_>>(), [Some(0), None, Some(-4)]);
        assert!(column.iter().any(|v| v.is_none()));
        let (values, present) = column.into_parts();
        assert_eq!(values, [0, 0, -4]);
        assert_eq!(present, Some(vec![true, false, true]));
    }

    #[test]
    fn an_all_present_column_keeps_no_flags() {
        let mut column = OptionalInts::with_capacity(4);
        column.extend([1, 2], [true, true]);
        column.push(Some(3));
        assert!(column.iter().all(|v| v.is_some()));
        assert_eq!(column.into_parts(), (vec![1, 2, 3], None));
    }

    #[test]
    fn extend_after_present_slots_flags_the_earlier_ones_present() {
        let mut column = OptionalInts::default();
        column.extend([5, 6], [true, true]);
        column.extend([0, 7], [false, true]);
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            [Some(5), Some(6), None, Some(7)]
        );
    }

    #[test]
    fn permute_moves_values_with_their_flags() {
        let mut column: OptionalInts = [Some(9), Some(3), None, Some(1)].into_iter().collect();
        column.permute(1, &[2, 1, 0]);
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            [Some(9), Some(1), None, Some(3)]
        );
    }
}

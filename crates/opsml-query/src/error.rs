//! The one error type of the crate: where in the user's text a query went wrong.

/// What kind of mistake a [`QueryError`] reports, so that callers (the
/// Python binding, tests) can react without matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryErrorKind {
    /// The text does not follow the grammar: a stray character, an
    /// unterminated string, a missing value or parenthesis, trailing text.
    Syntax,
    /// The field name is not one the store can filter or sort on.
    UnknownField,
    /// The field exists but does not support this operator (`tags > 'x'`).
    Operator,
    /// The literal has the wrong type for the field (`status > 3`).
    Type,
    /// The literal has the right type but an unusable value: a malformed
    /// date or version, an out-of-range number, a bad LIKE escape, a NUL
    /// character.
    Value,
    /// The filter or order-by list is larger than a search may be: too many
    /// conditions or values, or too long an `in` list (see the `MAX_*` bounds).
    TooLarge,
}

/// A filter or order-by string that cannot be compiled.
///
/// It keeps the input and a 0-based *character* (not byte) position so that
/// its `Display` can point at the mistake with a caret, which is what a user
/// typing a filter into a notebook needs to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct QueryError {
    kind: QueryErrorKind,
    position: usize,
    message: String,
    input: String,
    item: Option<usize>,
    /// Whether the error points into text; one about a tree built outside the
    /// parser has no text to point into.
    located: bool,
}

impl QueryError {
    pub(crate) fn new(kind: QueryErrorKind, position: usize, message: impl Into<String>) -> Self {
        Self {
            kind,
            position,
            message: message.into(),
            input: String::new(),
            item: None,
            located: true,
        }
    }

    /// An error about a whole tree rather than a place in text.
    pub(crate) fn unlocated(kind: QueryErrorKind, message: impl Into<String>) -> Self {
        Self {
            located: false,
            ..Self::new(kind, 0, message)
        }
    }

    /// Attaches the text the position refers to; done once at the API edge
    /// so the lexer and parser need not carry the input around.
    pub(crate) fn with_input(mut self, input: &str) -> Self {
        input.clone_into(&mut self.input);
        self
    }

    /// Marks the error as belonging to the `index`-th order-by item.
    pub(crate) fn in_item(mut self, index: usize) -> Self {
        self.item = Some(index);
        self
    }

    /// What kind of mistake this is.
    pub fn kind(&self) -> QueryErrorKind {
        self.kind
    }

    /// 0-based character offset into [`input`](Self::input); equal to the
    /// input's length when something was missing at the end.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The message without position or input, e.g. `expected a value after '>'`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The filter, or the single order-by item, the position refers to.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// For order-by errors, the index of the offending item in the list.
    pub fn item(&self) -> Option<usize> {
        self.item
    }

    /// `message at position N: input` and, under it, a caret at the position;
    /// only the message for an error that points nowhere.
    fn render(&self) -> String {
        if !self.located {
            return self.message.clone();
        }
        let head = match self.item {
            Some(i) => format!(
                "{} at position {} of order_by item {i}: ",
                self.message, self.position
            ),
            None => format!("{} at position {}: ", self.message, self.position),
        };
        // Control characters would break the caret's alignment; show them as spaces.
        let shown: String = self
            .input
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let pad = head.chars().count() + self.position;
        format!("{head}{shown}\n{:pad$}^", "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_points_a_caret_at_the_position() {
        let e = QueryError::new(QueryErrorKind::Syntax, 9, "expected a value after '>'")
            .with_input("status > ");
        let text = e.to_string();
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        assert_eq!(first, "expected a value after '>' at position 9: status > ");
        let caret = lines.next().unwrap();
        let prefix = "expected a value after '>' at position 9: ".len();
        assert_eq!(caret.len(), prefix + 9 + 1);
        assert!(caret.ends_with('^'));
        assert!(caret[..caret.len() - 1].chars().all(|c| c == ' '));
    }

    #[test]
    fn order_by_errors_name_the_item() {
        let e = QueryError::new(QueryErrorKind::UnknownField, 0, "unknown field 'x'")
            .with_input("x")
            .in_item(2);
        assert!(e
            .to_string()
            .starts_with("unknown field 'x' at position 0 of order_by item 2: x\n"));
        assert_eq!(e.item(), Some(2));
        assert_eq!(e.kind(), QueryErrorKind::UnknownField);
    }

    #[test]
    fn control_characters_do_not_shift_the_caret() {
        let e = QueryError::new(QueryErrorKind::Syntax, 2, "m").with_input("a\tb");
        let head = "m at position 2: ";
        let expected = format!("{head}a b\n{}^", " ".repeat(head.len() + 2));
        assert_eq!(e.to_string(), expected);
    }
}

//! Everything a command writes passes through [`Printable`]: names, parameters, tags and
//! messages come from whoever could write to the store, and a control character among them
//! would reach the reader's terminal (see `opsml_types::printable`). Data asked for in a
//! machine format (CSV) and written to a file or a program goes out exactly as stored (see
//! `Context::data_verbatim`).

use std::cell::Cell;
use std::io::{self, Write};
use std::rc::Rc;

/// Writes what it is given to `inner` with unprintable characters escaped. Bytes of a
/// character split across two writes wait for the rest.
pub(crate) struct Printable<'a> {
    inner: &'a mut dyn Write,
    pending: Vec<u8>,
    /// When set, bytes pass unchanged.
    verbatim: Rc<Cell<bool>>,
}

impl<'a> Printable<'a> {
    /// Escapes what goes to `inner` unless `verbatim` is set.
    pub(crate) fn new(inner: &'a mut dyn Write, verbatim: Rc<Cell<bool>>) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            verbatim,
        }
    }

    /// Writes the complete characters of `pending`, keeping an incomplete last one.
    fn write_complete(&mut self) -> io::Result<()> {
        let mut text = String::new();
        let mut rest = self.pending.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    opsml_types::push_printable(&mut text, valid);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    #[allow(clippy::expect_used, reason = "checked by valid_up_to")]
                    let valid = std::str::from_utf8(valid).expect("checked by valid_up_to");
                    opsml_types::push_printable(&mut text, valid);
                    match e.error_len() {
                        // Not UTF-8: shown as the replacement character.
                        Some(len) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[len..];
                        }
                        // The start of a character whose end comes with the next write.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        let kept = rest.to_vec();
        self.inner.write_all(text.as_bytes())?;
        self.pending = kept;
        Ok(())
    }
}

impl Write for Printable<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.verbatim.get() && self.pending.is_empty() {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        self.write_complete()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_escaped_even_when_split_across_writes() {
        let mut out = Vec::new();
        {
            let mut printable = Printable::new(&mut out, Rc::default());
            let text = "name\u{1b}[2J\u{9b}1m\u{202e}x\n\tok é".as_bytes();
            for piece in text.chunks(1) {
                printable.write_all(piece).unwrap();
            }
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name\\u001b[2J\\u009b1m\\u202ex\n\tok é"
        );
    }

    #[test]
    fn verbatim_output_passes_every_byte() {
        let mut out = Vec::new();
        let verbatim = Rc::new(Cell::new(true));
        Printable::new(&mut out, verbatim)
            .write_all("a\u{1b}[2J".as_bytes())
            .unwrap();
        assert_eq!(out, "a\u{1b}[2J".as_bytes());
    }
}

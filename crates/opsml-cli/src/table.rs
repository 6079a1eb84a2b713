//! Tables of rows: aligned columns under a ruled header on a terminal, plain
//! tab-separated lines (header first) anywhere else.

use std::io::{self, Write};

use comfy_table::{CellAlignment, LineStyle, TableStyle};

use crate::format::tsv_field;

/// Which side of its column a value sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// For numbers.
    Right,
}

/// No borders, no column lines: a rule under the header only.
const STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// A table built row by row, then written in one go.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns (title, alignment).
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            header: columns.iter().map(|(title, _)| *title).collect(),
            align: columns.iter().map(|(_, align)| *align).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one value per column.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    /// Writes the table: aligned for a terminal, tab-separated otherwise.
    pub fn write(&self, out: &mut dyn Write, terminal: bool) -> io::Result<()> {
        if terminal {
            self.write_aligned(out)
        } else {
            self.write_tsv(out)
        }
    }

    fn write_aligned(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut table = comfy_table::Table::new();
        table.load_style(STYLE);
        table.set_header(self.header.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        for (column, align) in table.column_iter_mut().zip(&self.align) {
            column.set_cell_alignment(match align {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
        }
        for line in table.lines() {
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    fn write_tsv(&self, out: &mut dyn Write) -> io::Result<()> {
        write_tsv_row(out, self.header.iter().copied())?;
        for row in &self.rows {
            write_tsv_row(out, row.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

/// One line of tab-separated fields, escaped with [`tsv_field`].
pub fn write_tsv_row<'a>(
    out: &mut dyn Write,
    fields: impl IntoIterator<Item = &'a str>,
) -> io::Result<()> {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b"\t")?;
        }
        out.write_all(tsv_field(field).as_bytes())?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(&[("name", Align::Left), ("value", Align::Right)]);
        table.push(vec!["loss".into(), "0.5".into()]);
        table.push(vec!["accuracy\tx".into(), "10".into()]);
        table
    }

    #[test]
    fn piped_tables_are_tab_separated_with_a_header() {
        let mut out = Vec::new();
        sample().write(&mut out, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name\tvalue\nloss\t0.5\naccuracy\\tx\t10\n"
        );
    }

    #[test]
    fn terminal_tables_are_aligned() {
        let mut out = Vec::new();
        let mut table = Table::new(&[("name", Align::Left), ("value", Align::Right)]);
        table.push(vec!["loss".into(), "0.5".into()]);
        table.push(vec!["accuracy".into(), "10".into()]);
        table.write(&mut out, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].contains("name") && lines[0].contains("value"));
        assert!(lines[1].chars().all(|c| c == '─'), "{text}");
        // Numbers are right-aligned: the values end in the same column.
        assert_eq!(lines[2].len(), lines[3].len(), "{text}");
        assert!(!text.contains('\t'));
    }
}

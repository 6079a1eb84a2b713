//! Text tables for people and programs: aligned columns under a ruled header (for a
//! terminal, and the `str()` of the Python objects), plain tab-separated lines (header
//! first) anywhere else. An aligned table may be split into titled sections that keep one
//! set of column widths. The command line and the Python module print with it.

use std::io::{self, Write};

use comfy_table::{CellAlignment, LineStyle, TableStyle};
use minijinja::HtmlEscape;

use std::borrow::Cow;

/// Which side of its column a value sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// For numbers.
    Right,
}

/// Lines of an aligned table before its first row: the header and the rule under it.
const HEADER_LINES: usize = 2;

/// No borders, no column lines: a rule under the header only.
const STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// A table built row by row, then written in one go.
#[derive(Debug, Clone)]
pub struct TextTable {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
    /// Section titles, each with the index of the row it comes before.
    headings: Vec<(usize, String)>,
}

impl TextTable {
    /// A table with these columns (title, alignment).
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Self::with_columns(
            columns
                .iter()
                .map(|(title, align)| ((*title).to_owned(), *align))
                .collect(),
        )
    }

    /// A table with these columns (title, alignment), titles known only at run time.
    pub fn with_columns(columns: Vec<(String, Align)>) -> Self {
        let (header, align) = columns.into_iter().unzip();
        Self {
            header,
            align,
            rows: Vec::new(),
            headings: Vec::new(),
        }
    }

    /// Appends a row; it must have one value per column.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    /// Starts a section: on a terminal, `title` is written on a line of its own before
    /// the rows pushed from now on (after a blank line unless it comes first). Piped
    /// output has no titles.
    pub fn heading(&mut self, title: impl Into<String>) {
        self.headings.push((self.rows.len(), title.into()));
    }

    /// Writes the table: aligned for a terminal, tab-separated otherwise.
    pub fn write(&self, out: &mut dyn Write, terminal: bool) -> io::Result<()> {
        if terminal {
            self.write_aligned(out)
        } else {
            self.write_tsv(out)
        }
    }

    /// The aligned table as text, a line for each row (and section title), without a
    /// newline after the last.
    pub fn aligned(&self) -> String {
        let mut out = Vec::new();
        // Writing into memory cannot fail.
        let _ = self.write_aligned(&mut out);
        let mut text = String::from_utf8_lossy(&out).into_owned();
        text.truncate(text.trim_end_matches('\n').len());
        text
    }

    /// The table as HTML, for a notebook's output: every text escaped, numbers on the right,
    /// each section title as a row of its own.
    pub fn html(&self) -> String {
        self.html_with_markup_column(&[])
    }

    /// [`TextTable::html`] with a last, untitled column of `markup`, one cell per row, put in
    /// as it is: HTML this program made (a chart), never text from a user.
    pub fn html_with_markup_column(&self, markup: &[String]) -> String {
        use std::fmt::Write as _;
        let side = |align: &Align| match align {
            Align::Left => "left",
            Align::Right => "right",
        };
        let mut out = String::from("<table>\n<thead><tr>");
        for (title, align) in self.header.iter().zip(&self.align) {
            let _ = write!(
                out,
                "<th style=\"text-align:{}\">{}</th>",
                side(align),
                HtmlEscape(title)
            );
        }
        if !markup.is_empty() {
            out.push_str("<th></th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        let heading_row = |out: &mut String, title: &str| {
            let _ = writeln!(
                out,
                "<tr><th colspan=\"{}\" style=\"text-align:left\">{}</th></tr>",
                self.header.len(),
                HtmlEscape(title)
            );
        };
        let mut headings = self.headings.iter().peekable();
        for (i, row) in self.rows.iter().enumerate() {
            while let Some((_, title)) = headings.next_if(|(before, _)| *before == i) {
                heading_row(&mut out, title);
            }
            out.push_str("<tr>");
            for (cell, align) in row.iter().zip(&self.align) {
                let _ = write!(
                    out,
                    "<td style=\"text-align:{}\">{}</td>",
                    side(align),
                    HtmlEscape(cell)
                );
            }
            if let Some(cell) = markup.get(i) {
                let _ = write!(out, "<td>{cell}</td>");
            }
            out.push_str("</tr>\n");
        }
        for (_, title) in headings {
            heading_row(&mut out, title);
        }
        out.push_str("</tbody>\n</table>");
        out
    }

    fn write_aligned(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut table = comfy_table::Table::new();
        table.load_style(STYLE);
        table.set_header(self.header.clone());
        let sectioned = !self.headings.is_empty();
        for row in &self.rows {
            if sectioned {
                // One line per row, so that titles can be put between the lines.
                table.add_row(row.iter().map(|cell| tsv_field(cell).into_owned()));
            } else {
                table.add_row(row.clone());
            }
        }
        for (column, align) in table.column_iter_mut().zip(&self.align) {
            column.set_cell_alignment(match align {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
        }
        let mut headings = self.headings.iter().peekable();
        for (i, line) in table.lines().enumerate() {
            let row = i.checked_sub(HEADER_LINES);
            while let Some((_, title)) = headings.next_if(|(before, _)| Some(*before) == row) {
                if row != Some(0) {
                    writeln!(out)?;
                }
                writeln!(out, "{title}")?;
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        // Titles of sections without rows.
        for (_, title) in headings {
            writeln!(out, "\n{title}")?;
        }
        Ok(())
    }

    fn write_tsv(&self, out: &mut dyn Write) -> io::Result<()> {
        write_tsv_row(out, self.header.iter().map(String::as_str))?;
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

/// A field of tab-separated output: backslash, tab, line feed and carriage return
/// escaped as `\\`, `\t`, `\n`, `\r`, so that every row stays one line of fields.
pub fn tsv_field(text: &str) -> Cow<'_, str> {
    if !text.contains(['\\', '\t', '\n', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            other => escaped.push(other),
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TextTable {
        let mut table = TextTable::new(&[("name", Align::Left), ("value", Align::Right)]);
        table.push(vec!["loss".into(), "0.5".into()]);
        table.push(vec!["accuracy\tx".into(), "10".into()]);
        table
    }

    #[test]
    fn html_tables_escape_every_text_and_keep_sections() {
        let mut table = TextTable::new(&[("<b>name</b>", Align::Left), ("value", Align::Right)]);
        table.heading("PARAMETERS & CO");
        table.push(vec!["<script>alert(1)</script>".into(), "0.5".into()]);
        table.heading("EMPTY");
        let html = table.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;name&lt;&#x2f;b&gt;"), "{html}");
        assert!(html.contains(">PARAMETERS &amp; CO</th>"), "{html}");
        assert!(html.contains(">EMPTY</th>"), "{html}");
        assert!(
            html.contains("<td style=\"text-align:right\">0.5</td>"),
            "{html}"
        );
        let charted = table.html_with_markup_column(&["<svg></svg>".to_owned()]);
        assert!(
            charted.contains("0.5</td><td><svg></svg></td></tr>"),
            "{charted}"
        );
        assert!(charted.contains("</th><th></th></tr></thead>"), "{charted}");
    }

    #[test]
    fn fields_are_escaped_only_when_needed() {
        assert_eq!(tsv_field("plain"), "plain");
        assert_eq!(tsv_field("a\tb\nc\\d"), "a\\tb\\nc\\\\d");
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
        let mut table = TextTable::new(&[("name", Align::Left), ("value", Align::Right)]);
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

    #[test]
    fn sections_share_the_column_widths_and_titles_stay_out_of_piped_output() {
        let mut table = TextTable::new(&[("key", Align::Left), ("value", Align::Right)]);
        table.heading("FIRST");
        table.push(vec!["a".into(), "1".into()]);
        table.push(vec!["multi\nline".into(), "2".into()]);
        table.heading("SECOND");
        table.push(vec!["a_much_longer_key".into(), "3".into()]);
        table.heading("EMPTY");
        let mut out = Vec::new();
        table.write(&mut out, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10, "{text}");
        assert!(lines[0].trim_start().starts_with("key"), "{text}");
        assert!(lines[1].chars().all(|c| c == '─'), "{text}");
        assert_eq!(lines[2], "FIRST");
        assert!(lines[3].trim_start().starts_with("a "), "{text}");
        assert!(lines[4].trim_start().starts_with("multi\\nline"), "{text}");
        assert_eq!((lines[5], lines[6]), ("", "SECOND"));
        assert!(lines[7].trim_start().starts_with("a_much_longer_key"));
        assert_eq!((lines[8], lines[9]), ("", "EMPTY"));
        // One set of widths: every value ends in the same column.
        let ends: Vec<usize> = [3, 4, 7].iter().map(|&i| lines[i].len()).collect();
        assert!(ends.iter().all(|&e| e == lines[0].len()), "{text}");

        let mut out = Vec::new();
        table.write(&mut out, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "key\tvalue\na\t1\nmulti\\nline\t2\na_much_longer_key\t3\n"
        );
    }
}

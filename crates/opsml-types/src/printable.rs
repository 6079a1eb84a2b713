//! Text from a store shown on a terminal: anyone who can write a name, a parameter or a tag
//! could otherwise move the cursor, retitle the window or wipe the screen of whoever reads
//! it (`ESC ] 0;… BEL`, `ESC [2J`), or reorder what a line seems to say.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: control characters (C0 but newline and
/// tab, DEL, C1) and the characters that reorder text (bidirectional controls).
pub fn is_unprintable(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// Bidirectional marks, embeddings, overrides and isolates: they reorder what follows them.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unprintable character written as `\uXXXX` (the JSON form, so that
/// JSON output stays JSON).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    push_printable(&mut out, text);
    Cow::Owned(out)
}

/// Appends `text` to `out` as [`printable`] writes it.
pub fn push_printable(out: &mut String, text: &str) {
    use std::fmt::Write;
    for c in text.chars() {
        if is_unprintable(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_no_terminal_and_ordinary_text_is_untouched() {
        let attack = "lr\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{9b}31m\u{202e}gpj.exe";
        let shown = printable(attack);
        assert_eq!(
            shown,
            "lr\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\u009b31m\\u202egpj.exe"
        );
        assert!(!shown.chars().any(is_unprintable));
        assert!(matches!(printable("résumé\tα\n"), Cow::Borrowed(_)));
    }
}

//! Splits a filter or order-by item into tokens, with character positions.
//!
//! A field path such as ``metrics.`val.loss`.max`` is one token made of
//! segments, because the characters allowed in names (`-`, `/`, `:`) would
//! otherwise collide with numbers and operators.

use crate::ast::CmpOp;
use crate::error::{QueryError, QueryErrorKind};

/// A reserved word, matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    In,
    Like,
    Is,
    Null,
    True,
    False,
    Asc,
    Desc,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        const ALL: [(&str, Keyword); 11] = [
            ("and", Keyword::And),
            ("or", Keyword::Or),
            ("not", Keyword::Not),
            ("in", Keyword::In),
            ("like", Keyword::Like),
            ("is", Keyword::Is),
            ("null", Keyword::Null),
            ("true", Keyword::True),
            ("false", Keyword::False),
            ("asc", Keyword::Asc),
            ("desc", Keyword::Desc),
        ];
        ALL.iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|&(_, k)| k)
    }
}

/// One dot-separated part of a field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub text: String,
    pub pos: usize,
    /// Written in backticks, so never a keyword.
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    Op(CmpOp),
    Str(String),
    Int(i64),
    Real(f64),
    Path(Vec<Segment>),
    Kw(Keyword),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Character offset of the first character.
    pub pos: usize,
    /// The source text, for "found …" messages.
    pub text: String,
}

/// The tokens up to the first lexical error, and that error if any. Keeping
/// the error aside lets the parser report an earlier syntax error first, so
/// errors always come in reading order.
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub error: Option<QueryError>,
}

pub(crate) fn tokenize(src: &str) -> Lexed {
    let mut lexer = Lexer {
        chars: src.chars().collect(),
        i: 0,
    };
    let mut tokens = Vec::new();
    loop {
        match lexer.next_token() {
            Ok(token) => {
                let eof = token.tok == Tok::Eof;
                tokens.push(token);
                if eof {
                    return Lexed {
                        tokens,
                        error: None,
                    };
                }
            }
            Err(e) => {
                return Lexed {
                    tokens,
                    error: Some(e),
                }
            }
        }
    }
}

/// Characters allowed in unquoted names after `params.` / `metrics.`.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | ':')
}

fn syntax(pos: usize, message: impl Into<String>) -> QueryError {
    QueryError::new(QueryErrorKind::Syntax, pos, message)
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn next_token(&mut self) -> Result<Token, QueryError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
        let start = self.i;
        let Some(c) = self.peek() else {
            return Ok(self.token(Tok::Eof, start));
        };
        let tok = match c {
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            ',' => self.single(Tok::Comma),
            '=' => self.single(Tok::Op(CmpOp::Eq)),
            '!' => {
                if self.peek_at(1) != Some('=') {
                    return Err(syntax(start, "expected '=' after '!'"));
                }
                self.i += 2;
                Tok::Op(CmpOp::Ne)
            }
            '<' => match self.peek_at(1) {
                Some('=') => self.double(Tok::Op(CmpOp::Le)),
                Some('>') => self.double(Tok::Op(CmpOp::Ne)),
                _ => self.single(Tok::Op(CmpOp::Lt)),
            },
            '>' => match self.peek_at(1) {
                Some('=') => self.double(Tok::Op(CmpOp::Ge)),
                _ => self.single(Tok::Op(CmpOp::Gt)),
            },
            '\'' | '"' => Tok::Str(self.quoted(c, "string")?),
            '-' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number()?,
            d if d.is_ascii_digit() => self.number()?,
            w if w.is_alphabetic() || w == '_' || w == '`' => self.path()?,
            other => return Err(syntax(start, format!("unexpected character {other:?}"))),
        };
        Ok(self.token(tok, start))
    }

    fn token(&self, tok: Tok, start: usize) -> Token {
        Token {
            tok,
            pos: start,
            text: self.chars[start..self.i].iter().collect(),
        }
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.i += 1;
        tok
    }

    fn double(&mut self, tok: Tok) -> Tok {
        self.i += 2;
        tok
    }

    /// A string or backticked name delimited by `quote`; a backslash escapes
    /// a quote character or itself and nothing else, so that Windows-style
    /// paths in values are never silently altered.
    fn quoted(&mut self, quote: char, what: &str) -> Result<String, QueryError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(syntax(start, format!("unterminated {what}"))),
                Some('\\') => {
                    match self.peek_at(1) {
                        Some(e @ ('\\' | '\'' | '"' | '`')) => out.push(e),
                        None => return Err(syntax(start, format!("unterminated {what}"))),
                        Some(e) => {
                            return Err(syntax(
                                self.i,
                                format!(
                                    "unknown escape '\\{e}' (only \\\\ and a backslash before a quote are escapes)"
                                ),
                            ))
                        }
                    }
                    self.i += 2;
                }
                Some(c) if c == quote => {
                    self.i += 1;
                    return Ok(out);
                }
                Some('\0') => {
                    return Err(QueryError::new(
                        QueryErrorKind::Value,
                        self.i,
                        crate::limits::nul_refused(what),
                    ))
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - from
    }

    /// `-?digits(.digits)?([eE][+-]?digits)?`, an integer unless it has a
    /// fraction or exponent.
    fn number(&mut self) -> Result<Tok, QueryError> {
        let start = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        self.digits();
        let mut real = false;
        if self.peek() == Some('.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(syntax(self.i, "expected a digit after '.'"));
            }
            real = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.i += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(syntax(self.i, "expected digits in the exponent"));
            }
            real = true;
        }
        if let Some(c) = self.peek().filter(|&c| is_name_char(c) || c == '.') {
            return Err(syntax(self.i, format!("unexpected '{c}' in a number")));
        }
        let text: String = self.chars[start..self.i].iter().collect();
        let out_of_range = || {
            QueryError::new(
                QueryErrorKind::Value,
                start,
                format!("number {text} is out of range"),
            )
        };
        if real {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Tok::Real(v)),
                _ => Err(out_of_range()),
            }
        } else {
            text.parse::<i64>()
                .map(Tok::Int)
                .map_err(|_| out_of_range())
        }
    }

    /// Dot-separated segments, each bare or in backticks. A single bare
    /// segment that spells a keyword becomes that keyword.
    fn path(&mut self) -> Result<Tok, QueryError> {
        let mut segments = Vec::new();
        loop {
            let pos = self.i;
            let segment = if self.peek() == Some('`') {
                let text = self.quoted('`', "quoted name")?;
                if text.is_empty() {
                    return Err(syntax(pos, "empty quoted name"));
                }
                if let Some(c) = self.peek().filter(|&c| is_name_char(c) || c == '`') {
                    return Err(syntax(
                        self.i,
                        format!("expected '.' after a quoted name, found '{c}'"),
                    ));
                }
                Segment {
                    text,
                    pos,
                    quoted: true,
                }
            } else {
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
                if self.i == pos {
                    return Err(syntax(pos, "expected a name after '.'"));
                }
                Segment {
                    text: self.chars[pos..self.i].iter().collect(),
                    pos,
                    quoted: false,
                }
            };
            segments.push(segment);
            if self.peek() == Some('.') {
                self.i += 1;
            } else {
                break;
            }
        }
        if let [only] = segments.as_slice() {
            if !only.quoted {
                if let Some(k) = Keyword::from_word(&only.text) {
                    return Ok(Tok::Kw(k));
                }
            }
        }
        Ok(Tok::Path(segments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let lexed = tokenize(src);
        assert!(lexed.error.is_none(), "{:?}", lexed.error);
        lexed.tokens.into_iter().map(|t| t.tok).collect()
    }

    fn err(src: &str) -> (usize, String) {
        let e = tokenize(src).error.expect("an error");
        (e.position(), e.message().to_owned())
    }

    fn path(parts: &[&str]) -> Tok {
        let mut pos = 0;
        Tok::Path(
            parts
                .iter()
                .map(|p| {
                    let s = Segment {
                        text: (*p).to_owned(),
                        pos,
                        quoted: false,
                    };
                    pos += p.chars().count() + 1;
                    s
                })
                .collect(),
        )
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("= != <> < <= > >="),
            vec![
                Tok::Op(CmpOp::Eq),
                Tok::Op(CmpOp::Ne),
                Tok::Op(CmpOp::Ne),
                Tok::Op(CmpOp::Lt),
                Tok::Op(CmpOp::Le),
                Tok::Op(CmpOp::Gt),
                Tok::Op(CmpOp::Ge),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("1 -2 3.5 -0.25 1e3 2.5E-2 -9223372036854775808"),
            vec![
                Tok::Int(1),
                Tok::Int(-2),
                Tok::Real(3.5),
                Tok::Real(-0.25),
                Tok::Real(1000.0),
                Tok::Real(0.025),
                Tok::Int(i64::MIN),
                Tok::Eof
            ]
        );
        assert_eq!(err("9223372036854775808").0, 0);
        assert_eq!(err("x > 1e999").0, 4);
        assert_eq!(err("1.").0, 2);
        assert_eq!(err("1e+").0, 3);
        assert_eq!(err("12ab").0, 2);
        assert_eq!(err("- 1").0, 0);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(r#"'a\'b' "c\"d" 'e\\f' "it's" 'say "hi"'"#),
            vec![
                Tok::Str("a'b".into()),
                Tok::Str("c\"d".into()),
                Tok::Str("e\\f".into()),
                Tok::Str("it's".into()),
                Tok::Str("say \"hi\"".into()),
                Tok::Eof
            ]
        );
        assert_eq!(err("x = 'abc"), (4, "unterminated string".into()));
        assert_eq!(err("x = 'abc\\"), (4, "unterminated string".into()));
        assert_eq!(err(r"x = 'a\nb'").0, 6);
    }

    #[test]
    fn paths_and_keywords() {
        assert_eq!(
            toks("AND Or nOt"),
            vec![
                Tok::Kw(Keyword::And),
                Tok::Kw(Keyword::Or),
                Tok::Kw(Keyword::Not),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("metrics.val-loss/x:y.max"),
            vec![path(&["metrics", "val-loss/x:y", "max"]), Tok::Eof]
        );
        let Tok::Path(segs) = &toks("metrics.`val.loss`.max")[0] else {
            panic!()
        };
        assert_eq!(segs[1].text, "val.loss");
        assert!(segs[1].quoted);
        assert_eq!(segs[1].pos, 8);
        assert_eq!(segs[2].pos, 19);
        // A quoted keyword is a name.
        assert!(matches!(&toks("`and`")[0], Tok::Path(_)));
        assert_eq!(err("params."), (7, "expected a name after '.'".into()));
        assert_eq!(err("params..x").0, 7);
        assert_eq!(err("metrics.`a`b").0, 11);
        assert_eq!(err("metrics.``").0, 8);
        assert_eq!(err("metrics.`ab").0, 8);
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let lexed = tokenize("name = 'é' and x");
        let last = &lexed.tokens[lexed.tokens.len() - 2];
        assert_eq!(last.pos, 15);
        assert_eq!(err("'é' ?"), (4, "unexpected character '?'".into()));
    }
}

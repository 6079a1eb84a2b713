//! Recursive-descent parser for filters and order-by items.
//!
//! ```text
//! filter    := [or_expr] EOF
//! or_expr   := and_expr ("or" and_expr)*
//! and_expr  := not_expr ("and" not_expr)*
//! not_expr  := "not" not_expr | "(" or_expr ")" | condition
//! condition := FIELD ( OP literal | ["not"] "like" STRING
//!                    | ["not"] "in" "(" literal ("," literal)* ")"
//!                    | "is" ["not"] "null" )
//! literal   := STRING | NUMBER | "true" | "false"
//! order     := FIELD ["asc" | "desc"] EOF
//! ```

use std::fmt::Write as _;

use crate::ast::{Expr, OrderItem, OrderKey};
use crate::check::{condition, Lit, LitValue, OpAt, PlainTest, RawTest};
use crate::error::{QueryError, QueryErrorKind};
use crate::fields::{resolve, FieldRef};
use crate::lexer::{tokenize, Keyword, Lexed, Tok, Token};
use crate::limits::{list_too_long, Tally, MAX_LIST_VALUES};

/// Nesting limit for parentheses and `not`: user text must not be able to
/// exhaust the stack, and SQLite rejects expressions deeper than 1000 anyway.
pub(crate) const MAX_DEPTH: usize = 64;

pub(crate) fn parse_filter(src: &str) -> Result<Expr, QueryError> {
    let mut p = Parser::new(tokenize(src));
    if p.peek()?.tok == Tok::Eof {
        return Ok(Expr::And(Vec::new()));
    }
    let expr = p.or_expr(0)?;
    let next = p.peek()?;
    match next.tok {
        Tok::Eof => Ok(expr),
        Tok::RParen => Err(syntax(next.pos, "unmatched ')'")),
        _ => Err(p.expected("'and', 'or' or the end of the filter")),
    }
}

pub(crate) fn parse_order_item(src: &str) -> Result<OrderItem, QueryError> {
    let mut p = Parser::new(tokenize(src));
    let (field, field_pos) = p.field()?;
    let key = match field {
        FieldRef::Text(f) => OrderKey::Text(f),
        FieldRef::Time(f) => OrderKey::Time(f),
        FieldRef::Version => OrderKey::Version,
        FieldRef::Param(name) => OrderKey::Param(name),
        FieldRef::Metric { name, stat } => OrderKey::Metric { name, stat },
        FieldRef::Tags => {
            return Err(QueryError::new(
                QueryErrorKind::Operator,
                field_pos,
                "tags are a set and cannot be sorted on",
            ))
        }
    };
    let descending = match p.peek()?.tok {
        Tok::Kw(Keyword::Desc) => {
            p.bump();
            true
        }
        Tok::Kw(Keyword::Asc) => {
            p.bump();
            false
        }
        _ => false,
    };
    match p.peek()?.tok {
        Tok::Eof => Ok(OrderItem { key, descending }),
        Tok::Comma => {
            let e = p.expected("'asc', 'desc' or the end of the item");
            Err(QueryError::new(
                e.kind(),
                e.position(),
                format!("{}; give each field as its own order_by item", e.message()),
            ))
        }
        _ => Err(p.expected("'asc', 'desc' or the end of the item")),
    }
}

fn syntax(pos: usize, message: impl Into<String>) -> QueryError {
    QueryError::new(QueryErrorKind::Syntax, pos, message)
}

struct Parser {
    tokens: Vec<Token>,
    lex_error: Option<QueryError>,
    i: usize,
    /// The size of the filter so far, checked condition by condition.
    tally: Tally,
}

impl Parser {
    fn new(lexed: Lexed) -> Self {
        Self {
            tokens: lexed.tokens,
            lex_error: lexed.error,
            i: 0,
            tally: Tally::default(),
        }
    }

    /// The next token; past the last good token, the lexer's error. The
    /// token list always ends in `Eof` or has a lexer error, so `i` never
    /// runs past both.
    #[allow(clippy::expect_used, reason = "the lexer always ends in Eof")]
    fn peek(&self) -> Result<&Token, QueryError> {
        match (self.tokens.get(self.i), &self.lex_error) {
            (Some(t), _) => Ok(t),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Ok(self.tokens.last().expect("the lexer always ends in Eof")),
        }
    }

    fn bump(&mut self) {
        if self.tokens.get(self.i).is_some_and(|t| t.tok != Tok::Eof) {
            self.i += 1;
        }
    }

    /// The token just consumed, for "after '…'" in messages; strings are
    /// left out since quoting a quoted value reads badly.
    fn previous_text(&self) -> Option<&str> {
        let prev = &self.tokens[self.i.checked_sub(1)?];
        (!matches!(prev.tok, Tok::Str(_))).then_some(prev.text.as_str())
    }

    /// "expected X after 'prev', found 'next'" at the next token. Assumes
    /// `peek` succeeded, which every caller has checked.
    #[allow(
        clippy::expect_used,
        reason = "every caller has checked that peek succeeded"
    )]
    fn expected(&self, what: &str) -> QueryError {
        let Some(next) = self.tokens.get(self.i) else {
            return self.lex_error.clone().expect("peek succeeded");
        };
        let mut message = format!("expected {what}");
        if let Some(prev) = self.previous_text() {
            let _ = write!(message, " after '{prev}'");
        }
        if next.tok != Tok::Eof {
            let _ = write!(message, ", found '{}'", next.text);
        }
        syntax(next.pos, message)
    }

    fn deeper(&self, depth: usize) -> Result<usize, QueryError> {
        if depth >= MAX_DEPTH {
            let pos = self.peek()?.pos;
            return Err(syntax(
                pos,
                format!("nesting is deeper than {MAX_DEPTH} levels of parentheses and 'not'"),
            ));
        }
        Ok(depth + 1)
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut items = vec![self.and_expr(depth)?];
        while self.peek()?.tok == Tok::Kw(Keyword::Or) {
            self.bump();
            items.push(self.and_expr(depth)?);
        }
        Ok(flatten(items, Expr::Or))
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut items = vec![self.not_expr(depth)?];
        while self.peek()?.tok == Tok::Kw(Keyword::And) {
            self.bump();
            items.push(self.not_expr(depth)?);
        }
        Ok(flatten(items, Expr::And))
    }

    fn not_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let next = self.peek()?;
        match next.tok {
            Tok::Kw(Keyword::Not) => {
                let depth = self.deeper(depth)?;
                self.bump();
                Ok(Expr::Not(Box::new(self.not_expr(depth)?)))
            }
            Tok::LParen => {
                let depth = self.deeper(depth)?;
                self.bump();
                let inner = self.or_expr(depth)?;
                if self.peek()?.tok != Tok::RParen {
                    return Err(self.expected("')' to close '('"));
                }
                self.bump();
                Ok(inner)
            }
            _ => self.condition(),
        }
    }

    /// A field path and the character position where it starts.
    fn field(&mut self) -> Result<(FieldRef, usize), QueryError> {
        let next = self.peek()?;
        let Tok::Path(segments) = &next.tok else {
            return Err(self.expected("a field name"));
        };
        let pos = next.pos;
        let field = resolve(segments)?;
        self.bump();
        Ok((field, pos))
    }

    fn condition(&mut self) -> Result<Expr, QueryError> {
        let (field, field_pos) = self.field()?;
        let op = self.peek()?.clone();
        let raw = match op.tok {
            Tok::Op(cmp) => {
                self.bump();
                RawTest::Plain(PlainTest::Compare(cmp, self.literal()?))
            }
            Tok::Kw(Keyword::Like) => {
                self.bump();
                RawTest::Like {
                    negated: false,
                    pattern: self.literal()?,
                }
            }
            Tok::Kw(Keyword::In) => {
                self.bump();
                RawTest::Plain(PlainTest::In {
                    negated: false,
                    items: self.list()?,
                })
            }
            Tok::Kw(Keyword::Not) => {
                self.bump();
                match self.peek()?.tok {
                    Tok::Kw(Keyword::Like) => {
                        self.bump();
                        RawTest::Like {
                            negated: true,
                            pattern: self.literal()?,
                        }
                    }
                    Tok::Kw(Keyword::In) => {
                        self.bump();
                        RawTest::Plain(PlainTest::In {
                            negated: true,
                            items: self.list()?,
                        })
                    }
                    _ => return Err(self.expected("'in' or 'like'")),
                }
            }
            Tok::Kw(Keyword::Is) => {
                self.bump();
                let negated = self.peek()?.tok == Tok::Kw(Keyword::Not);
                if negated {
                    self.bump();
                }
                if self.peek()?.tok != Tok::Kw(Keyword::Null) {
                    return Err(self.expected("'null'"));
                }
                self.bump();
                RawTest::Plain(PlainTest::Null { negated })
            }
            _ => {
                return Err(
                    self.expected("an operator (=, !=, <, <=, >, >=, like, in, not in, is null)")
                )
            }
        };
        let text = match &raw {
            RawTest::Like { negated: true, .. } => "not like",
            RawTest::Plain(PlainTest::In { negated: true, .. }) => "not in",
            RawTest::Plain(PlainTest::Null { negated: true }) => "is not null",
            _ => op.text.as_str(),
        };
        let at = OpAt { pos: op.pos, text };
        let checked = condition(field, &at, raw)?;
        self.tally
            .add(&checked)
            .map_err(|message| QueryError::new(QueryErrorKind::TooLarge, field_pos, message))?;
        Ok(Expr::Cond(checked))
    }

    fn literal(&mut self) -> Result<Lit, QueryError> {
        let next = self.peek()?;
        let value = match &next.tok {
            Tok::Str(s) => LitValue::Str(s.clone()),
            Tok::Int(i) => LitValue::Int(*i),
            Tok::Real(r) => LitValue::Real(*r),
            Tok::Kw(Keyword::True) => LitValue::Bool(true),
            Tok::Kw(Keyword::False) => LitValue::Bool(false),
            Tok::Kw(Keyword::Null) => {
                return Err(syntax(
                    next.pos,
                    "null is not a value; test for a missing value with 'is null'",
                ))
            }
            _ => return Err(self.expected("a value")),
        };
        let lit = Lit {
            value,
            pos: next.pos,
        };
        self.bump();
        Ok(lit)
    }

    /// `( literal (, literal)* )`
    fn list(&mut self) -> Result<Vec<Lit>, QueryError> {
        if self.peek()?.tok != Tok::LParen {
            return Err(self.expected("'('"));
        }
        self.bump();
        let mut items = vec![self.literal()?];
        loop {
            match self.peek()?.tok {
                Tok::Comma => {
                    self.bump();
                    if items.len() == MAX_LIST_VALUES {
                        let pos = self.peek()?.pos;
                        return Err(QueryError::new(
                            QueryErrorKind::TooLarge,
                            pos,
                            list_too_long(),
                        ));
                    }
                    items.push(self.literal()?);
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(items);
                }
                _ => return Err(self.expected("',' or ')'")),
            }
        }
    }
}

/// One item stays itself; several become an n-ary node, so long chains of
/// `and`/`or` never build a deep tree.
#[allow(clippy::expect_used, reason = "the vector holds one item here")]
fn flatten(mut items: Vec<Expr>, make: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        make(items)
    }
}

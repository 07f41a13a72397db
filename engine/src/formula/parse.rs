//! The formula language's parser: text to a tree, with the column of every problem.

use rust_decimal::Decimal;

use super::{Expr, FormulaError, Op};

/// The longest formula accepted, in characters.
pub(crate) const MAX_CHARS: usize = 2_000;
/// The deepest nesting accepted (parentheses, calls, unary operators).
pub(crate) const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Decimal),
    Name(String),
    Str(String),
    Sym(&'static str),
}

fn tokens(src: &str) -> Result<Vec<(usize, Tok)>, FormulaError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = exact_literal(&text).map_err(|why| FormulaError::at(at, why))?;
            out.push((at, Tok::Num(n)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push((at, Tok::Name(chars[start..i].iter().collect())));
        } else if c == '"' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            if i >= chars.len() {
                return Err(FormulaError::at(at, "a quoted name is not closed"));
            }
            out.push((at, Tok::Str(chars[start..i].iter().collect())));
            i += 1;
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = ["<=", ">=", "==", "!="]
                .into_iter()
                .find(|s| *s == two)
                .or_else(|| {
                    ["+", "-", "*", "/", "(", ")", ",", "<", ">"]
                        .into_iter()
                        .find(|s| s.starts_with(c))
                });
            let Some(sym) = sym else {
                let hint = match c {
                    '=' => " (compare with `==`)",
                    '&' => " (write `and`)",
                    '|' => " (write `or`)",
                    '!' => " (write `not`)",
                    '\'' => " (quote names with \")",
                    _ => "",
                };
                return Err(FormulaError::at(at, format!("unexpected `{c}`{hint}")));
            };
            i += sym.len();
            out.push((at, Tok::Sym(sym)));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
    end: usize,
}

/// Parses a formula's text.
pub(crate) fn parse(src: &str) -> Result<Expr, FormulaError> {
    let count = src.chars().count();
    if count > MAX_CHARS {
        return Err(FormulaError::at(
            1,
            format!("the formula has {count} characters, more than the {MAX_CHARS} allowed"),
        ));
    }
    let toks = tokens(src)?;
    if toks.is_empty() {
        return Err(FormulaError::at(1, "the formula is empty"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        end: count + 1,
    };
    let e = p.or()?;
    if let Some((at, t)) = p.toks.get(p.pos) {
        return Err(FormulaError::at(
            *at,
            format!("unexpected {} after a complete expression", show(t)),
        ));
    }
    Ok(e)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("number `{n}`"),
        Tok::Name(n) => format!("`{n}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Sym(s) => format!("`{s}`"),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Name(x)) if x == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn deeper(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FormulaError::at(
                self.at(),
                format!("the formula nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn binary(
        &mut self,
        next: fn(&mut Self) -> Result<Expr, FormulaError>,
        ops: &[(&str, Op)],
        words: bool,
    ) -> Result<Expr, FormulaError> {
        let mut left = next(self)?;
        loop {
            let at = self.at();
            let found = ops.iter().find(|(s, _)| match self.peek() {
                Some(Tok::Sym(x)) => !words && x == s,
                Some(Tok::Name(x)) => words && x == s,
                _ => false,
            });
            let Some((_, op)) = found else {
                return Ok(left);
            };
            self.pos += 1;
            let right = next(self)?;
            left = Expr::Binary {
                op: *op,
                at,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
    }

    fn or(&mut self) -> Result<Expr, FormulaError> {
        self.binary(Self::and, &[("or", Op::Or)], true)
    }

    fn and(&mut self) -> Result<Expr, FormulaError> {
        self.binary(Self::not, &[("and", Op::And)], true)
    }

    fn not(&mut self) -> Result<Expr, FormulaError> {
        let at = self.at();
        if self.eat_word("not") {
            self.deeper()?;
            let e = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(at, Box::new(e)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, FormulaError> {
        let left = self.sum()?;
        let at = self.at();
        let op = match self.peek() {
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Sym("==")) => Op::Eq,
            Some(Tok::Sym("!=")) => Op::Ne,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.sum()?;
        if matches!(
            self.peek(),
            Some(Tok::Sym("<" | "<=" | ">" | ">=" | "==" | "!="))
        ) {
            return Err(FormulaError::at(
                self.at(),
                "comparisons do not chain: join them with `and`",
            ));
        }
        Ok(Expr::Binary {
            op,
            at,
            left: Box::new(left),
            right: Box::new(right),
        })
    }

    fn sum(&mut self) -> Result<Expr, FormulaError> {
        self.binary(Self::product, &[("+", Op::Add), ("-", Op::Sub)], false)
    }

    fn product(&mut self) -> Result<Expr, FormulaError> {
        self.binary(Self::unary, &[("*", Op::Mul), ("/", Op::Div)], false)
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        let at = self.at();
        if self.eat_sym("-") {
            self.deeper()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(at, Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        let at = self.at();
        let Some((_, tok)) = self.toks.get(self.pos).cloned() else {
            return Err(FormulaError::at(at, "the formula ends too early"));
        };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Err(FormulaError::at(
                at,
                format!(
                    "\"{s}\" alone is not a value: write `field(\"{s}\")` or `indicator(\"{s}\")`"
                ),
            )),
            Tok::Sym("(") => {
                self.deeper()?;
                let e = self.or()?;
                self.depth -= 1;
                if !self.eat_sym(")") {
                    return Err(FormulaError::at(self.at(), "a `(` is not closed"));
                }
                Ok(e)
            }
            Tok::Sym(s) => Err(FormulaError::at(at, format!("unexpected `{s}`"))),
            Tok::Name(name) if name == "true" => Ok(Expr::Bool(true)),
            Tok::Name(name) if name == "false" => Ok(Expr::Bool(false)),
            Tok::Name(name) => {
                if !self.eat_sym("(") {
                    return Ok(Expr::Name(at, name));
                }
                self.deeper()?;
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        if let Some(Tok::Str(s)) = self.peek().cloned() {
                            self.pos += 1;
                            args.push(Expr::Quoted(s));
                        } else {
                            args.push(self.or()?);
                        }
                        if self.eat_sym(")") {
                            break;
                        }
                        if !self.eat_sym(",") {
                            return Err(FormulaError::at(
                                self.at(),
                                format!("expected `,` or `)` in the call of `{name}`"),
                            ));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Expr::Call(at, name, args))
            }
        }
    }
}

/// A number written in a formula, exactly, or why not: a literal with more digits than a
/// decimal holds (28 after the point, about 28 in all) is refused, never rounded (a 29th
/// decimal place would have made `0.00…01` zero).
fn exact_literal(text: &str) -> Result<Decimal, String> {
    let n = text
        .parse::<Decimal>()
        .map_err(|_| format!("`{text}` is not a number"))?;
    // The digits written, without leading zeros of the whole part or trailing zeros of the
    // fraction, must be the digits held.
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let written = match (whole.is_empty(), fraction.is_empty()) {
        (true, true) => "0".to_owned(),
        (true, false) => format!("0.{fraction}"),
        (false, true) => whole.to_owned(),
        (false, false) => format!("{whole}.{fraction}"),
    };
    if n.normalize().to_string() != written {
        return Err(format!(
            "`{text}` has more digits than a decimal holds exactly (28 after the point, about 28 \
             in all): write fewer"
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod literal_tests {
    use super::exact_literal;

    #[test]
    fn literals_are_exact_or_refused() {
        for (text, held) in [
            ("0.5", "0.5"),
            ("007.250", "7.25"),
            ("0", "0"),
            ("10.", "10"),
        ] {
            assert_eq!(
                exact_literal(text).map(|d| d.normalize().to_string()),
                Ok(held.to_owned())
            );
        }
        assert!(exact_literal("0.0000000000000000000000000001").is_ok());
        for text in [
            "0.00000000000000000000000000001",
            "1.00000000000000000000000000001",
            "79228162514264337593543950336",
            "123456789012345678901234567890.5",
        ] {
            assert!(exact_literal(text).is_err(), "{text}");
        }
    }
}

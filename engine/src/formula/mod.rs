//! Formulas: small expressions over an application's fields, other indicators' values and the
//! award's constants, written in the rubric (`60 + (fields.distance - k_point) * 1.8`).
//! Parsed and checked when the rubric is validated (unknown names, types), evaluated exactly
//! in decimals. The language has numbers, `true`/`false`, `+ - * /`, comparisons, `and`, `or`,
//! `not`, and the functions `min`, `max`, `abs`, `round`, `floor`, `ceil` and `if`.
//! Evaluation is bounded by the formula's size (at most 2,000 characters, 64 levels deep): no
//! loops, no sandbox needed.

mod eval;
mod parse;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

pub(crate) use eval::{Failure, Values};

/// A value a formula's name reads.
pub(crate) mod eval_value {
    pub(crate) use super::eval::Value;
}

/// A problem in a formula's text, at a column (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormulaError {
    pub column: usize,
    pub message: String,
}

impl FormulaError {
    fn at(column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FormulaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at column {})", self.message, self.column)
    }
}

/// What a formula or a part of it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Number => "a number",
            Type::Boolean => "true or false",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// The parsed text, names unresolved.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Num(Decimal),
    Bool(bool),
    Name(usize, String),
    Quoted(String),
    Neg(usize, Box<Expr>),
    Not(usize, Box<Expr>),
    Binary {
        op: Op,
        at: usize,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Call(usize, String, Vec<Expr>),
}

/// What a name in a formula reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ref {
    /// An application's field, by dotted path.
    Field(String),
    /// The value of another indicator of the category, by its id: read where it stands in
    /// whatever the category judges (a round may judge only some of its criteria).
    Indicator(String),
}

/// A checked formula's tree: names resolved, constants folded in, types known.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(Decimal),
    Bool(bool),
    Read(usize, Ref, Type),
    Neg(usize, Box<Node>),
    Not(Box<Node>),
    Binary(usize, Op, Box<Node>, Box<Node>),
    Fn(usize, Func, Vec<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Min,
    Max,
    Abs,
    Round,
    Floor,
    Ceil,
    If,
}

/// A checked formula, ready to evaluate. Serialises as its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    node: Node,
    ty: Type,
    reads: Vec<Ref>,
}

impl Serialize for Formula {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Formula {
    /// The formula as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What it gives.
    pub fn ty(&self) -> Type {
        self.ty
    }

    /// The dotted paths of the fields it reads.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.reads.iter().filter_map(|r| match r {
            Ref::Field(p) => Some(p.as_str()),
            Ref::Indicator(_) => None,
        })
    }

    /// The ids of the other indicators it reads.
    pub(crate) fn indicators(&self) -> impl Iterator<Item = &str> {
        self.reads.iter().filter_map(|r| match r {
            Ref::Indicator(id) => Some(id.as_str()),
            Ref::Field(_) => None,
        })
    }

    /// Evaluates it: a number, or why there is none (a missing field, a division by zero).
    pub(crate) fn number(&self, values: &dyn Values) -> Result<Decimal, Failure> {
        match eval::eval(&self.node, values)? {
            eval::Value::Num(n) => Ok(n),
            eval::Value::Bool(_) => Err("the formula gives true or false, not a number".into()),
        }
    }

    /// Evaluates a condition.
    pub(crate) fn truth(&self, values: &dyn Values) -> Result<bool, Failure> {
        match eval::eval(&self.node, values)? {
            eval::Value::Bool(b) => Ok(b),
            eval::Value::Num(_) => Err("the formula gives a number, not true or false".into()),
        }
    }
}

/// What the names of a formula may read, for checking it.
pub(crate) trait Scope {
    /// A field's type: `Ok(Some(t))` for a number or boolean field, `Ok(None)` for an unknown
    /// one, `Err(why)` for a field a formula cannot read (text, say).
    fn field(&self, path: &str) -> Result<Option<Type>, String>;
    /// An indicator's position, or why the formula cannot read it.
    fn indicator(&self, id: &str) -> Result<usize, String>;
    /// A named constant's value.
    fn constant(&self, name: &str) -> Option<Decimal>;
    /// Names to suggest for an unknown one: fields (as `fields.x`), indicators, constants.
    fn names(&self) -> Vec<String>;
}

/// Parses and checks a formula that must give `want`.
pub(crate) fn check(text: &str, scope: &dyn Scope, want: Type) -> Result<Formula, FormulaError> {
    let expr = parse::parse(text)?;
    let mut reads = Vec::new();
    let (node, ty) = lower(&expr, scope, &mut reads)?;
    if ty != want {
        return Err(FormulaError::at(
            1,
            format!(
                "the formula gives {}, but {} is needed here",
                ty.name(),
                want.name()
            ),
        ));
    }
    Ok(Formula {
        text: text.to_owned(),
        node,
        ty,
        reads,
    })
}

fn unknown(at: usize, name: &str, scope: &dyn Scope) -> FormulaError {
    // Listing the names costs as much as there are: not once the suggestions' budget is spent.
    if !crate::suggest::budget_left() {
        return FormulaError::at(at, format!("unknown name `{name}`"));
    }
    let names = scope.names();
    let close = crate::suggest::closest(name, names.iter().map(String::as_str));
    let hint = match close {
        Some(c) => format!("; did you mean `{c}`?"),
        None if names.is_empty() => String::new(),
        None => {
            let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
            format!("; known names: {}", shown.join(", "))
        }
    };
    FormulaError::at(at, format!("unknown name `{name}`{hint}"))
}

fn read_field(
    at: usize,
    path: &str,
    scope: &dyn Scope,
    reads: &mut Vec<Ref>,
) -> Result<(Node, Type), FormulaError> {
    match scope.field(path) {
        Ok(Some(t)) => {
            reads.push(Ref::Field(path.to_owned()));
            Ok((Node::Read(at, Ref::Field(path.to_owned()), t), t))
        }
        Ok(None) => Err(unknown(at, &format!("fields.{path}"), scope)),
        Err(why) => Err(FormulaError::at(at, why)),
    }
}

fn read_indicator(
    at: usize,
    id: &str,
    scope: &dyn Scope,
    reads: &mut Vec<Ref>,
) -> Result<(Node, Type), FormulaError> {
    // The scope checks it exists and comes before this indicator.
    scope
        .indicator(id)
        .map_err(|why| FormulaError::at(at, why))?;
    reads.push(Ref::Indicator(id.to_owned()));
    Ok((
        Node::Read(at, Ref::Indicator(id.to_owned()), Type::Number),
        Type::Number,
    ))
}

fn lower(e: &Expr, scope: &dyn Scope, reads: &mut Vec<Ref>) -> Result<(Node, Type), FormulaError> {
    let expect = |at: usize, got: Type, want: Type, what: &str| {
        if got == want {
            Ok(())
        } else {
            Err(FormulaError::at(
                at,
                format!("{what} needs {}, not {}", want.name(), got.name()),
            ))
        }
    };
    Ok(match e {
        Expr::Num(n) => (Node::Num(*n), Type::Number),
        Expr::Bool(b) => (Node::Bool(*b), Type::Boolean),
        Expr::Quoted(s) => {
            return Err(FormulaError::at(
                1,
                format!("\"{s}\" is only a name inside `field(...)` or `indicator(...)`"),
            ));
        }
        Expr::Name(at, name) => {
            if let Some(path) = name.strip_prefix("fields.") {
                read_field(*at, path, scope, reads)?
            } else if let Some(id) = name.strip_prefix("indicators.") {
                read_indicator(*at, id, scope, reads)?
            } else if let Some(v) = scope.constant(name) {
                (Node::Num(v), Type::Number)
            } else {
                return Err(unknown(*at, name, scope));
            }
        }
        Expr::Neg(at, x) => {
            let (n, t) = lower(x, scope, reads)?;
            expect(*at, t, Type::Number, "`-`")?;
            (Node::Neg(*at, Box::new(n)), Type::Number)
        }
        Expr::Not(at, x) => {
            let (n, t) = lower(x, scope, reads)?;
            expect(*at, t, Type::Boolean, "`not`")?;
            (Node::Not(Box::new(n)), Type::Boolean)
        }
        Expr::Binary {
            op,
            at,
            left,
            right,
        } => {
            let (l, lt) = lower(left, scope, reads)?;
            let (r, rt) = lower(right, scope, reads)?;
            let ty = match op {
                Op::Add | Op::Sub | Op::Mul | Op::Div => {
                    expect(*at, lt, Type::Number, "arithmetic")?;
                    expect(*at, rt, Type::Number, "arithmetic")?;
                    Type::Number
                }
                Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    expect(*at, lt, Type::Number, "a comparison")?;
                    expect(*at, rt, Type::Number, "a comparison")?;
                    Type::Boolean
                }
                Op::Eq | Op::Ne => {
                    expect(*at, rt, lt, "`==` and `!=`")?;
                    Type::Boolean
                }
                Op::And | Op::Or => {
                    expect(*at, lt, Type::Boolean, "`and` and `or`")?;
                    expect(*at, rt, Type::Boolean, "`and` and `or`")?;
                    Type::Boolean
                }
            };
            (Node::Binary(*at, *op, Box::new(l), Box::new(r)), ty)
        }
        Expr::Call(at, name, args) => call(*at, name, args, scope, reads)?,
    })
}

fn call(
    at: usize,
    name: &str,
    args: &[Expr],
    scope: &dyn Scope,
    reads: &mut Vec<Ref>,
) -> Result<(Node, Type), FormulaError> {
    if let "field" | "indicator" = name {
        let [Expr::Quoted(s)] = args else {
            return Err(FormulaError::at(
                at,
                format!("`{name}` takes one quoted name: `{name}(\"...\")`"),
            ));
        };
        return if name == "field" {
            read_field(at, s, scope, reads)
        } else {
            read_indicator(at, s, scope, reads)
        };
    }
    let (func, arity, usage): (Func, std::ops::RangeInclusive<usize>, &str) = match name {
        "min" => (Func::Min, 1..=64, "min(a, b, ...)"),
        "max" => (Func::Max, 1..=64, "max(a, b, ...)"),
        "abs" => (Func::Abs, 1..=1, "abs(x)"),
        "round" => (Func::Round, 1..=2, "round(x) or round(x, places)"),
        "floor" => (Func::Floor, 1..=1, "floor(x)"),
        "ceil" => (Func::Ceil, 1..=1, "ceil(x)"),
        "if" => (Func::If, 3..=3, "if(condition, then, otherwise)"),
        _ => {
            return Err(FormulaError::at(
                at,
                format!(
                    "unknown function `{name}`; the functions are min, max, abs, round, floor, ceil, if, field and indicator"
                ),
            ));
        }
    };
    if !arity.contains(&args.len()) {
        return Err(FormulaError::at(
            at,
            format!(
                "`{name}` is called as {usage}, not with {} arguments",
                args.len()
            ),
        ));
    }
    let mut nodes = Vec::with_capacity(args.len());
    let mut types = Vec::with_capacity(args.len());
    for a in args {
        let (n, t) = lower(a, scope, reads)?;
        nodes.push(n);
        types.push(t);
    }
    let wrong = |i: usize, want: Type| {
        FormulaError::at(
            at,
            format!(
                "argument {} of `{name}` needs {}, not {}",
                i + 1,
                want.name(),
                types[i].name()
            ),
        )
    };
    let ty = if func == Func::If {
        if types[0] != Type::Boolean {
            return Err(wrong(0, Type::Boolean));
        }
        if types[1] != types[2] {
            return Err(FormulaError::at(
                at,
                format!(
                    "both branches of `if` must give the same kind of value ({} and {})",
                    types[1].name(),
                    types[2].name()
                ),
            ));
        }
        types[1]
    } else {
        if let Some(i) = types.iter().position(|t| *t != Type::Number) {
            return Err(wrong(i, Type::Number));
        }
        if func == Func::Round
            && let Some(places) = nodes.get(1)
            && !matches!(places, Node::Num(p) if p.is_integer() && *p >= Decimal::ZERO && *p <= Decimal::from(12))
        {
            return Err(FormulaError::at(
                at,
                "the places of `round` are a whole number from 0 to 12, written in the formula",
            ));
        }
        Type::Number
    };
    Ok((Node::Fn(at, func, nodes), ty))
}

#[cfg(test)]
mod tests;

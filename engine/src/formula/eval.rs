//! Evaluates a checked formula exactly, in decimals: no binary floats, overflow and division by
//! zero are errors, never panics.

use rust_decimal::{Decimal, RoundingStrategy};

use super::{Func, Node, Op, Ref};

/// Why a formula has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A field or indicator it reads has no value (a jump not made): like a missing mark.
    Missing(String),
    /// It cannot be computed (division by zero, overflow).
    Failed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Missing(s) | Failure::Failed(s) => f.write_str(s),
        }
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Failed(s)
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Self {
        Failure::Failed(s.to_owned())
    }
}

/// A value while evaluating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value {
    Num(Decimal),
    Bool(bool),
}

/// Where a formula's names find their values.
pub(crate) trait Values {
    /// The value a name reads, or `None` when the application or the marks have none.
    fn read(&self, r: &Ref) -> Option<Value>;
    /// How to name what a reference reads, in an error.
    fn describe(&self, r: &Ref) -> String;
}

fn num(v: Value) -> Result<Decimal, Failure> {
    match v {
        Value::Num(n) => Ok(n),
        Value::Bool(_) => Err("a number was expected".into()),
    }
}

fn boolean(v: Value) -> Result<bool, Failure> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Num(_) => Err("true or false was expected".into()),
    }
}

const OVERFLOW: &str = "arithmetic overflow in the formula";
const UNDERFLOW: &str = "a result too small to hold as a decimal (below 1e-28) in the formula";

/// `a × b`, refusing a product of two non-zero numbers that a decimal rounds to zero.
fn product(a: Decimal, b: Decimal) -> Result<Decimal, Failure> {
    let p = a.checked_mul(b).ok_or(OVERFLOW)?;
    if p.is_zero() && !a.is_zero() && !b.is_zero() {
        return Err(UNDERFLOW.into());
    }
    Ok(p)
}

/// `a ÷ b` (b not zero), refusing a non-zero quotient that a decimal rounds to zero.
fn quotient(a: Decimal, b: Decimal) -> Result<Decimal, Failure> {
    let q = a.checked_div(b).ok_or(OVERFLOW)?;
    if q.is_zero() && !a.is_zero() {
        return Err(UNDERFLOW.into());
    }
    Ok(q.normalize())
}

pub(crate) fn eval(node: &Node, values: &dyn Values) -> Result<Value, Failure> {
    Ok(match node {
        Node::Num(n) => Value::Num(*n),
        Node::Bool(b) => Value::Bool(*b),
        Node::Read(_, r, _) => values
            .read(r)
            .ok_or_else(|| Failure::Missing(format!("{} has no value", values.describe(r))))?,
        Node::Neg(_, x) => Value::Num(-num(eval(x, values)?)?),
        Node::Not(x) => Value::Bool(!boolean(eval(x, values)?)?),
        Node::Binary(at, op, l, r) => {
            // `and` and `or` read their right side only when it decides.
            if let Op::And | Op::Or = op {
                let left = boolean(eval(l, values)?)?;
                if (*op == Op::And) != left {
                    return Ok(Value::Bool(left));
                }
                return Ok(Value::Bool(boolean(eval(r, values)?)?));
            }
            let a = eval(l, values)?;
            let b = eval(r, values)?;
            match op {
                Op::Eq => Value::Bool(a == b),
                Op::Ne => Value::Bool(a != b),
                _ => {
                    let (a, b) = (num(a)?, num(b)?);
                    match op {
                        Op::Add => Value::Num(a.checked_add(b).ok_or(OVERFLOW)?),
                        Op::Sub => Value::Num(a.checked_sub(b).ok_or(OVERFLOW)?),
                        Op::Mul => Value::Num(product(a, b)?),
                        Op::Div if b.is_zero() => {
                            return Err(format!("division by zero (at column {at})").into());
                        }
                        Op::Div => Value::Num(quotient(a, b)?),
                        Op::Lt => Value::Bool(a < b),
                        Op::Le => Value::Bool(a <= b),
                        Op::Gt => Value::Bool(a > b),
                        Op::Ge => Value::Bool(a >= b),
                        Op::Eq | Op::Ne | Op::And | Op::Or => unreachable_op(),
                    }
                }
            }
        }
        Node::Fn(_, Func::If, args) => {
            let [c, t, e] = args.as_slice() else {
                return Err("`if` takes three arguments".into());
            };
            if boolean(eval(c, values)?)? {
                eval(t, values)?
            } else {
                eval(e, values)?
            }
        }
        Node::Fn(_, f, args) => {
            let xs = args
                .iter()
                .map(|a| eval(a, values).and_then(num))
                .collect::<Result<Vec<_>, _>>()?;
            let first = *xs.first().ok_or("a function needs an argument")?;
            Value::Num(match f {
                Func::Min => xs.iter().copied().fold(first, Decimal::min),
                Func::Max => xs.iter().copied().fold(first, Decimal::max),
                Func::Abs => first.abs(),
                Func::Floor => first.floor(),
                Func::Ceil => first.ceil(),
                Func::Round => {
                    let places = xs.get(1).copied().unwrap_or_default();
                    let places =
                        rust_decimal::prelude::ToPrimitive::to_u32(&places.trunc()).unwrap_or(0);
                    first.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
                }
                Func::If => first,
            })
        }
    })
}

/// Logical operators are handled before arithmetic; this is never reached.
fn unreachable_op() -> Value {
    Value::Bool(false)
}

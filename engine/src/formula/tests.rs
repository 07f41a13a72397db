use std::collections::HashMap;

use rust_decimal::Decimal;

use super::eval::{Value, Values};
use super::{Failure, Ref, Scope, Type, check};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

struct Env {
    fields: HashMap<&'static str, Type>,
    indicators: Vec<&'static str>,
}

impl Scope for Env {
    fn field(&self, path: &str) -> Result<Option<Type>, String> {
        if path == "name" {
            return Err("field `name` is text; a formula reads number and boolean fields".into());
        }
        Ok(self.fields.get(path).copied())
    }
    fn indicator(&self, id: &str) -> Result<usize, String> {
        self.indicators
            .iter()
            .position(|i| *i == id)
            .ok_or_else(|| format!("unknown indicator `{id}`"))
    }
    fn constant(&self, name: &str) -> Option<Decimal> {
        (name == "k_point").then(|| d("120"))
    }
    fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.fields.keys().map(|f| format!("fields.{f}")).collect();
        n.sort();
        n.push("k_point".into());
        n
    }
}

fn env() -> Env {
    Env {
        fields: HashMap::from([
            ("distance", Type::Number),
            ("wind", Type::Number),
            ("gate-points", Type::Number),
            ("member", Type::Boolean),
        ]),
        indicators: vec!["style"],
    }
}

struct Data(HashMap<String, Value>, Vec<Option<Decimal>>);

impl Values for Data {
    fn read(&self, r: &Ref) -> Option<Value> {
        match r {
            Ref::Field(p) => self.0.get(p).copied(),
            // The test's one indicator, `style`, is the first.
            Ref::Indicator(id) => ["style"]
                .iter()
                .position(|i| i == id)
                .and_then(|k| self.1.get(k).copied().flatten())
                .map(Value::Num),
        }
    }
    fn describe(&self, r: &Ref) -> String {
        format!("{r:?}")
    }
}

fn data() -> Data {
    Data(
        HashMap::from([
            ("distance".into(), Value::Num(d("131.5"))),
            ("wind".into(), Value::Num(d("-4.3"))),
            ("gate-points".into(), Value::Num(d("7.2"))),
            ("member".into(), Value::Bool(true)),
        ]),
        vec![Some(d("54.0"))],
    )
}

fn number(text: &str) -> Decimal {
    check(text, &env(), Type::Number)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .number(&data())
        .unwrap()
}

#[test]
fn arithmetic_is_exact_and_follows_precedence() {
    // Ski jumping's distance points, by hand: 60 + (131.5 − 120) × 1.8 = 60 + 20.7 = 80.7.
    assert_eq!(number("60 + (fields.distance - k_point) * 1.8"), d("80.7"));
    // Division keeps 28 significant digits; left to right, `3 * 1 / 3` is exact.
    assert_eq!(number("1 / 3"), d("0.3333333333333333333333333333"));
    assert_eq!(number("3 * 1 / 3"), d("1"));
    assert_eq!(number("2 + 3 * 4 - -1"), d("15"));
    assert_eq!(number("10 / 4"), d("2.5"));
    assert_eq!(number("0.1 + 0.2"), d("0.3"));
    assert_eq!(
        number("field(\"gate-points\") + indicators.style"),
        d("61.2")
    );
    assert_eq!(number("max(0, fields.wind * 2)"), d("0"));
    assert_eq!(number("min(3, 1.5, 2)"), d("1.5"));
    assert_eq!(
        number("round(2.345, 2) + abs(-1) + floor(1.9) + ceil(1.1)"),
        d("6.35")
    );
    assert_eq!(number("round(2.5)"), d("3"));
    assert_eq!(
        number("if(fields.member and fields.wind < 0, 1, 2)"),
        d("1")
    );
}

#[test]
fn conditions_give_true_or_false() {
    let f = check(
        "fields.distance >= k_point or not fields.member",
        &env(),
        Type::Boolean,
    )
    .unwrap();
    assert!(f.truth(&data()).unwrap());
    let f = check("fields.distance == 131.50", &env(), Type::Boolean).unwrap();
    assert!(f.truth(&data()).unwrap());
}

fn error(text: &str, want: Type) -> String {
    check(text, &env(), want).unwrap_err().to_string()
}

#[test]
fn mistakes_are_named_with_their_column() {
    assert_eq!(
        error("fields.distanse * 2", Type::Number),
        "unknown name `fields.distanse`; did you mean `fields.distance`? (at column 1)"
    );
    assert_eq!(
        error("1 + fields.name", Type::Number),
        "field `name` is text; a formula reads number and boolean fields (at column 5)"
    );
    assert_eq!(
        error("fields.distance > 1", Type::Number),
        "the formula gives true or false, but a number is needed here (at column 1)"
    );
    assert_eq!(
        error("fields.member + 1", Type::Number),
        "arithmetic needs a number, not true or false (at column 15)"
    );
    assert_eq!(
        error("(1 + 2", Type::Number),
        "a `(` is not closed (at column 7)"
    );
    assert_eq!(
        error("1 = 2", Type::Boolean),
        "unexpected `=` (compare with `==`) (at column 3)"
    );
    assert_eq!(
        error("1 < 2 < 3", Type::Boolean),
        "comparisons do not chain: join them with `and` (at column 7)"
    );
    assert_eq!(
        error("sqrt(2)", Type::Number),
        "unknown function `sqrt`; the functions are min, max, abs, round, floor, ceil, if, field and indicator (at column 1)"
    );
    assert_eq!(
        error("if(1, 2, 3)", Type::Number),
        "argument 1 of `if` needs true or false, not a number (at column 1)"
    );
    assert_eq!(
        error("round(1, fields.wind)", Type::Number),
        "the places of `round` are a whole number from 0 to 12, written in the formula (at column 1)"
    );
    assert_eq!(
        error("", Type::Number),
        "the formula is empty (at column 1)"
    );
    assert_eq!(
        error("1 2", Type::Number),
        "unexpected number `2` after a complete expression (at column 3)"
    );
}

#[test]
fn hostile_formulas_are_refused_not_run() {
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert!(error(&deep, Type::Number).contains("deeper than 64"));
    let long = "1+".repeat(1_500) + "1";
    assert!(error(&long, Type::Number).contains("more than the 2000 allowed"));
    let negs = "-".repeat(200) + "1";
    assert!(error(&negs, Type::Number).contains("deeper than 64"));
}

#[test]
fn evaluation_errors_say_why() {
    let f = check(
        "fields.distance / (fields.wind + 4.3)",
        &env(),
        Type::Number,
    )
    .unwrap();
    assert_eq!(
        f.number(&data()).unwrap_err(),
        Failure::Failed("division by zero (at column 17)".into())
    );
    let f = check("79228162514264337593543950335 * 2", &env(), Type::Number).unwrap();
    assert_eq!(
        f.number(&data()).unwrap_err(),
        Failure::Failed("arithmetic overflow in the formula".into())
    );
    let empty = Data(HashMap::new(), vec![None]);
    let f = check("fields.distance + 1", &env(), Type::Number).unwrap();
    assert_eq!(
        f.number(&empty).unwrap_err(),
        Failure::Missing("Field(\"distance\") has no value".into())
    );
    // `and` reads its right side only when it decides.
    let f = check("false and fields.distance > 1", &env(), Type::Boolean).unwrap();
    assert!(!f.truth(&empty).unwrap());
}

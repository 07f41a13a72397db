//! Checked decimal arithmetic and rounding: overflow is an error for one application, never a panic.

use rust_decimal::prelude::*;

use crate::definition::wire::{RoundingMode, RoundingSpec};

/// Arithmetic that left the range of decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

pub(crate) type Num = Result<Decimal, Overflow>;

pub(crate) fn add(a: Decimal, b: Decimal) -> Num {
    a.checked_add(b).ok_or(Overflow)
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Num {
    a.checked_sub(b).ok_or(Overflow)
}

pub(crate) fn mul(a: Decimal, b: Decimal) -> Num {
    a.checked_mul(b).ok_or(Overflow)
}

pub(crate) fn div(a: Decimal, b: Decimal) -> Num {
    a.checked_div(b).ok_or(Overflow)
}

pub(crate) fn sum(values: impl IntoIterator<Item = Decimal>) -> Num {
    values.into_iter().try_fold(Decimal::ZERO, add)
}

pub(crate) fn sqrt(a: Decimal) -> Num {
    a.sqrt().ok_or(Overflow)
}

/// Rounds to the spec's places and mode, and fixes the scale so that `7.5` at 2 places is `7.50`.
pub(crate) fn round(value: Decimal, spec: Option<RoundingSpec>) -> Decimal {
    let Some(spec) = spec else {
        return value;
    };
    let strategy = match spec.mode {
        RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        RoundingMode::Down => RoundingStrategy::ToZero,
    };
    let mut rounded = value.round_dp_with_strategy(spec.places, strategy);
    rounded.rescale(spec.places);
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn spec(places: u32, mode: RoundingMode) -> Option<RoundingSpec> {
        Some(RoundingSpec { places, mode })
    }

    #[test]
    fn rounding_modes_and_scale() {
        // 7.50 × 1.67 = 12.525: half-up gives 12.53 (binary floats give 12.52).
        assert_eq!(
            round(d("7.50") * d("1.67"), spec(2, RoundingMode::HalfUp)).to_string(),
            "12.53"
        );
        assert_eq!(
            round(d("12.525"), spec(2, RoundingMode::HalfEven)).to_string(),
            "12.52"
        );
        assert_eq!(
            round(d("12.535"), spec(2, RoundingMode::HalfEven)).to_string(),
            "12.54"
        );
        assert_eq!(
            round(d("-2.345"), spec(2, RoundingMode::HalfUp)).to_string(),
            "-2.35"
        );
        assert_eq!(
            round(d("12.529"), spec(2, RoundingMode::Down)).to_string(),
            "12.52"
        );
        assert_eq!(
            round(d("7.5"), spec(2, RoundingMode::HalfUp)).to_string(),
            "7.50"
        );
        assert_eq!(round(d("7.5"), None).to_string(), "7.5");
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(mul(Decimal::MAX, d("2")), Err(Overflow));
        assert_eq!(div(d("1"), Decimal::ZERO), Err(Overflow));
    }
}

//! Exact arithmetic on decimals, and the numbers a decimal of 28 digits
//! cannot hold.
//!
//! Every operation is done on decimals when its result is exact there —
//! the common case, and the fast one. When it is not (a third, a product
//! past 28 significant digits), it is done on fractions instead, and the
//! result stays a fraction until a rounding the contract writes
//! (`round(x, 0.01, half_up)`) brings it back to a decimal. A fraction that
//! must become a decimal without one — an amount owed — is rounded half to
//! even at the finest place that fits, and whoever reads it is told.

use serde::{Deserialize, Serialize};
use std::fmt;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rust_decimal::Decimal;

use super::Currency;

/// What an exact number measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Number,
    /// The number written before the `%`.
    Percent,
    Money(Currency),
    /// Money of no currency yet: a sum of amounts over no events, which
    /// takes the currency of whatever it is added to or compared with.
    AnyMoney,
}

/// A number no decimal of 28 digits holds, kept as a fraction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Exact {
    pub value: BigRational,
    pub kind: Kind,
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, d) = (self.value.numer(), self.value.denom());
        match self.kind {
            Kind::Number => write!(f, "{n}/{d}"),
            Kind::Percent => write!(f, "{n}/{d}%"),
            Kind::Money(c) => write!(f, "{n}/{d} {c}"),
            Kind::AnyMoney => write!(f, "{n}/{d} (of no currency yet)"),
        }
    }
}

/// `a + b`, if a decimal holds it exactly.
#[inline]
pub fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let r = a.checked_add(b)?;
    // A sum that kept its places is exact; one that lost some may only have
    // lost zeros, which the fractions tell.
    if r.scale() >= a.scale().max(b.scale()) {
        Some(r)
    } else {
        decimal(&(ratio(a) + ratio(b)))
    }
}

/// `a - b`, if a decimal holds it exactly.
#[inline]
pub fn sub(a: Decimal, b: Decimal) -> Option<Decimal> {
    let r = a.checked_sub(b)?;
    if r.scale() >= a.scale().max(b.scale()) {
        Some(r)
    } else {
        decimal(&(ratio(a) - ratio(b)))
    }
}

/// `a × b`, if a decimal holds it exactly.
#[inline]
pub fn mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    match a.checked_mul(b) {
        Some(r) if r.scale() == a.scale() + b.scale() => Some(r),
        // Past the places a decimal has, or past its digits: the product
        // may still be one, with fewer places.
        _ => decimal(&(ratio(a) * ratio(b))),
    }
}

/// `a ÷ b`, if a decimal holds it exactly; `b` is not zero.
#[inline]
pub fn div(a: Decimal, b: Decimal) -> Option<Decimal> {
    if b.is_zero() {
        return None;
    }
    if let Some(r) = a.checked_div(b) {
        if mul_fast(r, b) == Some(a) {
            return Some(r);
        }
    }
    decimal(&(ratio(a) / ratio(b)))
}

/// `a × b` on the fast path only.
#[inline]
fn mul_fast(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_mul(b).filter(|r| r.scale() == a.scale() + b.scale())
}

/// `p` percent of `x`, if a decimal holds it exactly: the product moved
/// two places, a division by 100 without the division.
#[inline]
pub fn percent_of(p: Decimal, x: Decimal) -> Option<Decimal> {
    if let Some(mut product) = mul_fast(p, x) {
        let scale = product.scale() + 2;
        if scale <= Decimal::MAX_SCALE && product.set_scale(scale).is_ok() {
            return Some(product);
        }
    }
    decimal(&(ratio(p) * ratio(x) / BigRational::from_integer(BigInt::from(100u8))))
}

/// A decimal as a fraction.
pub fn ratio(d: Decimal) -> BigRational {
    let n = BigInt::from(d.mantissa());
    let den = BigInt::from(10u8).pow(d.scale());
    BigRational::new(n, den)
}

/// The decimal that is exactly `r`, if there is one.
pub fn decimal(r: &BigRational) -> Option<Decimal> {
    let den = r.denom();
    // A fraction in lowest terms ends as a decimal only if its denominator
    // has no prime factor but 2 and 5.
    let (twos, rest) = strip(den.clone(), 2);
    let (fives, rest) = strip(rest, 5);
    if !rest.is_one() {
        return None;
    }
    let scale = twos.max(fives);
    if scale > Decimal::MAX_SCALE {
        return None;
    }
    let ten_to = BigInt::from(10u8).pow(scale);
    let mantissa = r.numer() * (ten_to / den);
    let m = mantissa.to_i128()?;
    Decimal::try_from_i128_with_scale(m, scale).ok()
}

fn strip(mut n: BigInt, p: u32) -> (u32, BigInt) {
    let p = BigInt::from(p);
    let mut count = 0;
    while !n.is_zero() && n.is_multiple_of(&p) {
        n /= &p;
        count += 1;
    }
    (count, n)
}

/// How to round to a multiple of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfUp,
    HalfEven,
    HalfDown,
    Up,
    Down,
}

/// `r` rounded to a whole multiple of `step`, exactly.
pub fn round_to(r: &BigRational, step: &BigRational, how: Rounding) -> Option<BigRational> {
    if step.is_zero() {
        return None;
    }
    let q = r / step;
    let whole = round_whole(&q, how);
    Some(BigRational::from_integer(whole) * step)
}

/// `q` rounded to a whole number. Halves are away from zero (`HalfUp`), to
/// even, or towards zero (`HalfDown`); `Up` is away from zero, `Down`
/// towards it.
fn round_whole(q: &BigRational, how: Rounding) -> BigInt {
    let trunc = q.trunc().to_integer();
    let frac = (q - BigRational::from_integer(trunc.clone())).abs();
    if frac.is_zero() {
        return trunc;
    }
    let away = if q.is_negative() {
        &trunc - BigInt::one()
    } else {
        &trunc + BigInt::one()
    };
    let half = BigRational::new(BigInt::one(), BigInt::from(2u8));
    match how {
        Rounding::Up => away,
        Rounding::Down => trunc,
        _ if frac > half => away,
        _ if frac < half => trunc,
        Rounding::HalfUp => away,
        Rounding::HalfDown => trunc,
        Rounding::HalfEven => {
            if trunc.is_even() {
                trunc
            } else {
                away
            }
        }
    }
}

/// The decimal nearest to `r`, half to even, at the finest place that
/// fits in 28 digits; `None` if even its whole part does not fit.
pub fn nearest(r: &BigRational) -> Option<Decimal> {
    if let Some(d) = decimal(r) {
        return Some(d);
    }
    for scale in (0..=Decimal::MAX_SCALE).rev() {
        let step = BigRational::new(BigInt::one(), BigInt::from(10u8).pow(scale));
        let Some(rounded) = round_to(r, &step, Rounding::HalfEven) else {
            continue;
        };
        if let Some(d) = decimal(&rounded) {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn what_a_decimal_cannot_hold_is_not_returned_as_one() {
        assert_eq!(percent_of(d("25"), d("999999999999999999999999999.9")), None);
        assert_eq!(percent_of(d("25"), d("0.0000000000000000000000000001")), None);
        assert_eq!(div(d("1"), d("3")), None);
        assert_eq!(add(d("79228162514264337593543950335"), d("0.1")), None);
        assert_eq!(div(d("1"), d("8")), Some(d("0.125")));
        assert_eq!(percent_of(d("25"), d("1000.00")), Some(d("250.0000")));
        // Places lost to fit are only zeros: still exact.
        assert_eq!(
            add(d("250.00"), d("19807040628566084398385987584")),
            Some(d("19807040628566084398385987834"))
        );
    }

    #[test]
    fn a_fraction_comes_back_as_the_decimal_it_is() {
        let third = ratio(d("1")) / ratio(d("3"));
        assert_eq!(decimal(&third), None);
        assert_eq!(decimal(&(third.clone() * ratio(d("3")))), Some(d("1")));
        assert_eq!(nearest(&third), Some(d("0.3333333333333333333333333333")));
        let cents = round_to(&third, &ratio(d("0.01")), Rounding::HalfUp).unwrap();
        assert_eq!(decimal(&cents), Some(d("0.33")));
        let exact = ratio(d("25")) / ratio(d("100")) * ratio(d("999999999999999999999999999.9"));
        assert_eq!(nearest(&exact), Some(d("249999999999999999999999999.98")));
    }

    #[test]
    fn halves_round_as_asked() {
        let half = |s: &str| ratio(d(s));
        let one = ratio(Decimal::ONE);
        let r = |x: &str, how| decimal(&round_to(&half(x), &one, how).unwrap()).unwrap();
        assert_eq!(r("2.5", Rounding::HalfUp), d("3"));
        assert_eq!(r("2.5", Rounding::HalfEven), d("2"));
        assert_eq!(r("2.5", Rounding::HalfDown), d("2"));
        assert_eq!(r("-2.5", Rounding::HalfUp), d("-3"));
        assert_eq!(r("-2.4", Rounding::Up), d("-3"));
        assert_eq!(r("-2.6", Rounding::Down), d("-2"));
    }

    fn decimal_strategy() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (any::<i64>(), 0u32..28).prop_map(|(m, s)| Decimal::new(m, s)),
            // Mantissas of the whole 96 bits, where sums and products round.
            (any::<i128>(), 0u32..28)
                .prop_map(|(m, s)| { Decimal::try_from_i128_with_scale(m % (1i128 << 96), s).unwrap() }),
        ]
    }

    proptest! {
        /// Each operation gives the exact result when a decimal holds it,
        /// and nothing when none does.
        #[test]
        fn operations_are_exact_or_nothing(a in decimal_strategy(), b in decimal_strategy()) {
            // Exactly the decimal the fraction is, whenever there is one.
            let (ra, rb) = (ratio(a), ratio(b));
            let same = |x: Option<Decimal>, r: BigRational| x.map(ratio) == decimal(&r).map(ratio);
            prop_assert!(same(add(a, b), &ra + &rb));
            prop_assert!(same(sub(a, b), &ra - &rb));
            prop_assert!(same(mul(a, b), &ra * &rb));
            if !b.is_zero() {
                prop_assert!(same(div(a, b), &ra / &rb));
            }
            prop_assert!(same(percent_of(a, b), &ra * &rb / BigRational::from_integer(BigInt::from(100u8))));
        }

        /// A fraction that is a decimal comes back as that decimal.
        #[test]
        fn decimal_and_ratio_round_trip(a in decimal_strategy()) {
            prop_assert_eq!(decimal(&ratio(a)), Some(a));
        }
    }
}

//! Tolerant serde readers for JSON written by various clients (numbers as floats or
//! strings, `null` for strings/lists). Writers stay strict.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum AnyNumber {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    Bool(bool),
}

fn to_i64(n: Option<AnyNumber>) -> i64 {
    match n {
        None => 0,
        Some(AnyNumber::Int(v)) => v,
        Some(AnyNumber::UInt(v)) => i64::try_from(v).unwrap_or(i64::MAX),
        // `as` saturates for out-of-range floats and maps NaN to 0.
        Some(AnyNumber::Float(v)) => v as i64,
        Some(AnyNumber::Text(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64))
            .unwrap_or(0),
        Some(AnyNumber::Bool(b)) => i64::from(b),
    }
}

/// i64 from a number, float, numeric string or `null` (0).
pub fn i64_any<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(to_i64(Option::<AnyNumber>::deserialize(d)?))
}

/// i32 like [`i64_any`] (saturating).
pub fn i32_any<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let v = to_i64(Option::<AnyNumber>::deserialize(d)?);
    Ok(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// f64 from a number, numeric string or `null` (0.0).
pub fn f64_any<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(match Option::<AnyNumber>::deserialize(d)? {
        None => 0.0,
        Some(AnyNumber::Int(v)) => v as f64,
        Some(AnyNumber::UInt(v)) => v as f64,
        Some(AnyNumber::Float(v)) => v,
        Some(AnyNumber::Text(s)) => s.trim().parse().unwrap_or(0.0),
        Some(AnyNumber::Bool(b)) => f64::from(u8::from(b)),
    })
}

/// bool from a bool, number or `null` (false).
pub fn bool_any<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<AnyNumber>::deserialize(d)? {
        None => false,
        Some(AnyNumber::Bool(b)) => b,
        Some(AnyNumber::Text(s)) => s == "true" || s == "1",
        other => to_i64(other) != 0,
    })
}

/// String from a string or `null` ("").
pub fn string_any<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// Vec from an array or `null` (empty).
pub fn vec_any<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

//! OpenIM v3.8 wire types.

mod open_enum;

pub mod constants;
pub mod envelope;
pub mod error;
pub mod pb;

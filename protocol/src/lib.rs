//! OpenIM v3.8 wire types.

mod lenient;
mod open_enum;

pub mod api;
pub mod constants;
pub mod content;
pub mod conversation_id;
pub mod envelope;
pub mod error;
pub mod pb;
pub mod tips;

//! OpenIM v3.8 wire types.

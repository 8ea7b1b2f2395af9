//! Procedural macros for openim-bot.

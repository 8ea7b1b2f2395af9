//! Command routing and typed argument parsing of the runtime: `split_command` (prefix,
//! leading @-mentions, `/cmd@bot`), then `Args` + `FromArg` for every supported parameter type,
//! and `parse_duration`.
//! Invariants: never panics; a parsed word is a substring of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openim_bot::runtime::__private::split_command;
use openim_bot::runtime::{Args, FromArg, Mention, Rest, parse_duration};
use std::time::Duration;

fn take<T: FromArg>(args: &mut Args<'_>) -> bool {
    T::from_args(args).is_ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mentions: Vec<&str> = text
        .split('@')
        .skip(1)
        .filter_map(|s| s.split_whitespace().next())
        .take(4)
        .collect();
    for prefix in ["/", "!", "", "@@"] {
        if let Some((name, rest)) = split_command(text, prefix, !mentions.is_empty(), "bot") {
            assert!(!name.is_empty());
            assert!(text.contains(name) && text.contains(rest));
        }
    }
    // Every parser over the same words, in a data-dependent order.
    let mut args = Args::with_mentions(text, mentions.clone());
    for (i, b) in data.iter().enumerate().take(16) {
        let before = args.remaining().len();
        let _ = match b % 10 {
            0 => take::<String>(&mut args),
            1 => take::<i64>(&mut args),
            2 => take::<u8>(&mut args),
            3 => take::<f64>(&mut args),
            4 => take::<bool>(&mut args),
            5 => take::<Duration>(&mut args),
            6 => take::<Mention>(&mut args),
            7 => take::<Option<i32>>(&mut args),
            8 => take::<Option<Mention>>(&mut args),
            _ => take::<Rest>(&mut args),
        };
        assert!(args.remaining().len() <= before, "step {i} grew the input");
    }
    let _ = args.finish_check();
    let mut words = Args::with_mentions(text, mentions);
    while let Ok(Some(w)) = words.next_word() {
        assert!(text.contains(w));
    }
    let _ = parse_duration(text);
});

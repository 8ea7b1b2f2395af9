//! Compile-time errors of `#[openim_bot::handler]` (trybuild): every misuse is a compile
//! error with a clear message, and the full syntax compiles.

#[test]
fn handler_macro_ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}

use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[regex(r"^(\d+) plus (\d+)$")]
    async fn add(&self, ctx: &Context, a: i64, b: i64, c: i64) -> HandlerResult {
        let _ = (ctx, a, b, c);
        Ok(())
    }
}

fn main() {}

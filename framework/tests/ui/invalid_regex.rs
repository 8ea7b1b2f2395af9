use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[regex(r"^(\d+")]
    async fn number(&self, ctx: &Context, n: i64) -> HandlerResult {
        let _ = (ctx, n);
        Ok(())
    }
}

fn main() {}

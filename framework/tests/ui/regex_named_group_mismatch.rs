use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[regex(r"^pay (?P<amount>\d+)$")]
    async fn pay(&self, ctx: &Context, count: i64) -> HandlerResult {
        let _ = (ctx, count);
        Ok(())
    }
}

fn main() {}

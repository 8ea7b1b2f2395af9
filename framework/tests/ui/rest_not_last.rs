use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[command]
    async fn note(&self, ctx: &Context, text: Rest, n: i64) -> HandlerResult {
        let _ = (ctx, text, n);
        Ok(())
    }
}

fn main() {}

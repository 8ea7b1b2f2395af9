use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[on(MessageExploded)]
    async fn boom(&self, ctx: &Context, event: &Message) -> HandlerResult {
        let _ = (ctx, event);
        Ok(())
    }
}

fn main() {}

use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[contains("hello")]
    async fn hello(&self, ctx: &Context, name: String) -> HandlerResult {
        let _ = (ctx, name);
        Ok(())
    }
}

fn main() {}

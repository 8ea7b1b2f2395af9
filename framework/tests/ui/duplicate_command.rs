use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[command]
    async fn start(&self, ctx: &Context) -> HandlerResult {
        let _ = ctx;
        Ok(())
    }

    #[command(name = "begin", aliases("start"))]
    async fn begin(&self, ctx: &Context) -> HandlerResult {
        let _ = ctx;
        Ok(())
    }
}

fn main() {}

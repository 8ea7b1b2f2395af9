use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler(prefx = "!")]
impl Bot {
    #[command]
    async fn ping(&self, ctx: &Context) -> HandlerResult {
        let _ = ctx;
        Ok(())
    }
}

fn main() {}

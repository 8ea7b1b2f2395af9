use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[command(role = "king")]
    async fn decree(&self, ctx: &Context) -> HandlerResult {
        let _ = ctx;
        Ok(())
    }
}

fn main() {}

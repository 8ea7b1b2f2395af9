use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[command(group_only, private_only)]
    async fn where_am_i(&self, ctx: &Context) -> HandlerResult {
        let _ = ctx;
        Ok(())
    }
}

fn main() {}

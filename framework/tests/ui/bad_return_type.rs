use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[command]
    async fn count(&self, ctx: &Context) -> usize {
        let _ = ctx;
        42
    }
}

fn main() {}

use openim_bot::prelude::*;

struct Bot;

struct Point {
    x: i32,
}

#[openim_bot::handler]
impl Bot {
    #[command]
    async fn go(&self, ctx: &Context, to: Point) -> HandlerResult {
        let _ = (ctx, to.x);
        Ok(())
    }
}

fn main() {}

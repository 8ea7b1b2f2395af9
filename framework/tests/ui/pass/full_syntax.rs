use openim_bot::prelude::*;

struct Everything;

#[openim_bot::handler(prefix = "!", name = "everything")]
impl Everything {
    /// A command with every argument kind.
    #[command("all", aliases("a"), description = "all kinds", hidden, group_only, role = "owner",
              users("u1"), groups("g1"), cooldown = "1h30m", allow_self)]
    async fn all(
        &self,
        msg: &Message,
        ctx: &Context,
        s: String,
        n: u16,
        f: f64,
        yes: bool,
        d: Duration,
        who: Mention,
        maybe: Option<i32>,
        rest: Rest,
    ) -> Result<(), std::io::Error> {
        let _ = (msg, ctx, s, n, f, yes, d, who, maybe, rest);
        Ok(())
    }

    #[regex(r"(?P<word>\w+)=(\d+)", ignore_case, private_only)]
    async fn assign(&self, value: u64, word: String) {
        let _ = (value, word);
    }

    #[starts_with("a", "b")]
    async fn starts(&self) {}

    #[equals("x")]
    async fn equals(&self, ctx: &Context) {
        let _ = ctx;
    }

    #[mentions_me]
    async fn mention(&self, msg: &Message) {
        let _ = msg;
    }

    #[on(FriendApplicationAdded)]
    async fn friend(&self, ctx: &Context, app: &FriendApplication) -> HandlerResult {
        let _ = (ctx, app);
        Ok(())
    }

    #[on_error]
    async fn errors(&self, _ctx: &Context, error: FrameworkError) -> Result<(), FrameworkError> {
        Err(error)
    }

    fn plain_helper(&self) -> u8 {
        1
    }
}

fn main() {
    fn assert_handler<H: EventHandler>(_: &H) {}
    let e = Everything;
    assert_handler(&e);
    assert_eq!(e.plain_helper(), 1);
    assert_eq!(e.commands()[0].usage, "!all <s> <n> <f> <yes> <d> <who> [maybe] [rest...]");
}

use openim_bot::prelude::*;

struct Bot;

#[openim_bot::handler]
impl Bot {
    #[on(GroupMemberEntered)]
    async fn welcome(&self, event: &GroupMemberEvent) -> HandlerResult {
        let _ = event;
        Ok(())
    }
}

fn main() {}

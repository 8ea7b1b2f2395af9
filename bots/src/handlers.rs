//! Adapters from the bots' wire-free logic to the openim-bot runtime.
//!
//! Each bot is an [`EventHandler`]: it turns framework events into views
//! ([`MessageView`], [`FriendRequestView`], [`JoinRequestView`]), asks its policy what to do and
//! executes the returned [`Action`]s through the [`Context`]. A failing action is logged and
//! reported to the [`Observer`], never a panic; the other actions still run.
//!
//! Who answers what, when several bots run in one session:
//! - moderator: messages of its groups (it runs first; a message it revoked or a command it
//!   handled is not answered by the other bots);
//! - support: private chats and its agents group;
//! - autoreply: the remaining group messages, and private chats when support is not running.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use openim_bot::content::Content;
use openim_bot::event::{
    FriendApplication, GroupApplication, GroupMemberEvent, JoinedGroupAdded, JoinedGroupDeleted,
    LeaveReason, SyncServerFinish,
};
use openim_bot::message::{AT_ALL_TAG, Message};
use openim_bot::model::Friend;
use openim_bot::runtime::{Context, EventHandler, HandlerResult, RouteInfo};
use openim_bot::{Client, Target as WireTarget};

use crate::action::{
    Action, Attachment, FriendRequestView, JoinRequestView, MessageView, Role, Target,
};
use crate::autoreply::Rules;
use crate::config::EnabledBots;
use crate::friend_gate::{Decision, FriendGate};
use crate::moderator::Moderator;
use crate::replay;
use crate::state::{SledState, StateError, StateExt, StateStore};
use crate::support::Desk;

/// Called for every action a bot executes: the bot's name, the action and its outcome.
/// The demo prints these; tests collect them.
pub type Observer = Arc<dyn Fn(&'static str, &Action, &Result<(), String>) + Send + Sync>;

/// Where a bot keeps its state: a given store, or a tree named after the bot in the session's
/// sled store, opened on first use.
#[derive(Clone)]
pub struct BotState {
    tree: &'static str,
    cell: Arc<OnceLock<Arc<dyn StateStore>>>,
}

impl std::fmt::Debug for BotState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotState")
            .field("tree", &self.tree)
            .finish()
    }
}

impl BotState {
    /// State in the session store's tree `tree` (opened lazily from the [`Context`]).
    pub fn in_session_store(tree: &'static str) -> Self {
        Self {
            tree,
            cell: Arc::new(OnceLock::new()),
        }
    }

    /// State in the given store (tests, or a separate database).
    pub fn with(store: Arc<dyn StateStore>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(store);
        Self {
            tree: "(given)",
            cell: Arc::new(cell),
        }
    }

    /// The store, opening it from the client's store on first use.
    pub fn get(&self, client: &Client) -> Result<Arc<dyn StateStore>, openim_bot::StoreError> {
        if let Some(s) = self.cell.get() {
            return Ok(s.clone());
        }
        let tree = client.store().tree(self.tree)?;
        let store: Arc<dyn StateStore> = Arc::new(SledState::new(tree));
        Ok(self.cell.get_or_init(|| store).clone())
    }
}

/// Messages already dealt with by a bot that runs earlier (revoked, or a command), so the
/// later bots leave them alone. Bounded: only recent keys are kept.
#[derive(Debug, Clone, Default)]
pub struct Claims(Arc<Mutex<VecDeque<(String, i64)>>>);

impl Claims {
    const CAPACITY: usize = 4096;

    fn claim(&self, conversation_id: &str, seq: i64) {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= Self::CAPACITY {
            q.pop_front();
        }
        q.push_back((conversation_id.to_owned(), seq));
    }

    fn is_claimed(&self, conversation_id: &str, seq: i64) -> bool {
        let q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().any(|(c, s)| c == conversation_id && *s == seq)
    }
}

fn to_wire(t: &Target) -> WireTarget {
    match t {
        Target::User(u) => WireTarget::user(u.clone()),
        Target::Group(g) => WireTarget::group(g.clone()),
    }
}

/// Executes actions in order; failures are logged and observed, and do not stop the rest.
/// Returns the actions that failed, with their errors.
pub async fn execute(
    ctx: &Context,
    bot: &'static str,
    actions: &[Action],
    observer: Option<&Observer>,
) -> Vec<(Action, String)> {
    let mut failed = Vec::new();
    for action in actions {
        let result = execute_one(ctx, action).await;
        match &result {
            Ok(()) => tracing::info!(bot, action = %action, "action done"),
            Err(e) => tracing::warn!(bot, action = %action, error = %e, "action failed"),
        }
        if let Some(o) = observer {
            o(bot, action, &result);
        }
        if let Err(e) = result {
            failed.push((action.clone(), e));
        }
    }
    failed
}

async fn execute_one(ctx: &Context, action: &Action) -> Result<(), String> {
    let client = ctx.client();
    let r: Result<(), String> = match action {
        Action::Send { to, text } => ctx
            .send(to_wire(to), text.clone())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Action::Forward { to, attachment } => ctx
            .send_content(to_wire(to), attachment.to_content())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Action::Mention {
            group_id,
            text,
            user_ids,
        } => ctx
            .send_content(
                WireTarget::group(group_id.clone()),
                Content::at_text(text.clone(), user_ids.clone()),
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Action::Revoke {
            conversation_id,
            seq,
        } => client
            .revoke(conversation_id, *seq)
            .await
            .map_err(|e| e.to_string()),
        Action::Mute {
            group_id,
            user_id,
            duration,
        } => client
            .mute(group_id, user_id, *duration)
            .await
            .map_err(|e| e.to_string()),
        Action::Unmute { group_id, user_id } => client
            .unmute(group_id, user_id)
            .await
            .map_err(|e| e.to_string()),
        Action::Kick {
            group_id,
            user_id,
            reason,
        } => client
            .kick(group_id, &[user_id.as_str()], reason)
            .await
            .map_err(|e| e.to_string()),
        Action::AnswerFriend {
            user_id,
            accept: true,
            message,
        } => client
            .accept_friend_application(user_id, message)
            .await
            .map_err(|e| e.to_string()),
        Action::AnswerFriend {
            user_id,
            accept: false,
            message,
        } => client
            .refuse_friend_application(user_id, message)
            .await
            .map_err(|e| e.to_string()),
        Action::AnswerJoin {
            group_id,
            user_id,
            accept: true,
            message,
        } => client
            .accept_group_application(group_id, user_id, message)
            .await
            .map_err(|e| e.to_string()),
        Action::AnswerJoin {
            group_id,
            user_id,
            accept: false,
            message,
        } => client
            .refuse_group_application(group_id, user_id, message)
            .await
            .map_err(|e| e.to_string()),
    };
    r
}

/// Builds the wire-free view of a received message: its text, or its [`Attachment`] (`None`
/// for the bot's own messages and for content that is neither: custom data, typing,
/// notifications, unknown types).
pub async fn message_view(ctx: &Context, msg: &Message) -> Option<MessageView> {
    if msg.is_self || msg.send_id == ctx.me() {
        return None;
    }
    let (text, attachment) = match msg.text() {
        Some(text) => (text.to_owned(), None),
        None => (String::new(), Some(Attachment::of(&msg.content)?)),
    };
    let group_id = msg.group_id.clone().filter(|g| !g.is_empty());
    let sender_role = if group_id.is_some() {
        match ctx.sender_role().await {
            Ok(level) => level.map(Role::from_role_level).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sender's role; treating as a member");
                Role::Member
            }
        }
    } else {
        Role::Member
    };
    Some(MessageView {
        conversation_id: msg.conversation_id.to_string(),
        seq: msg.seq,
        group_id: group_id.map(String::from),
        sender_id: msg.send_id.to_string(),
        sender_nickname: msg.sender_nickname.to_string(),
        sender_role,
        text,
        attachment,
        mentions_bot: msg.at_user_ids.iter().any(|u| u.as_str() == ctx.me()),
        replies_to_bot: matches!(
            &msg.content,
            Content::Quote(q) if q.quote_message.as_ref().is_some_and(|m| m.send_id == ctx.me())
        ),
        at_user_ids: msg
            .at_user_ids
            .iter()
            .filter(|u| u.as_str() != ctx.me() && u.as_str() != AT_ALL_TAG)
            .cloned()
            .collect(),
        at_names: match &msg.content {
            Content::AtText(e) => e
                .at_users_info
                .iter()
                .filter(|i| !i.group_nickname.is_empty())
                .map(|i| format!("@{}", i.group_nickname))
                .collect(),
            _ => Vec::new(),
        },
        mentions_all: msg.at_user_ids.iter().any(|u| u.as_str() == AT_ALL_TAG),
        send_time_ms: if msg.send_time > 0 {
            msg.send_time
        } else {
            msg.create_time
        },
    })
}

fn boxed(e: impl std::error::Error + Send + Sync + 'static) -> openim_bot::runtime::HandlerError {
    Box::new(e)
}

// Each message bot remembers, per conversation, the last message it handled, flushed before
// it acts (see `crate::replay`): a message redelivered after a hard crash is recognised and
// nothing is sent twice. (The price: a crash in the middle of an action's own network call
// loses that action instead of repeating it.)

fn handled_key(conversation_id: &str) -> String {
    format!("v1/handled/{conversation_id}")
}

/// Whether this bot already handled `view` (a redelivery after a crash).
fn already_handled(state: &dyn StateStore, view: &MessageView) -> Result<bool, StateError> {
    replay::is_redelivery(state, &handled_key(&view.conversation_id), view)
}

/// Records `view` as handled by this bot.
fn record_handled(state: &dyn StateStore, view: &MessageView) -> Result<(), StateError> {
    replay::record(state, &handled_key(&view.conversation_id), view)
}

// ---------------------------------------------------------------------------------------------

/// friend_gate as an event handler.
pub struct FriendGateHandler {
    gate: FriendGate,
    state: BotState,
    observer: Option<Observer>,
    /// Applications already answered in this process (online event and backlog may overlap).
    answered: Mutex<HashSet<(String, i64)>>,
}

static FRIEND_GATE_ROUTES: [RouteInfo; 3] = [
    RouteInfo {
        event: "FriendApplicationAdded",
        matcher: "on(FriendApplicationAdded)",
        filters: "to me, pending",
        method: "answer (block-list → allow-list → mode)",
    },
    RouteInfo {
        event: "SyncServerFinish",
        matcher: "on(SyncServerFinish)",
        filters: "",
        method: "answer applications received while offline",
    },
    RouteInfo {
        event: "FriendAdded",
        matcher: "on(FriendAdded)",
        filters: "once per friend",
        method: "greet",
    },
];

impl FriendGateHandler {
    /// Wraps a compiled policy.
    pub fn new(gate: FriendGate, state: BotState, observer: Option<Observer>) -> Self {
        Self {
            gate,
            state,
            observer,
            answered: Mutex::new(HashSet::new()),
        }
    }

    async fn answer(&self, ctx: &Context, app: &FriendApplication) {
        if app.to_user_id != ctx.me() || app.handle_result != 0 {
            return;
        }
        let key = (app.from_user_id.clone(), app.create_time);
        if !self
            .answered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key)
        {
            return;
        }
        let view = FriendRequestView {
            from_user_id: app.from_user_id.clone(),
            from_nickname: app.from_nickname.clone(),
            request_message: app.req_msg.clone(),
        };
        let (decision, actions) = self.gate.on_application(&view);
        if let Decision::Leave(why) = decision {
            tracing::info!(user = %view.from_user_id, why, "friend application left pending");
        }
        let failed = execute(ctx, "friend_gate", &actions, self.observer.as_ref()).await;
        if matches!(decision, Decision::Accept(_)) && failed.is_empty() {
            // The friend-added event may never come for this friendship: an application
            // answered during the bot's first sync makes the new friend part of the synced
            // snapshot. So the greeting goes out here (once per friend, like the event path).
            if let Err(e) = self
                .greet(ctx, &view.from_user_id, &view.from_nickname)
                .await
            {
                tracing::warn!(user = %view.from_user_id, error = %e, "cannot greet the new friend");
            }
        }
    }

    /// Greets a new friend unless already greeted (the record is on disk before the greeting
    /// leaves: a crash never greets twice).
    async fn greet(
        &self,
        ctx: &Context,
        user_id: &str,
        nickname: &str,
    ) -> Result<(), openim_bot::runtime::HandlerError> {
        let state = self.state.get(ctx.client()).map_err(boxed)?;
        let actions = self
            .gate
            .on_new_friend(user_id, nickname, &*state)
            .map_err(boxed)?;
        if !actions.is_empty() {
            state.flush().map_err(boxed)?;
        }
        let failed = execute(ctx, "friend_gate", &actions, self.observer.as_ref()).await;
        if !failed.is_empty() {
            self.gate
                .greeting_failed(user_id, &*state)
                .and_then(|()| state.flush())
                .map_err(boxed)?;
        }
        Ok(())
    }
}

#[openim_bot::runtime::async_trait]
impl EventHandler for FriendGateHandler {
    fn name(&self) -> &'static str {
        "friend_gate"
    }
    fn routes(&self) -> &'static [RouteInfo] {
        &FRIEND_GATE_ROUTES
    }
    async fn on_friend_application_added(
        &self,
        ctx: &Context,
        app: &FriendApplication,
    ) -> HandlerResult {
        self.answer(ctx, app).await;
        Ok(())
    }
    async fn on_sync_server_finish(&self, ctx: &Context, _: &SyncServerFinish) -> HandlerResult {
        let pending = ctx
            .api()
            .get_friend_apply_list(ctx.me())
            .await
            .map_err(boxed)?;
        let pending: Vec<_> = pending
            .into_iter()
            .filter(|a| a.handle_result == 0)
            .collect();
        if !pending.is_empty() {
            tracing::info!(
                count = pending.len(),
                "friend applications received while offline"
            );
        }
        for app in &pending {
            self.answer(ctx, app).await;
        }
        Ok(())
    }
    async fn on_friend_added(&self, ctx: &Context, friend: &Friend) -> HandlerResult {
        if friend.user_id == ctx.me() {
            return Ok(());
        }
        self.greet(ctx, &friend.user_id, &friend.nickname).await
    }
}

// ---------------------------------------------------------------------------------------------

/// moderator as an event handler.
pub struct ModeratorHandler {
    moderator: Moderator,
    state: BotState,
    observer: Option<Observer>,
    claims: Claims,
    /// The bot's role per moderated group as last seen: its loss of rights is said once, not at
    /// every later change of its member info (a nickname).
    bot_roles: std::sync::Mutex<HashMap<String, Role>>,
}

static MODERATOR_ROUTES: [RouteInfo; 9] = [
    RouteInfo {
        event: "NewMessage",
        matcher: "command /warn /mute /unmute /kick /strikes",
        filters: "moderated groups, role=owner|admin",
        method: "admin command",
    },
    RouteInfo {
        event: "NewMessage",
        matcher: "command /rules",
        filters: "moderated groups",
        method: "show the rules",
    },
    RouteInfo {
        event: "NewMessage",
        matcher: "banned words · links · flood · repeats",
        filters: "moderated groups, ordinary members",
        method: "revoke → warn → mute → kick",
    },
    RouteInfo {
        event: "GroupApplicationAdded",
        matcher: "on(GroupApplicationAdded)",
        filters: "moderated groups, pending",
        method: "approve if the answer matches, else refuse",
    },
    RouteInfo {
        event: "SyncServerFinish",
        matcher: "on(SyncServerFinish)",
        filters: "",
        method: "answer join applications received while offline",
    },
    RouteInfo {
        event: "GroupMemberEntered",
        matcher: "on(GroupMemberEntered)",
        filters: "moderated groups",
        method: "welcome",
    },
    RouteInfo {
        event: "GroupMemberInvited",
        matcher: "on(GroupMemberInvited)",
        filters: "moderated groups",
        method: "welcome",
    },
    RouteInfo {
        event: "JoinedGroupDeleted",
        matcher: "on(JoinedGroupDeleted)",
        filters: "moderated groups",
        method: "warn: the bot left the group",
    },
    RouteInfo {
        event: "GroupMemberInfoChanged",
        matcher: "on(GroupMemberInfoChanged)",
        filters: "moderated groups, the bot",
        method: "warn: the bot lost its admin role",
    },
];

impl ModeratorHandler {
    /// Wraps a compiled policy; `claims` is shared with the bots that run after it.
    pub fn new(
        moderator: Moderator,
        state: BotState,
        observer: Option<Observer>,
        claims: Claims,
    ) -> Self {
        Self {
            moderator,
            state,
            observer,
            claims,
            bot_roles: Default::default(),
        }
    }

    async fn join(&self, ctx: &Context, app: &GroupApplication) {
        if app.handle_result != 0 || app.user_id == ctx.me() {
            return;
        }
        let view = JoinRequestView {
            group_id: app.group_id.clone(),
            user_id: app.user_id.clone(),
            nickname: app.nickname.clone(),
            request_message: app.req_msg.clone(),
        };
        let actions = self.moderator.on_join_request(&view);
        let failed = execute(ctx, "moderator", &actions, self.observer.as_ref()).await;
        let accepted = actions
            .iter()
            .any(|a| matches!(a, Action::AnswerJoin { accept: true, .. }));
        if accepted && failed.is_empty() {
            // The member-entered event may never come for this join: an application answered
            // during the bot's first sync makes the new member part of the synced snapshot.
            // So the welcome goes out here; the event path recognises the same join.
            self.welcome_once(ctx, &view.group_id, &view.user_id, &view.nickname, now_ms())
                .await;
        }
    }

    async fn welcome(&self, ctx: &Context, ev: &GroupMemberEvent) {
        if ev.member.user_id == ctx.me() {
            return;
        }
        let joined = if ev.member.join_time > 0 {
            ev.member.join_time
        } else {
            now_ms()
        };
        self.welcome_once(
            ctx,
            &ev.member.group_id,
            &ev.member.user_id,
            &ev.member.nickname,
            joined,
        )
        .await;
    }

    /// Takes a member's join: one removed for strikes starts again with none
    /// ([`Moderator::on_member_rejoined`]), and is welcomed once per join: the join time (ms) is remembered per group and member,
    /// and a welcome for a join within [`SAME_JOIN_MS`] of the remembered one is skipped.
    async fn welcome_once(
        &self,
        ctx: &Context,
        group_id: &str,
        user_id: &str,
        nickname: &str,
        joined_ms: i64,
    ) {
        let state = self.state.get(ctx.client());
        if let Ok(state) = &state
            && let Err(e) = self
                .moderator
                .on_member_rejoined(&**state, group_id, user_id)
        {
            tracing::warn!(error = %e, "cannot reset a returning member's strikes");
        }
        let actions = self.moderator.on_member_joined(group_id, user_id, nickname);
        if actions.is_empty() {
            return;
        }
        let state = match state {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "moderator state unavailable; welcoming anyway");
                execute(ctx, "moderator", &actions, self.observer.as_ref()).await;
                return;
            }
        };
        let key = format!("v1/moderator/welcomed/{group_id}/{user_id}");
        match state.get_json::<i64>(&key) {
            Ok(Some(prev)) if (joined_ms - prev).abs() <= SAME_JOIN_MS => {
                tracing::debug!(group = group_id, user = user_id, "already welcomed");
                return;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the welcome record"),
        }
        if let Err(e) = state
            .put_json(&key, &joined_ms)
            .and_then(|()| state.flush())
        {
            tracing::warn!(error = %e, "cannot record the welcome");
        }
        execute(ctx, "moderator", &actions, self.observer.as_ref()).await;
    }
}

/// How far apart (ms) two sightings of a member's join may be and still be the same join: the
/// bot's clock when it accepted the application vs. the server's join time (clock skew).
const SAME_JOIN_MS: i64 = 60_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[openim_bot::runtime::async_trait]
impl EventHandler for ModeratorHandler {
    fn name(&self) -> &'static str {
        "moderator"
    }
    fn routes(&self) -> &'static [RouteInfo] {
        &MODERATOR_ROUTES
    }
    async fn on_new_message(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        let Some(group) = msg.group_id.as_deref() else {
            return Ok(());
        };
        if !self.moderator.moderates(group) {
            return Ok(());
        }
        let Some(view) = message_view(ctx, msg).await else {
            return Ok(());
        };
        let state = self.state.get(ctx.client()).map_err(boxed)?;
        let claimed_key = format!("v1/moderator/claimed/{}", view.conversation_id);
        if already_handled(&*state, &view).map_err(boxed)? {
            // Redelivered after a crash: acted on already. The later bots must still leave
            // alone a message this bot dealt with.
            if state.get_json::<i64>(&claimed_key).map_err(boxed)? == Some(view.seq) {
                self.claims.claim(&view.conversation_id, view.seq);
            }
            tracing::debug!(conversation = %view.conversation_id, seq = view.seq, "already moderated");
            return Ok(());
        }
        // The role of a command's target, so that the moderator refuses what the server would
        // (unknown if it cannot be read: the server still decides).
        let target = match self.moderator.command_target(&view) {
            Some(user) => match ctx.client().group_member_role(group, &user).await {
                Ok(level) => level.map(|l| (user, Role::from_role_level(l))),
                Err(e) => {
                    tracing::warn!(error = %e, user = %user, "cannot read a command target's role");
                    None
                }
            },
            None => None,
        };
        let role_of = |user: &str| {
            target
                .as_ref()
                .filter(|(u, _)| u == user)
                .map(|(_, role)| *role)
        };
        // The server checks the bot's role (the bot makes the call), known when a target is.
        let bot_role = match &target {
            Some(_) => match ctx.client().group_member_role(group, ctx.me()).await {
                Ok(level) => level.map(Role::from_role_level),
                Err(_) => None,
            },
            None => None,
        };
        let actions = self
            .moderator
            .judge_knowing(&view, &*state, &role_of, bot_role)
            .map_err(boxed)?;
        record_handled(&*state, &view).map_err(boxed)?;
        if !actions.is_empty() {
            self.claims.claim(&view.conversation_id, view.seq);
            state.put_json(&claimed_key, &view.seq).map_err(boxed)?;
            state.flush().map_err(boxed)?;
        }
        // A notice right after a mute, unmute or removal announces it: it is not sent when the
        // server refused the action (the command's answer below says so instead).
        let mut failed = Vec::new();
        let mut refused = false;
        for action in &actions {
            let announces = matches!(action, Action::Send { .. } | Action::Mention { .. });
            if refused && announces {
                refused = false;
                continue;
            }
            let f = execute(
                ctx,
                "moderator",
                std::slice::from_ref(action),
                self.observer.as_ref(),
            )
            .await;
            if f.is_empty() {
                refused = false;
                continue;
            }
            refused = matches!(
                action,
                Action::Mute { .. } | Action::Unmute { .. } | Action::Kick { .. }
            );
            failed.extend(f);
            match action {
                // A violation whose message stays (the bot lacks the rights, or it is gone):
                // its strike (if the violation gave one: more than the revoke to do) is taken
                // back, and nothing is announced or escalated.
                Action::Revoke { .. } => {
                    if actions.len() > 1
                        && let Err(e) = self
                            .moderator
                            .take_back_strike(&*state, group, &view.sender_id)
                            .and_then(|()| state.flush())
                    {
                        tracing::warn!(error = %e, "moderator: cannot take back a strike");
                    }
                    break;
                }
                // A failed removal is tried again at the member's next violation.
                Action::Kick { user_id, .. } => {
                    if let Err(e) = self
                        .moderator
                        .removal_failed(&*state, group, user_id)
                        .and_then(|()| state.flush())
                    {
                        tracing::warn!(error = %e, "moderator: cannot record a failed removal");
                    }
                }
                _ => {}
            }
        }
        // An admin's command that the server refused (e.g. muting the owner) gets an answer.
        if view.text.starts_with('/') {
            let notices: Vec<Action> = failed
                .iter()
                .filter_map(|(a, e)| {
                    let what = match a {
                        Action::Mute { user_id, .. } => format!("mute {user_id}"),
                        Action::Unmute { user_id, .. } => format!("unmute {user_id}"),
                        Action::Kick { user_id, .. } => format!("remove {user_id}"),
                        _ => return None,
                    };
                    Some(Action::Send {
                        to: Target::Group(group.to_owned()),
                        text: format!("Could not {what}: {e}"),
                    })
                })
                .collect();
            execute(ctx, "moderator", &notices, self.observer.as_ref()).await;
        }
        Ok(())
    }
    async fn on_group_application_added(
        &self,
        ctx: &Context,
        app: &GroupApplication,
    ) -> HandlerResult {
        if self.moderator.moderates(&app.group_id) {
            self.join(ctx, app).await;
        }
        Ok(())
    }
    async fn on_sync_server_finish(&self, ctx: &Context, _: &SyncServerFinish) -> HandlerResult {
        // Moderation needs the owner or admin role: say so early instead of failing later.
        for group in self.moderator.groups() {
            let role = ctx.client().group_member_role(group, ctx.me()).await;
            if let Ok(Some(level)) = &role
                && let Ok(mut roles) = self.bot_roles.lock()
            {
                roles.insert(group.to_string(), Role::from_role_level(*level));
            }
            match role {
                Ok(Some(level)) if Role::from_role_level(level).is_privileged() => {}
                Ok(Some(_)) => tracing::warn!(
                    group,
                    "the bot is not an owner or admin of this moderated group: it cannot revoke, mute or kick"
                ),
                Ok(None) => {
                    tracing::warn!(group, "the bot is not a member of this moderated group")
                }
                Err(e) => {
                    tracing::warn!(group, error = %e, "cannot check the bot's role in a moderated group")
                }
            }
        }
        let apps = ctx
            .api()
            .get_recv_group_applications(ctx.me())
            .await
            .map_err(boxed)?;
        for app in apps
            .iter()
            .filter(|a| a.handle_result == 0 && self.moderator.moderates(&a.group_id))
        {
            self.join(ctx, app).await;
        }
        Ok(())
    }
    async fn on_group_member_entered(&self, ctx: &Context, ev: &GroupMemberEvent) -> HandlerResult {
        self.welcome(ctx, ev).await;
        Ok(())
    }
    async fn on_group_member_invited(&self, ctx: &Context, ev: &GroupMemberEvent) -> HandlerResult {
        self.welcome(ctx, ev).await;
        Ok(())
    }
    async fn on_joined_group_deleted(&self, _: &Context, ev: &JoinedGroupDeleted) -> HandlerResult {
        // Moderation stops with the membership: say so once, rather than go quiet.
        let group = ev.group.group_id.as_str();
        if self.moderator.moderates(group) {
            let why = match ev.reason {
                LeaveReason::Kicked => "the bot was removed from it",
                LeaveReason::Dismissed => "it was dismissed",
                LeaveReason::Left => "the bot left it",
                _ => "the bot is no longer a member (found at sync)",
            };
            tracing::warn!(
                group,
                operator = %ev.operator_user_id,
                "a moderated group is no longer moderated: {why}"
            );
        }
        Ok(())
    }
    async fn on_group_member_info_changed(
        &self,
        ctx: &Context,
        ev: &GroupMemberEvent,
    ) -> HandlerResult {
        let m = &ev.member;
        if m.user_id != ctx.me() || !self.moderator.moderates(&m.group_id) {
            return Ok(());
        }
        let role = Role::from_role_level(m.role_level);
        let was = match self.bot_roles.lock() {
            Ok(mut roles) => roles.insert(m.group_id.clone(), role),
            Err(_) => None,
        };
        if !role.is_privileged() && was.is_none_or(Role::is_privileged) {
            tracing::warn!(
                group = %m.group_id,
                operator = %ev.operator_user_id,
                "the bot is no longer an owner or admin of this moderated group: it cannot \
                 revoke, mute or kick (violations are not counted until it is again)"
            );
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// autoreply as an event handler.
pub struct AutoreplyHandler {
    rules: Rules,
    state: BotState,
    observer: Option<Observer>,
    claims: Claims,
    /// Conversations another bot owns (support's private chats and agents group).
    skip_private: bool,
    skip_groups: HashSet<String>,
}

static AUTOREPLY_ROUTES: [RouteInfo; 1] = [RouteInfo {
    event: "NewMessage",
    matcher: "keyword / regex rules",
    filters: "per-conversation cooldown",
    method: "templated reply",
}];

impl AutoreplyHandler {
    /// Wraps compiled rules. `skip_private` leaves private chats to another bot (support);
    /// `skip_groups` are groups another bot owns (the agents group).
    pub fn new(
        rules: Rules,
        state: BotState,
        observer: Option<Observer>,
        claims: Claims,
        skip_private: bool,
        skip_groups: HashSet<String>,
    ) -> Self {
        Self {
            rules,
            state,
            observer,
            claims,
            skip_private,
            skip_groups,
        }
    }
}

#[openim_bot::runtime::async_trait]
impl EventHandler for AutoreplyHandler {
    fn name(&self) -> &'static str {
        "autoreply"
    }
    fn routes(&self) -> &'static [RouteInfo] {
        &AUTOREPLY_ROUTES
    }
    async fn on_new_message(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        match msg.group_id.as_deref().filter(|g| !g.is_empty()) {
            Some(g) if self.skip_groups.contains(g) => return Ok(()),
            None if self.skip_private => return Ok(()),
            _ => {}
        }
        if self.claims.is_claimed(&msg.conversation_id, msg.seq) {
            return Ok(());
        }
        // Reply rules match text: pictures, files and stickers are left alone.
        let Some(view) = message_view(ctx, msg)
            .await
            .filter(|v| v.attachment.is_none())
        else {
            return Ok(());
        };
        let state = self.state.get(ctx.client()).map_err(boxed)?;
        if already_handled(&*state, &view).map_err(boxed)? {
            tracing::debug!(conversation = %view.conversation_id, seq = view.seq, "already answered");
            return Ok(());
        }
        let reply = self.rules.reply(&view, ctx.me(), &*state).map_err(boxed)?;
        record_handled(&*state, &view).map_err(boxed)?;
        if let Some(action) = reply {
            state.flush().map_err(boxed)?;
            let failed = execute(ctx, "autoreply", &[action], self.observer.as_ref()).await;
            if !failed.is_empty() {
                self.rules
                    .reply_failed(&view, &*state)
                    .and_then(|()| state.flush())
                    .map_err(boxed)?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// support as an event handler. It handles one message at a time (see `serial`), unlike the
/// other bots, whose conversations run concurrently.
pub struct SupportHandler {
    desk: Desk,
    state: BotState,
    observer: Option<Observer>,
    /// Held while a message or a backlog post is handled: tickets, their numbers and the agents
    /// group's backlog are shared by every conversation, which the runtime handles concurrently.
    serial: tokio::sync::Mutex<()>,
}

static SUPPORT_ROUTES: [RouteInfo; 4] = [
    RouteInfo {
        event: "NewMessage",
        matcher: "any text",
        filters: "private chats",
        method: "FAQ → ticket → relay to the agent · /close · rating",
    },
    RouteInfo {
        event: "NewMessage",
        matcher: "command /claim N, #N text, /reply N text, /close N, /tickets",
        filters: "agents group",
        method: "agent desk",
    },
    RouteInfo {
        event: "SyncServerFinish",
        matcher: "on(SyncServerFinish)",
        filters: "-",
        method: "check the agents group; post what it missed",
    },
    RouteInfo {
        event: "JoinedGroupAdded",
        matcher: "on(JoinedGroupAdded)",
        filters: "agents group",
        method: "post what the agents group missed",
    },
];

impl SupportHandler {
    /// Wraps a compiled desk.
    pub fn new(desk: Desk, state: BotState, observer: Option<Observer>) -> Self {
        Self {
            desk,
            state,
            observer,
            serial: Default::default(),
        }
    }

    /// Posts what the agents group missed while it could not be reached, oldest first; stops at
    /// the first failure (the rest waits for the next chance). Returns whether nothing is left.
    /// Errors are logged: the message being handled goes on.
    async fn post_backlog(&self, ctx: &Context, state: &dyn StateStore) -> bool {
        let missed = match self.desk.backlog(state) {
            Ok(missed) => missed,
            Err(e) => {
                tracing::warn!(error = %e, "support: cannot read the agents group's backlog");
                return false;
            }
        };
        let posted_any = !missed.is_empty();
        for m in missed {
            if let Err(e) = self.desk.posting(state, &m).and_then(|()| state.flush()) {
                tracing::warn!(error = %e, "support: cannot update the agents group's backlog");
                return false;
            }
            let post = self.desk.late_post(&m);
            if !execute(ctx, "support", &[post], self.observer.as_ref())
                .await
                .is_empty()
            {
                if let Err(e) = self
                    .desk
                    .post_failed(state, &m)
                    .and_then(|()| state.flush())
                {
                    tracing::warn!(error = %e, "support: cannot update the agents group's backlog");
                }
                return false;
            }
        }
        if posted_any {
            self.reached(state);
        }
        true
    }

    /// The agents group was reached with nothing left to post: customers are told again when
    /// it cannot be.
    fn reached(&self, state: &dyn StateStore) {
        let changed = self.desk.reached(state);
        if let Err(e) = changed.and_then(|changed| if changed { state.flush() } else { Ok(()) }) {
            tracing::warn!(error = %e, "support: cannot update the agents group's backlog");
        }
    }

    /// [`SupportHandler::post_backlog`] on its own (an event saying the group can be reached).
    async fn post_backlog_now(&self, ctx: &Context) -> HandlerResult {
        let _serial = self.serial.lock().await;
        let state = self.state.get(ctx.client()).map_err(boxed)?;
        self.post_backlog(ctx, &*state).await;
        Ok(())
    }
}

#[openim_bot::runtime::async_trait]
impl EventHandler for SupportHandler {
    fn name(&self) -> &'static str {
        "support"
    }
    fn routes(&self) -> &'static [RouteInfo] {
        &SUPPORT_ROUTES
    }
    async fn on_new_message(&self, ctx: &Context, msg: &Message) -> HandlerResult {
        if let Some(g) = msg.group_id.as_deref().filter(|g| !g.is_empty())
            && g != self.desk.agents_group()
        {
            return Ok(());
        }
        let Some(view) = message_view(ctx, msg).await else {
            return Ok(());
        };
        // An agent writing privately with no ticket in hand gets a hint, not a ticket of their
        // own (the bot is in the agents group, so its members are in the local store).
        let sender_is_agent = view.group_id.is_none()
            && matches!(
                ctx.store()
                    .member(self.desk.agents_group(), &view.sender_id),
                Ok(Some(_))
            );
        let _serial = self.serial.lock().await;
        let state = self.state.get(ctx.client()).map_err(boxed)?;
        let actions = self
            .desk
            .handle_from(&view, &*state, sender_is_agent)
            .map_err(boxed)?;
        state.flush().map_err(boxed)?;
        // What the agents group missed goes before anything new for it: a message from the
        // group, or one to be posted there, is the chance to post it. While some is left, a
        // customer's new messages for the group are kept behind it, in order.
        let in_group = view.group_id.is_some();
        let for_agents = |a: &Action| self.desk.is_for_agents(a);
        let clear =
            !(in_group || actions.iter().any(for_agents)) || self.post_backlog(ctx, &*state).await;
        let (send, held): (Vec<Action>, Vec<Action>) = actions
            .into_iter()
            .partition(|a| clear || in_group || !for_agents(a));
        let mut failed = execute(ctx, "support", &send, self.observer.as_ref()).await;
        if clear
            && (in_group || send.iter().any(for_agents))
            && !failed.iter().any(|(a, _)| for_agents(a))
        {
            self.reached(&*state);
        }
        failed.extend(
            held.into_iter()
                .map(|a| (a, "kept behind the agents group's backlog".to_owned())),
        );
        // A customer's message the agents never got: say so, rather than leave them waiting
        // on a ticket no one sees (it is kept, and posted once the group can be reached).
        if !in_group {
            match self.desk.undelivered(&view.sender_id, &failed, &*state) {
                Ok(Some(notice)) => {
                    if let Err(e) = state.flush() {
                        tracing::warn!(error = %e, "support: cannot save the agents group's backlog");
                    }
                    execute(ctx, "support", &[notice], self.observer.as_ref()).await;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "support: cannot keep a message for the agents group")
                }
            }
        }
        Ok(())
    }
    async fn on_sync_server_finish(&self, ctx: &Context, _: &SyncServerFinish) -> HandlerResult {
        // Tickets are posted to the agents group: say early that they cannot be, instead of
        // promising customers an agent and losing each notice with a warning.
        let group = self.desk.agents_group();
        match ctx.client().group_member_role(group, ctx.me()).await {
            Ok(Some(_)) => self.post_backlog_now(ctx).await?,
            Ok(None) => tracing::warn!(
                group,
                "the bot is not a member of the support agents group: new tickets cannot reach \
                 the agents (add the bot to the group)"
            ),
            Err(e) => tracing::warn!(
                group,
                error = %e,
                "cannot reach the support agents group (does it exist?): new tickets cannot \
                 reach the agents"
            ),
        }
        Ok(())
    }
    async fn on_joined_group_added(
        &self,
        ctx: &Context,
        joined: &JoinedGroupAdded,
    ) -> HandlerResult {
        // The bot was added to the agents group (or it was created with the bot in it).
        if joined.group.group_id == self.desk.agents_group() {
            self.post_backlog_now(ctx).await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// The enabled bots as handlers, in the order they must run (moderator first).
pub fn bundle(bots: EnabledBots, observer: Option<Observer>) -> Vec<Arc<dyn EventHandler>> {
    let claims = Claims::default();
    let mut out: Vec<Arc<dyn EventHandler>> = Vec::new();
    let support_group = bots.support.as_ref().map(|d| d.agents_group().to_owned());
    if let Some(m) = bots.moderator {
        out.push(Arc::new(ModeratorHandler::new(
            m,
            BotState::in_session_store("bots.moderator"),
            observer.clone(),
            claims.clone(),
        )));
    }
    if let Some(g) = bots.friend_gate {
        out.push(Arc::new(FriendGateHandler::new(
            g,
            BotState::in_session_store("bots.friend_gate"),
            observer.clone(),
        )));
    }
    if let Some(d) = bots.support {
        out.push(Arc::new(SupportHandler::new(
            d,
            BotState::in_session_store("bots.support"),
            observer.clone(),
        )));
    }
    if let Some(r) = bots.autoreply {
        out.push(Arc::new(AutoreplyHandler::new(
            r,
            BotState::in_session_store("bots.autoreply"),
            observer,
            claims,
            support_group.is_some(),
            support_group.into_iter().collect(),
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{MemoryState, StateExt};

    #[test]
    fn claims_remember_recent_messages_only() {
        let claims = Claims::default();
        claims.claim("sg_g", 1);
        assert!(claims.is_claimed("sg_g", 1));
        assert!(!claims.is_claimed("sg_g", 2) && !claims.is_claimed("sg_h", 1));
        for seq in 2..=(Claims::CAPACITY as i64 + 1) {
            claims.claim("sg_g", seq);
        }
        assert!(!claims.is_claimed("sg_g", 1), "the oldest claim is dropped");
        assert!(claims.is_claimed("sg_g", Claims::CAPACITY as i64 + 1));
    }

    #[test]
    fn given_state_is_used_without_a_session() {
        let mem = MemoryState::new();
        mem.put_json("k", &1u8).unwrap();
        let state = BotState::with(Arc::new(mem));
        let client = Client::detached("bot", openim_bot::Store::temporary().unwrap());
        assert_eq!(
            state.get(&client).unwrap().get_json::<u8>("k").unwrap(),
            Some(1)
        );
        // The lazily opened variant uses a tree of the client's store.
        let lazy = BotState::in_session_store("bots.test");
        lazy.get(&client).unwrap().put_json("x", &2u8).unwrap();
        assert_eq!(
            lazy.get(&client).unwrap().get_json::<u8>("x").unwrap(),
            Some(2)
        );
    }
}

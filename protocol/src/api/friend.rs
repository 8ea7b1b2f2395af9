//! `/friend/...`: applications, friend list, blacklist, version sync (http-api.md §5.2).

use super::Empty;
pub use super::common::{
    BlackInfo, FriendInfo, FriendInfoOnly, FriendRequest, FullIdsUserReq, IncrementalUserReq,
    Pagination, UserInfo,
};
use super::route::api_routes;
use super::serde_util::json_struct;

json_struct! { @request;
    /// `/friend/add_friend` request.
    pub struct AddFriendReq {
        /// Applicant (must be the caller unless admin).
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// Recipient.
        #[serde(rename = "toUserID")]
        pub to_user_id: String,
        /// Application message.
        pub req_msg: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @request;
    /// `/friend/add_friend_response` request (agree or refuse).
    pub struct AddFriendResponseReq {
        /// The applicant.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// The recipient answering (the caller unless admin).
        #[serde(rename = "toUserID")]
        pub to_user_id: String,
        /// 1 agree, -1 refuse.
        pub handle_result: i32,
        /// Answer message.
        pub handle_msg: String,
    }
}

json_struct! { @request;
    /// `/friend/delete_friend` request (one-directional).
    pub struct DeleteFriendReq {
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Friend to remove.
        #[serde(rename = "friendUserID")]
        pub friend_user_id: String,
    }
}

json_struct! { @request;
    /// `/friend/get_friend_apply_list` and `/friend/get_self_friend_apply_list` request.
    pub struct GetFriendApplyListReq {
        /// The recipient (received list) or applicant (self list).
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Page.
        pub pagination: Option<Pagination>,
        /// Filter on handleResult (empty = all).
        pub handle_results: Vec<i32>,
    }
}

json_struct! { @reply;
    /// `/friend/get_friend_apply_list` reply: note the capitalised `FriendRequests` key.
    pub struct GetFriendApplyListResp {
        /// Received applications, newest first.
        #[serde(rename = "FriendRequests", alias = "friendRequests")]
        pub friend_requests: Vec<FriendRequest>,
        /// Total matches.
        pub total: i32,
    }
}

json_struct! { @reply;
    /// `/friend/get_self_friend_apply_list` reply (lower-case `friendRequests`).
    pub struct GetSelfFriendApplyListResp {
        /// Sent applications, newest first.
        #[serde(alias = "FriendRequests")]
        pub friend_requests: Vec<FriendRequest>,
        /// Total matches.
        pub total: i32,
    }
}

json_struct! { @request;
    /// `/friend/get_designated_friend_apply` request.
    pub struct GetDesignatedFriendApplyReq {
        /// One side.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// Other side.
        #[serde(rename = "toUserID")]
        pub to_user_id: String,
    }
}

json_struct! { @reply;
    /// `/friend/get_designated_friend_apply` reply.
    pub struct GetDesignatedFriendApplyResp {
        /// Applications between the two users, in either direction.
        pub friend_requests: Vec<FriendRequest>,
    }
}

json_struct! { @request;
    /// `/friend/get_friend_list` request.
    pub struct GetFriendListReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// List owner.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply;
    /// `/friend/get_friend_list` reply.
    pub struct GetFriendListResp {
        /// Friends (createTime in seconds), pinned first.
        pub friends_info: Vec<FriendInfo>,
        /// Total friends.
        pub total: i32,
    }
}

json_struct! { @request;
    /// `/friend/get_designated_friends` request.
    pub struct GetDesignatedFriendsReq {
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Friends to look up (non-null, no duplicates).
        #[serde(rename = "friendUserIDs")]
        pub friend_user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/friend/get_designated_friends` reply.
    pub struct GetDesignatedFriendsResp {
        /// The friends among the requested IDs.
        pub friends_info: Vec<FriendInfo>,
    }
}

json_struct! { @request;
    /// `/friend/get_specified_friends_info` request.
    pub struct GetSpecifiedFriendsInfoReq {
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Users to look up (1..=1000, no duplicates).
        #[serde(rename = "userIDList")]
        pub user_id_list: Vec<String>,
    }
}

json_struct! { @reply;
    /// One entry of `/friend/get_specified_friends_info`.
    pub struct SpecifiedFriendInfo {
        /// The user's profile.
        pub user_info: Option<UserInfo>,
        /// The friend relation (`friendUser` null, times ms), if any.
        pub friend_info: Option<FriendInfo>,
        /// The blacklist entry, if any.
        pub black_info: Option<BlackInfo>,
    }
}

json_struct! { @reply;
    /// `/friend/get_specified_friends_info` reply.
    pub struct GetSpecifiedFriendsInfoResp {
        /// One entry per known user.
        pub infos: Vec<SpecifiedFriendInfo>,
    }
}

json_struct! { @request;
    /// A request carrying only a `userID` (`/friend/get_friend_id`).
    pub struct UserIdReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @reply;
    /// `/friend/get_friend_id` reply.
    pub struct GetFriendIdResp {
        /// Friend user IDs.
        #[serde(rename = "friendIDs")]
        pub friend_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// `/friend/is_friend` request.
    pub struct IsFriendReq {
        /// First user.
        #[serde(rename = "userID1")]
        pub user_id1: String,
        /// Second user.
        #[serde(rename = "userID2")]
        pub user_id2: String,
    }
}

json_struct! { @reply;
    /// `/friend/is_friend` reply.
    pub struct IsFriendResp {
        /// userID2 is in userID1's friend list.
        #[serde(rename = "inUser1Friends")]
        pub in_user1_friends: bool,
        /// userID1 is in userID2's friend list.
        #[serde(rename = "inUser2Friends")]
        pub in_user2_friends: bool,
    }
}

json_struct! { @request;
    /// `/friend/set_friend_remark` request.
    pub struct SetFriendRemarkReq {
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// The friend.
        #[serde(rename = "friendUserID")]
        pub friend_user_id: String,
        /// New remark.
        pub remark: String,
    }
}

json_struct! { @request;
    /// `/friend/update_friends` request (`None` = unchanged).
    pub struct UpdateFriendsReq {
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Friends to update (1..=1000, no duplicates).
        #[serde(rename = "friendUserIDs")]
        pub friend_user_ids: Vec<String>,
        /// Pin state.
        pub is_pinned: Option<bool>,
        /// Remark.
        pub remark: Option<String>,
        /// Extension data.
        pub ex: Option<String>,
    }
}

json_struct! { @request;
    /// `/friend/import_friend` request (admin; mutual friendship without application).
    pub struct ImportFriendReq {
        /// List owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// New friends (<= 1000, no duplicates, not the owner).
        #[serde(rename = "friendUserIDs")]
        pub friend_user_ids: Vec<String>,
    }
}

json_struct! { @request;
    /// `/friend/add_black` request.
    pub struct AddBlackReq {
        /// Blacklist owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// User to block.
        #[serde(rename = "blackUserID")]
        pub black_user_id: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @request;
    /// `/friend/remove_black` request.
    pub struct RemoveBlackReq {
        /// Blacklist owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// User to unblock.
        #[serde(rename = "blackUserID")]
        pub black_user_id: String,
    }
}

json_struct! { @request;
    /// `/friend/get_black_list` request.
    pub struct GetBlackListReq {
        /// Blacklist owner.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Page.
        pub pagination: Option<Pagination>,
    }
}

json_struct! { @reply;
    /// Reply of `/friend/get_black_list` and `/friend/get_specified_blacks`.
    pub struct GetBlackListResp {
        /// Entries (createTime seconds in get_black_list, ms in get_specified_blacks).
        pub blacks: Vec<BlackInfo>,
        /// Total entries.
        pub total: i32,
    }
}

json_struct! { @request;
    /// `/friend/get_specified_blacks` request.
    pub struct GetSpecifiedBlacksReq {
        /// Blacklist owner.
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Users to look up (non-empty, no duplicates).
        #[serde(rename = "userIDList")]
        pub user_id_list: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/friend/get_incremental_friends` reply (http-api.md §6.2).
    pub struct GetIncrementalFriendsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Client must discard its list and resync.
        pub full: bool,
        /// Removed friend user IDs.
        pub delete: Vec<String>,
        /// Added friends.
        pub insert: Vec<FriendInfo>,
        /// Changed friends.
        pub update: Vec<FriendInfo>,
        /// Non-zero when the order changed (re-fetch the full ID list).
        pub sort_version: u64,
    }
}

json_struct! { @reply;
    /// `/friend/get_full_friend_user_ids` reply (http-api.md §6.3).
    pub struct GetFullFriendUserIdsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// The request's `idHash` matched (`userIDs` then null).
        pub equal: bool,
        /// Friend IDs in server order.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/friend/get_incremental_blacks` reply shape (the route is not implemented in 3.8: the server
    /// answers errCode 12, gRPC Unimplemented).
    pub struct GetIncrementalBlacksResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Client must discard its list and resync.
        pub full: bool,
        /// Removed blocked user IDs.
        pub delete: Vec<String>,
        /// Added entries.
        pub insert: Vec<BlackInfo>,
        /// Changed entries.
        pub update: Vec<BlackInfo>,
    }
}

json_struct! { @request;
    /// Unhandled-count request (`/friend/get_self_unhandled_apply_count`,
    /// `/group/get_group_application_unhandled_count`).
    pub struct UnhandledCountReq {
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Only count requests after this time, ms (0 = all).
        pub time: i64,
    }
}

json_struct! { @reply;
    /// Unhandled-count reply.
    pub struct UnhandledCountResp {
        /// Pending requests.
        pub count: i64,
    }
}

api_routes! {
    /// Applies to become friends.
    AddFriend {
        path: ADD_FRIEND = "/friend/add_friend",
        access: SelfOrAdmin { field: "fromUserID" },
        req: AddFriendReq,
        resp: Empty,
    }
    /// Agrees to (1) or refuses (-1) a friend application.
    AddFriendResponse {
        path: ADD_FRIEND_RESPONSE = "/friend/add_friend_response",
        access: SelfOrAdmin { field: "toUserID" },
        req: AddFriendResponseReq,
        resp: Empty,
    }
    /// Removes a friend from the owner's list only.
    DeleteFriend {
        path: DELETE_FRIEND = "/friend/delete_friend",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: DeleteFriendReq,
        resp: Empty,
    }
    /// Applications received by `userID`.
    GetFriendApplyList {
        path: GET_FRIEND_APPLY_LIST = "/friend/get_friend_apply_list",
        access: SelfOrAdmin { field: "userID" },
        req: GetFriendApplyListReq,
        resp: GetFriendApplyListResp,
    }
    /// Applications sent by `userID`.
    GetSelfFriendApplyList {
        path: GET_SELF_FRIEND_APPLY_LIST = "/friend/get_self_friend_apply_list",
        access: SelfOrAdmin { field: "userID" },
        req: GetFriendApplyListReq,
        resp: GetSelfFriendApplyListResp,
    }
    /// Applications between two users, either direction.
    GetDesignatedFriendApply {
        path: GET_DESIGNATED_FRIEND_APPLY = "/friend/get_designated_friend_apply",
        access: SelfOrAdmin { field: "fromUserID|toUserID" },
        req: GetDesignatedFriendApplyReq,
        resp: GetDesignatedFriendApplyResp,
    }
    /// Friend list, paged.
    GetFriendList {
        path: GET_FRIEND_LIST = "/friend/get_friend_list",
        access: SelfOrAdmin { field: "userID" },
        req: GetFriendListReq,
        resp: GetFriendListResp,
    }
    /// Selected friends.
    GetDesignatedFriends {
        path: GET_DESIGNATED_FRIENDS = "/friend/get_designated_friends",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: GetDesignatedFriendsReq,
        resp: GetDesignatedFriendsResp,
    }
    /// Profile, friend and blacklist state of selected users.
    GetSpecifiedFriendsInfo {
        path: GET_SPECIFIED_FRIENDS_INFO = "/friend/get_specified_friends_info",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: GetSpecifiedFriendsInfoReq,
        resp: GetSpecifiedFriendsInfoResp,
    }
    /// All friend IDs.
    GetFriendId {
        path: GET_FRIEND_ID = "/friend/get_friend_id",
        access: SelfOrAdmin { field: "userID" },
        req: UserIdReq,
        resp: GetFriendIdResp,
    }
    /// Friendship in both directions.
    IsFriend {
        path: IS_FRIEND = "/friend/is_friend",
        access: SelfOrAdmin { field: "userID1|userID2" },
        req: IsFriendReq,
        resp: IsFriendResp,
    }
    /// Sets the owner's remark for a friend.
    SetFriendRemark {
        path: SET_FRIEND_REMARK = "/friend/set_friend_remark",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: SetFriendRemarkReq,
        resp: Empty,
    }
    /// Updates pin/remark/ex of several friends.
    UpdateFriends {
        path: UPDATE_FRIENDS = "/friend/update_friends",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: UpdateFriendsReq,
        resp: Empty,
    }
    /// Makes users mutual friends without an application.
    ImportFriend {
        path: IMPORT_FRIEND = "/friend/import_friend",
        access: Admin,
        req: ImportFriendReq,
        resp: Empty,
    }
    /// Blocks a user.
    AddBlack {
        path: ADD_BLACK = "/friend/add_black",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: AddBlackReq,
        resp: Empty,
    }
    /// Unblocks a user.
    RemoveBlack {
        path: REMOVE_BLACK = "/friend/remove_black",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: RemoveBlackReq,
        resp: Empty,
    }
    /// Blacklist, paged.
    GetBlackList {
        path: GET_BLACK_LIST = "/friend/get_black_list",
        access: SelfOrAdmin { field: "userID" },
        req: GetBlackListReq,
        resp: GetBlackListResp,
    }
    /// Selected blacklist entries.
    GetSpecifiedBlacks {
        path: GET_SPECIFIED_BLACKS = "/friend/get_specified_blacks",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: GetSpecifiedBlacksReq,
        resp: GetBlackListResp,
    }
    /// Friend-list changes since a version.
    GetIncrementalFriends {
        path: GET_INCREMENTAL_FRIENDS = "/friend/get_incremental_friends",
        access: SelfOrAdmin { field: "userID" },
        req: IncrementalUserReq,
        resp: GetIncrementalFriendsResp,
    }
    /// All friend IDs with the version head.
    GetFullFriendUserIds {
        path: GET_FULL_FRIEND_USER_IDS = "/friend/get_full_friend_user_ids",
        access: SelfOrAdmin { field: "userID" },
        req: FullIdsUserReq,
        resp: GetFullFriendUserIdsResp,
    }
    /// Blacklist changes since a version: routed but unimplemented in 3.8 (errCode 12).
    GetIncrementalBlacks {
        path: GET_INCREMENTAL_BLACKS = "/friend/get_incremental_blacks",
        access: SelfOrAdmin { field: "userID" },
        req: IncrementalUserReq,
        resp: GetIncrementalBlacksResp,
    }
    /// Pending applications received since a time.
    GetSelfUnhandledApplyCount {
        path: GET_SELF_UNHANDLED_APPLY_COUNT = "/friend/get_self_unhandled_apply_count",
        access: SelfOrAdmin { field: "userID" },
        req: UnhandledCountReq,
        resp: UnhandledCountResp,
        since: SincePatch5,
    }
}

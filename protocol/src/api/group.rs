//! `/group/...`: groups, members, applications, mutes, version sync (http-api.md §5.3).

use std::collections::BTreeMap;

use super::Empty;
pub use super::common::{
    FullIdsUserReq, GroupInfo, GroupInfoForSet, GroupMemberFullInfo, GroupRequest,
    IncrementalUserReq, Pagination,
};
pub use super::friend::{UnhandledCountReq, UnhandledCountResp};
use super::route::api_routes;
use super::serde_util::json_struct;

json_struct! { @request;
    /// `/group/create_group` request.
    pub struct CreateGroupReq {
        /// Ordinary members (<= 1000).
        #[serde(rename = "memberUserIDs")]
        pub member_user_ids: Vec<String>,
        /// The group to create (`groupType` must be 2; `groupID` optional).
        pub group_info: Option<GroupInfo>,
        /// Group admins.
        #[serde(rename = "adminUserIDs")]
        pub admin_user_ids: Vec<String>,
        /// The owner (required).
        #[serde(rename = "ownerUserID")]
        pub owner_user_id: String,
        /// Overrides whether the 1501 notification also shows as a chat message.
        pub send_message: Option<bool>,
    }
}

json_struct! { @reply;
    /// `/group/create_group` reply.
    pub struct CreateGroupResp {
        /// The created group.
        pub group_info: Option<GroupInfo>,
    }
}

json_struct! { @request;
    /// `/group/set_group_info` request.
    pub struct SetGroupInfoReq {
        /// The update.
        pub group_info_for_set: Option<GroupInfoForSet>,
    }
}

json_struct! { @request;
    /// `/group/set_group_info_ex` request (used by the SDKs): `None` = unchanged, `""` clears
    /// (a blank `groupName` makes the call a no-op).
    pub struct SetGroupInfoExReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// New name.
        pub group_name: Option<String>,
        /// New announcement.
        pub notification: Option<String>,
        /// New introduction.
        pub introduction: Option<String>,
        /// New avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// New extension data.
        pub ex: Option<String>,
        /// New verification mode.
        pub need_verification: Option<i32>,
        /// New member-info visibility.
        pub look_member_info: Option<i32>,
        /// New member-friend flag.
        pub apply_member_friend: Option<i32>,
    }
}

json_struct! { @request;
    /// `/group/join_group` request.
    pub struct JoinGroupReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Application message (note the key `reqMessage`).
        pub req_message: String,
        /// 1 admin, 2 invitation, 3 search, 4 QR code.
        pub join_source: i32,
        /// Quirk: the **applicant's** userID (the SDKs send the logged-in user).
        #[serde(rename = "inviterUserID")]
        pub inviter_user_id: String,
        /// Extension data.
        pub ex: String,
    }
}

json_struct! { @request;
    /// `/group/quit_group` request.
    pub struct QuitGroupReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The leaver ("" = the caller).
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @request;
    /// `/group/group_application_response` request.
    pub struct GroupApplicationResponseReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The applicant.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// Answer message (note the key `handledMsg`).
        pub handled_msg: String,
        /// 1 accept, -1 refuse.
        pub handle_result: i32,
    }
}

json_struct! { @request;
    /// `/group/transfer_group` request.
    pub struct TransferGroupReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Current owner.
        #[serde(rename = "oldOwnerUserID")]
        pub old_owner_user_id: String,
        /// New owner (must be a member).
        #[serde(rename = "newOwnerUserID")]
        pub new_owner_user_id: String,
    }
}

json_struct! { @request;
    /// `/group/kick_group` request.
    pub struct KickGroupReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Members to remove (1..=1000, no duplicates, not the caller or owner).
        #[serde(rename = "kickedUserIDs")]
        pub kicked_user_ids: Vec<String>,
        /// Reason.
        pub reason: String,
        /// Overrides whether the 1508 notification also shows as a chat message.
        pub send_message: Option<bool>,
    }
}

json_struct! { @request;
    /// `/group/get_group_members_info` request.
    pub struct GetGroupMembersInfoReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Members to look up (non-empty).
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/group/get_group_members_info` reply.
    pub struct GetGroupMembersInfoResp {
        /// Found members (non-members omitted).
        pub members: Vec<GroupMemberFullInfo>,
    }
}

json_struct! { @request;
    /// `/group/get_group_member_list` request.
    pub struct GetGroupMemberListReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// 0..5 (validated, ignored).
        pub filter: i32,
        /// Group-nickname filter (effectively matches nothing upstream).
        pub keyword: String,
    }
}

json_struct! { @reply;
    /// `/group/get_group_member_list` reply.
    pub struct GetGroupMemberListResp {
        /// Total members.
        pub total: u32,
        /// This page, roleLevel descending then join order.
        pub members: Vec<GroupMemberFullInfo>,
    }
}

json_struct! { @request;
    /// `/group/invite_user_to_group` request.
    pub struct InviteUserToGroupReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Reason.
        pub reason: String,
        /// Invitees (1..=1000, no duplicates).
        #[serde(rename = "invitedUserIDs")]
        pub invited_user_ids: Vec<String>,
        /// Overrides whether the 1509 notification also shows as a chat message.
        pub send_message: Option<bool>,
    }
}

json_struct! { @request;
    /// `/group/get_joined_group_list` request.
    pub struct GetJoinedGroupListReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// The member.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
    }
}

json_struct! { @reply;
    /// `/group/get_joined_group_list` reply.
    pub struct GetJoinedGroupListResp {
        /// Total groups.
        pub total: u32,
        /// This page.
        pub groups: Vec<GroupInfo>,
    }
}

json_struct! { @request;
    /// `/group/dismiss_group` request.
    pub struct DismissGroupReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Remove all members immediately.
        pub delete_member: bool,
        /// Overrides whether the 1511 notification also shows as a chat message.
        pub send_message: Option<bool>,
    }
}

json_struct! { @request;
    /// `/group/mute_group_member` request.
    pub struct MuteGroupMemberReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The member.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Mute duration, seconds (> 0).
        pub muted_seconds: u32,
    }
}

json_struct! { @request;
    /// Request naming a group member (`/group/cancel_mute_group_member`,
    /// `/group/get_specified_user_group_request_info`).
    pub struct GroupMemberReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The user.
        #[serde(rename = "userID")]
        pub user_id: String,
    }
}

json_struct! { @request;
    /// Request naming one group (`mute_group`, `cancel_mute_group`, `get_group_member_user_id`).
    pub struct GroupIdReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
    }
}

json_struct! { @request;
    /// One member update of `/group/set_group_member_info` (`group.SetGroupMemberInfo`;
    /// `None` = unchanged).
    pub struct MemberInfoForSet {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// The member.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Group nickname.
        pub nickname: Option<String>,
        /// Group avatar.
        #[serde(rename = "faceURL")]
        pub face_url: Option<String>,
        /// 60 admin or 20 member.
        pub role_level: Option<i32>,
        /// Extension data.
        pub ex: Option<String>,
    }
}

json_struct! { @request;
    /// `/group/set_group_member_info` request.
    pub struct SetGroupMemberInfoReq {
        /// Updates (1..=1000).
        pub members: Vec<MemberInfoForSet>,
    }
}

json_struct! { @request;
    /// Request naming groups (`get_groups_info`, `get_group_abstract_info`).
    pub struct GroupIdsReq {
        /// The groups (non-empty).
        #[serde(rename = "groupIDs")]
        pub group_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/group/get_groups_info` reply.
    pub struct GetGroupsInfoResp {
        /// Found groups (unknown omitted).
        pub group_infos: Vec<GroupInfo>,
    }
}

json_struct! { @request;
    /// `/group/get_recv_group_applicationList` request.
    pub struct GetRecvGroupApplicationListReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// The manager whose groups' applications are listed.
        #[serde(rename = "fromUserID")]
        pub from_user_id: String,
        /// Restrict to these groups.
        #[serde(rename = "groupIDs")]
        pub group_ids: Vec<String>,
        /// Filter on handleResult (empty = all).
        pub handle_results: Vec<i32>,
    }
}

json_struct! { @request;
    /// `/group/get_user_req_group_applicationList` request.
    pub struct GetUserReqGroupApplicationListReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// The applicant.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// Restrict to these groups.
        #[serde(rename = "groupIDs")]
        pub group_ids: Vec<String>,
        /// Filter on handleResult (empty = all).
        pub handle_results: Vec<i32>,
    }
}

json_struct! { @reply;
    /// Reply of the group-application list routes.
    pub struct GroupApplicationListResp {
        /// Total matches.
        pub total: u32,
        /// Applications, newest first.
        pub group_requests: Vec<GroupRequest>,
    }
}

json_struct! { @request;
    /// `/group/get_group_users_req_application_list` request.
    pub struct GetGroupUsersReqApplicationListReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Applicants (<= 1000).
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/group/get_group_users_req_application_list` reply (`total` is i64 here).
    pub struct GetGroupUsersReqApplicationListResp {
        /// Total matches.
        pub total: i64,
        /// Applications.
        pub group_requests: Vec<GroupRequest>,
    }
}

json_struct! { @reply;
    /// One group of `/group/get_group_abstract_info`.
    pub struct GroupAbstractInfo {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Member count.
        pub group_member_number: u32,
        /// Hash of the member list.
        pub group_member_list_hash: u64,
    }
}

json_struct! { @reply;
    /// `/group/get_group_abstract_info` reply.
    pub struct GetGroupAbstractInfoResp {
        /// One entry per group.
        pub group_abstract_infos: Vec<GroupAbstractInfo>,
    }
}

json_struct! { @request;
    /// `/group/get_groups` request (admin-console search).
    pub struct GetGroupsReq {
        /// Page.
        pub pagination: Option<Pagination>,
        /// Name filter.
        pub group_name: String,
        /// ID filter.
        #[serde(rename = "groupID")]
        pub group_id: String,
    }
}

json_struct! { @reply;
    /// One group of `/group/get_groups`.
    pub struct CmsGroup {
        /// The group.
        pub group_info: Option<GroupInfo>,
        /// Owner's nickname.
        pub group_owner_user_name: String,
        /// Owner's ID.
        #[serde(rename = "groupOwnerUserID")]
        pub group_owner_user_id: String,
    }
}

json_struct! { @reply;
    /// `/group/get_groups` reply.
    pub struct GetGroupsResp {
        /// Total matches.
        pub total: u32,
        /// This page.
        pub groups: Vec<CmsGroup>,
    }
}

json_struct! { @reply;
    /// `/group/get_group_member_user_id` reply.
    pub struct GetGroupMemberUserIdResp {
        /// Member user IDs.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/group/get_incremental_join_groups` reply (http-api.md §6.2).
    pub struct GetIncrementalJoinGroupsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Client must discard its list and resync.
        pub full: bool,
        /// Left group IDs.
        pub delete: Vec<String>,
        /// Joined groups.
        pub insert: Vec<GroupInfo>,
        /// Changed groups.
        pub update: Vec<GroupInfo>,
        /// Always 0 for joined groups.
        pub sort_version: u64,
    }
}

json_struct! { @request;
    /// `/group/get_incremental_group_members` request (also an element of the batch request).
    pub struct IncrementalGroupMembersReq {
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
        /// Stored version log ID, `""` initially.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Stored version, 0 initially.
        pub version: u64,
    }
}

json_struct! { @reply;
    /// `/group/get_incremental_group_members` reply (and each value of the batch `respList`).
    pub struct GetIncrementalGroupMembersResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// Client must discard its list and resync.
        pub full: bool,
        /// Removed member user IDs.
        pub delete: Vec<String>,
        /// Added members.
        pub insert: Vec<GroupMemberFullInfo>,
        /// Changed members.
        pub update: Vec<GroupMemberFullInfo>,
        /// Current group info when full, when group info changed, or when members changed.
        pub group: Option<GroupInfo>,
        /// Non-zero when the order changed.
        pub sort_version: u64,
    }
}

json_struct! { @request;
    /// `/group/get_incremental_group_members_batch` request.
    pub struct BatchIncrementalGroupMembersReq {
        /// The caller.
        #[serde(rename = "userID")]
        pub user_id: String,
        /// One entry per group.
        pub req_list: Vec<IncrementalGroupMembersReq>,
    }
}

json_struct! { @reply;
    /// `/group/get_incremental_group_members_batch` reply.
    pub struct BatchIncrementalGroupMembersResp {
        /// groupID → changes (the JS client requires this key; groups beyond the 500-change budget
        /// are absent and must be re-requested).
        pub resp_list: BTreeMap<String, GetIncrementalGroupMembersResp>,
    }
}

json_struct! { @request;
    /// `/group/get_full_group_member_user_ids` request.
    pub struct FullGroupMemberIdsReq {
        /// Hash of the client's list (SDKs send 0).
        pub id_hash: u64,
        /// The group.
        #[serde(rename = "groupID")]
        pub group_id: String,
    }
}

json_struct! { @reply;
    /// `/group/get_full_group_member_user_ids` reply.
    pub struct GetFullGroupMemberUserIdsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// The hash matched (`userIDs` then null).
        pub equal: bool,
        /// Member IDs, role descending then join order.
        #[serde(rename = "userIDs")]
        pub user_ids: Vec<String>,
    }
}

json_struct! { @reply;
    /// `/group/get_full_join_group_ids` reply.
    pub struct GetFullJoinGroupIdsResp {
        /// Current log version.
        pub version: u64,
        /// Current log ID.
        #[serde(rename = "versionID")]
        pub version_id: String,
        /// The hash matched (`groupIDs` then null).
        pub equal: bool,
        /// Joined group IDs.
        #[serde(rename = "groupIDs")]
        pub group_ids: Vec<String>,
    }
}

api_routes! {
    /// Creates a group.
    CreateGroup {
        path: CREATE_GROUP = "/group/create_group",
        access: SelfOrAdmin { field: "ownerUserID" },
        req: CreateGroupReq,
        resp: CreateGroupResp,
    }
    /// Updates group info ("" = unchanged).
    SetGroupInfo {
        path: SET_GROUP_INFO = "/group/set_group_info",
        access: GroupManager,
        req: SetGroupInfoReq,
        resp: Empty,
    }
    /// Updates group info with "unchanged" markers (used by the SDKs).
    SetGroupInfoEx {
        path: SET_GROUP_INFO_EX = "/group/set_group_info_ex",
        access: GroupManager,
        req: SetGroupInfoExReq,
        resp: Empty,
    }
    /// Joins directly or applies, depending on `needVerification`.
    JoinGroup {
        path: JOIN_GROUP = "/group/join_group",
        access: Any,
        req: JoinGroupReq,
        resp: Empty,
    }
    /// Leaves a group (the owner cannot).
    QuitGroup {
        path: QUIT_GROUP = "/group/quit_group",
        access: SelfOrAdmin { field: "userID" },
        req: QuitGroupReq,
        resp: Empty,
    }
    /// Accepts (1) or refuses (-1) a join application.
    GroupApplicationResponse {
        path: GROUP_APPLICATION_RESPONSE = "/group/group_application_response",
        access: GroupManager,
        req: GroupApplicationResponseReq,
        resp: Empty,
    }
    /// Transfers ownership.
    TransferGroup {
        path: TRANSFER_GROUP = "/group/transfer_group",
        access: GroupOwner,
        req: TransferGroupReq,
        resp: Empty,
    }
    /// Removes members.
    KickGroup {
        path: KICK_GROUP = "/group/kick_group",
        access: GroupManager,
        req: KickGroupReq,
        resp: Empty,
    }
    /// Selected members.
    GetGroupMembersInfo {
        path: GET_GROUP_MEMBERS_INFO = "/group/get_group_members_info",
        access: GroupMember,
        req: GetGroupMembersInfoReq,
        resp: GetGroupMembersInfoResp,
    }
    /// Members, paged.
    GetGroupMemberList {
        path: GET_GROUP_MEMBER_LIST = "/group/get_group_member_list",
        access: GroupMember,
        req: GetGroupMemberListReq,
        resp: GetGroupMemberListResp,
    }
    /// Invites users (joins directly or creates applications).
    InviteUserToGroup {
        path: INVITE_USER_TO_GROUP = "/group/invite_user_to_group",
        access: GroupMember,
        req: InviteUserToGroupReq,
        resp: Empty,
    }
    /// Groups a user is in, paged.
    GetJoinedGroupList {
        path: GET_JOINED_GROUP_LIST = "/group/get_joined_group_list",
        access: SelfOrAdmin { field: "fromUserID" },
        req: GetJoinedGroupListReq,
        resp: GetJoinedGroupListResp,
    }
    /// Dismisses a group.
    DismissGroup {
        path: DISMISS_GROUP = "/group/dismiss_group",
        access: GroupOwner,
        req: DismissGroupReq,
        resp: Empty,
    }
    /// Mutes a member for some seconds.
    MuteGroupMember {
        path: MUTE_GROUP_MEMBER = "/group/mute_group_member",
        access: GroupManager,
        req: MuteGroupMemberReq,
        resp: Empty,
    }
    /// Unmutes a member.
    CancelMuteGroupMember {
        path: CANCEL_MUTE_GROUP_MEMBER = "/group/cancel_mute_group_member",
        access: GroupManager,
        req: GroupMemberReq,
        resp: Empty,
    }
    /// Mutes the whole group (status 3).
    MuteGroup {
        path: MUTE_GROUP = "/group/mute_group",
        access: GroupManager,
        req: GroupIdReq,
        resp: Empty,
    }
    /// Unmutes the group.
    CancelMuteGroup {
        path: CANCEL_MUTE_GROUP = "/group/cancel_mute_group",
        access: GroupManager,
        req: GroupIdReq,
        resp: Empty,
    }
    /// Sets members' group nickname/avatar/role/ex.
    SetGroupMemberInfo {
        path: SET_GROUP_MEMBER_INFO = "/group/set_group_member_info",
        access: GroupMember,
        req: SetGroupMemberInfoReq,
        resp: Empty,
    }
    /// Groups by ID.
    GetGroupsInfo {
        path: GET_GROUPS_INFO = "/group/get_groups_info",
        access: Any,
        req: GroupIdsReq,
        resp: GetGroupsInfoResp,
    }
    /// Applications to groups managed by `fromUserID`.
    GetRecvGroupApplicationList {
        path: GET_RECV_GROUP_APPLICATION_LIST = "/group/get_recv_group_applicationList",
        access: SelfOrAdmin { field: "fromUserID" },
        req: GetRecvGroupApplicationListReq,
        resp: GroupApplicationListResp,
    }
    /// Applications made by `userID`.
    GetUserReqGroupApplicationList {
        path: GET_USER_REQ_GROUP_APPLICATION_LIST = "/group/get_user_req_group_applicationList",
        access: SelfOrAdmin { field: "userID" },
        req: GetUserReqGroupApplicationListReq,
        resp: GroupApplicationListResp,
    }
    /// One user's application to one group (the user, group managers or app admin).
    GetSpecifiedUserGroupRequestInfo {
        path: GET_SPECIFIED_USER_GROUP_REQUEST_INFO = "/group/get_specified_user_group_request_info",
        access: SelfOrGroupManager { field: "userID" },
        req: GroupMemberReq,
        resp: GroupApplicationListResp,
    }
    /// Applications of selected users to a group.
    GetGroupUsersReqApplicationList {
        path: GET_GROUP_USERS_REQ_APPLICATION_LIST = "/group/get_group_users_req_application_list",
        access: GroupManager,
        req: GetGroupUsersReqApplicationListReq,
        resp: GetGroupUsersReqApplicationListResp,
    }
    /// Member counts and member-list hashes.
    GetGroupAbstractInfo {
        path: GET_GROUP_ABSTRACT_INFO = "/group/get_group_abstract_info",
        access: GroupMember,
        req: GroupIdsReq,
        resp: GetGroupAbstractInfoResp,
    }
    /// Admin-console group search.
    GetGroups {
        path: GET_GROUPS = "/group/get_groups",
        access: Any,
        req: GetGroupsReq,
        resp: GetGroupsResp,
    }
    /// All member IDs.
    GetGroupMemberUserId {
        path: GET_GROUP_MEMBER_USER_ID = "/group/get_group_member_user_id",
        access: GroupMember,
        req: GroupIdReq,
        resp: GetGroupMemberUserIdResp,
    }
    /// Joined-group changes since a version.
    GetIncrementalJoinGroups {
        path: GET_INCREMENTAL_JOIN_GROUPS = "/group/get_incremental_join_groups",
        access: SelfOrAdmin { field: "userID" },
        req: IncrementalUserReq,
        resp: GetIncrementalJoinGroupsResp,
    }
    /// Member changes of one group since a version.
    GetIncrementalGroupMembers {
        path: GET_INCREMENTAL_GROUP_MEMBERS = "/group/get_incremental_group_members",
        access: GroupMember,
        req: IncrementalGroupMembersReq,
        resp: GetIncrementalGroupMembersResp,
    }
    /// Member changes of several groups.
    GetIncrementalGroupMembersBatch {
        path: GET_INCREMENTAL_GROUP_MEMBERS_BATCH = "/group/get_incremental_group_members_batch",
        access: SelfOrAdmin { field: "userID" },
        req: BatchIncrementalGroupMembersReq,
        resp: BatchIncrementalGroupMembersResp,
    }
    /// All member IDs with the version head.
    GetFullGroupMemberUserIds {
        path: GET_FULL_GROUP_MEMBER_USER_IDS = "/group/get_full_group_member_user_ids",
        access: GroupMember,
        req: FullGroupMemberIdsReq,
        resp: GetFullGroupMemberUserIdsResp,
    }
    /// All joined group IDs with the version head.
    GetFullJoinGroupIds {
        path: GET_FULL_JOIN_GROUP_IDS = "/group/get_full_join_group_ids",
        access: SelfOrAdmin { field: "userID" },
        req: FullIdsUserReq,
        resp: GetFullJoinGroupIdsResp,
    }
    /// Pending applications to groups `userID` manages.
    GetGroupApplicationUnhandledCount {
        path: GET_GROUP_APPLICATION_UNHANDLED_COUNT = "/group/get_group_application_unhandled_count",
        access: SelfOrAdmin { field: "userID" },
        req: UnhandledCountReq,
        resp: UnhandledCountResp,
        since: SincePatch5,
    }
}

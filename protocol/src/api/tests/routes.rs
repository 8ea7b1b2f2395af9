use std::collections::HashSet;

use crate::api::{Access, ApiRoute, Availability, routes};

#[test]
fn paths_are_unique_and_well_formed() {
    let mut seen = HashSet::new();
    for route in routes::all() {
        assert!(seen.insert(route.path), "duplicate path {}", route.path);
        assert!(route.path.starts_with('/'), "{}", route.path);
        assert!(route.path.matches('/').count() >= 2, "{}", route.path);
        assert!(
            !route.path.ends_with('/') && !route.path.contains('?'),
            "{}",
            route.path
        );
        assert!(!route.name.is_empty());
    }
    assert!(seen.len() > 100, "only {} routes", seen.len());
}

#[test]
fn markers_match_the_table() {
    use crate::api::{auth, user};
    assert_eq!(user::UserRegister::PATH, routes::USER_REGISTER);
    assert_eq!(user::UserRegister::NAME, "UserRegister");
    assert_eq!(user::UserRegister::ACCESS, Access::Admin);
    assert_eq!(
        routes::find("/user/user_register"),
        Some(&user::UserRegister::INFO)
    );
    assert_eq!(auth::GetAdminToken::ACCESS, Access::Public);
    assert_eq!(routes::find("/nope"), None);
}

#[test]
fn only_the_two_auth_routes_are_public() {
    let public: Vec<_> = routes::all()
        .filter(|r| r.access == Access::Public)
        .map(|r| r.path)
        .collect();
    assert_eq!(public, ["/auth/get_admin_token", "/auth/parse_token"]);
    for path in public {
        assert!(routes::is_token_exempt(path));
    }
    assert!(!routes::is_token_exempt("/user/get_users_info"));
}

#[test]
fn availability_is_recorded() {
    assert_eq!(
        routes::find("/friend/get_self_unhandled_apply_count")
            .unwrap()
            .availability,
        Availability::SincePatch5
    );
    assert_eq!(
        routes::find("/msg/send_msg").unwrap().availability,
        Availability::Baseline
    );
    assert_eq!(
        routes::find("/msg/send_simple_msg").unwrap().availability,
        Availability::Main
    );
}

#[test]
fn every_js_client_path_is_in_the_table() {
    // CLIENT-SURFACE.md Appendix A (minus the listed-but-unused has-read route, which the server
    // serves under /msg/).
    let client_paths = [
        "/friend/add_friend",
        "/friend/is_friend",
        "/friend/delete_friend",
        "/friend/add_friend_response",
        "/friend/get_friend_list",
        "/friend/get_designated_friends",
        "/friend/get_self_friend_apply_list",
        "/friend/get_friend_apply_list",
        "/friend/update_friends",
        "/friend/add_black",
        "/friend/remove_black",
        "/friend/get_black_list",
        "/friend/get_incremental_friends",
        "/friend/get_full_friend_user_ids",
        "/friend/get_designated_friend_apply",
        "/friend/get_specified_blacks",
        "/group/create_group",
        "/group/join_group",
        "/group/invite_user_to_group",
        "/group/get_joined_group_list",
        "/group/get_groups_info",
        "/group/set_group_info_ex",
        "/group/get_user_req_group_applicationList",
        "/group/get_recv_group_applicationList",
        "/group/group_application_response",
        "/group/get_group_member_list",
        "/group/get_group_members_info",
        "/group/set_group_member_info",
        "/group/kick_group",
        "/group/mute_group_member",
        "/group/cancel_mute_group_member",
        "/group/mute_group",
        "/group/cancel_mute_group",
        "/group/transfer_group",
        "/group/dismiss_group",
        "/group/quit_group",
        "/group/get_incremental_join_groups",
        "/group/get_full_join_group_ids",
        "/group/get_incremental_group_members_batch",
        "/group/get_specified_user_group_request_info",
        "/group/get_full_group_member_user_ids",
        "/user/get_users_info",
        "/user/update_user_info_ex",
        "/user/subscribe_users_status",
        "/user/get_subscribe_users_status",
        "/user/set_global_msg_recv_opt",
        "/msg/revoke_msg",
        "/msg/delete_msgs",
        "/msg/clear_conversation_msg",
        "/msg/user_clear_all_msg",
        "/msg/mark_conversation_as_read",
        "/conversation/set_conversations",
        "/conversation/get_incremental_conversations",
        "/conversation/get_not_notify_conversation_ids",
        "/jssdk/get_active_conversations",
        "/jssdk/get_conversations",
        "/object/part_size",
        "/object/initiate_multipart_upload",
        "/object/complete_multipart_upload",
    ];
    let missing: Vec<_> = client_paths
        .iter()
        .filter(|p| routes::find(p).is_none())
        .collect();
    assert!(missing.is_empty(), "missing routes: {missing:?}");
}

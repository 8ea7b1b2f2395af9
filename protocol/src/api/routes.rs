//! The complete route table and the path constants of every route.
//!
//! ```
//! use openim_protocol::api::{Access, routes};
//!
//! assert_eq!(routes::USER_REGISTER, "/user/user_register");
//! let route = routes::find("/auth/get_admin_token").unwrap();
//! assert_eq!(route.access, Access::Public);
//! ```

use super::RouteInfo;

pub use super::auth::paths::*;
pub use super::conversation::paths::*;
pub use super::friend::paths::*;
pub use super::group::paths::*;
pub use super::jssdk::paths::*;
pub use super::msg::paths::*;
pub use super::third::paths::*;
pub use super::user::paths::*;

/// Every family's route list.
pub const FAMILIES: &[&[RouteInfo]] = &[
    super::auth::ROUTES,
    super::user::ROUTES,
    super::friend::ROUTES,
    super::group::ROUTES,
    super::msg::ROUTES,
    super::conversation::ROUTES,
    super::third::ROUTES,
    super::jssdk::ROUTES,
];

/// Iterates over every route of every family.
pub fn all() -> impl Iterator<Item = &'static RouteInfo> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The route serving `path` (exact match, no query string), if any.
pub fn find(path: &str) -> Option<&'static RouteInfo> {
    all().find(|route| route.path == path)
}

/// True when `path` needs no `token` header: the server matches `/auth/get_admin_token` and
/// `/auth/parse_token` by prefix.
pub fn is_token_exempt(path: &str) -> bool {
    path.starts_with(super::auth::paths::GET_ADMIN_TOKEN)
        || path.starts_with(super::auth::paths::PARSE_TOKEN)
}

/// Calls `visitor` with every route type (tests).
#[cfg(test)]
pub(crate) fn visit_all<V: super::route::RouteVisitor>(visitor: &mut V) {
    super::auth::visit_routes(visitor);
    super::user::visit_routes(visitor);
    super::friend::visit_routes(visitor);
    super::group::visit_routes(visitor);
    super::msg::visit_routes(visitor);
    super::conversation::visit_routes(visitor);
    super::third::visit_routes(visitor);
    super::jssdk::visit_routes(visitor);
}

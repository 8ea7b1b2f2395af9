//! The typed route table: one marker type per route, implementing [`ApiRoute`].

use serde::{Serialize, de::DeserializeOwned};

use super::ApiReply;

/// Who may call a route (http-api.md §2.7, group roles §5.3).
///
/// Where the baseline server skips a check that `[main]` enforces (marked `(¹)` in the spec) the
/// stricter rule is given: a test server should enforce it and a client should comply with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// No `token` header needed (`/auth/get_admin_token`, `/auth/parse_token`).
    Public,
    /// Any valid token.
    Any,
    /// App administrator token only (1002 otherwise).
    Admin,
    /// The named body field must equal the token's userID, or the caller is an app admin
    /// (1002 otherwise).
    ///
    /// `field` is a JSON key, dotted for nested keys (`userInfo.userID`); alternatives are separated
    /// by `|` (`fromUserID|toUserID`: either may be the caller); for a list field (`userIDs`) every
    /// element must be the caller.
    SelfOrAdmin {
        /// JSON path of the field holding the user the call acts for.
        field: &'static str,
    },
    /// A member of the group named in the body, or an app admin.
    GroupMember,
    /// The group owner or a group admin (roleLevel 100/60), or an app admin.
    GroupManager,
    /// The group owner only, or an app admin.
    GroupOwner,
    /// The user named by the body field itself, a manager (owner/admin) of the group in the body,
    /// or an app admin.
    SelfOrGroupManager {
        /// JSON key of the user field.
        field: &'static str,
    },
}

/// Which server versions serve a route (http-api.md §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Availability {
    /// Every v3.8.3 release, including the plain `v3.8.3` tag.
    Baseline,
    /// Since `v3.8.3-patch.5` (absent in plain v3.8.3).
    SincePatch5,
    /// Only on `main` (pre-v3.8.4).
    Main,
}

/// One row of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteInfo {
    /// URL path, e.g. `/user/user_register`.
    pub path: &'static str,
    /// The marker type's name, e.g. `UserRegister`.
    pub name: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Which server versions have it.
    pub availability: Availability,
}

/// A route: its path, access rule and body types. Implemented by one marker type per route
/// (e.g. [`super::user::UserRegister`]), so a client and a server share one table.
pub trait ApiRoute {
    /// URL path (all routes are `POST` with a JSON body).
    const PATH: &'static str;
    /// The marker type's name.
    const NAME: &'static str;
    /// Who may call it.
    const ACCESS: Access;
    /// Which server versions have it.
    const AVAILABILITY: Availability;
    /// The request body.
    type Req: Serialize + DeserializeOwned;
    /// The `data` of a successful reply.
    type Resp: Serialize + DeserializeOwned + Default + ApiReply;
    /// This route as a table row.
    const INFO: RouteInfo = RouteInfo {
        path: Self::PATH,
        name: Self::NAME,
        access: Self::ACCESS,
        availability: Self::AVAILABILITY,
    };
}

/// Something run for every route type (tests use it to check every body type the same way).
#[cfg(test)]
pub(crate) trait RouteVisitor {
    /// Called once per route.
    fn visit<R>(&mut self)
    where
        R: ApiRoute,
        R::Req: PartialEq + std::fmt::Debug + Default + Clone,
        R::Resp: PartialEq + std::fmt::Debug + Clone;
}

/// Declares the marker types of a route family, its `paths` constants and its `ROUTES` slice.
macro_rules! api_routes {
    ($(
        $(#[$doc:meta])*
        $marker:ident {
            path: $konst:ident = $path:literal,
            access: $access:expr,
            req: $req:ty,
            resp: $resp:ty
            $(, since: $since:expr)?
            $(,)?
        }
    )*) => {
        $(
            $(#[$doc])*
            #[doc = concat!("\n\n`POST ", $path, "`")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct $marker;

            impl $crate::api::ApiRoute for $marker {
                const PATH: &'static str = $path;
                const NAME: &'static str = stringify!($marker);
                const ACCESS: $crate::api::Access = {
                    #[allow(unused_imports)]
                    use $crate::api::Access::*;
                    $access
                };
                const AVAILABILITY: $crate::api::Availability = {
                    #[allow(unused_imports)]
                    use $crate::api::Availability::*;
                    #[allow(unused_variables)]
                    let since = Baseline;
                    $(let since = $since;)?
                    since
                };
                type Req = $req;
                type Resp = $resp;
            }
        )*

        /// Path constants of this route family.
        pub mod paths {
            $(
                #[doc = concat!("`", $path, "`")]
                pub const $konst: &str = $path;
            )*
        }

        /// Every route of this family, in declaration order.
        pub const ROUTES: &[$crate::api::RouteInfo] = &[
            $(<$marker as $crate::api::ApiRoute>::INFO,)*
        ];

        /// Calls `visitor` with every route type of this family (tests).
        #[cfg(test)]
        pub(crate) fn visit_routes<V: $crate::api::route::RouteVisitor>(visitor: &mut V) {
            $(visitor.visit::<$marker>();)*
        }
    };
}
pub(crate) use api_routes;

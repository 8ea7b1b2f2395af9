//! Errors: OpenIM error codes carried on the wire ([`ErrorCode`]) and the typed decode
//! errors of this crate ([`ProtocolError`]).

use crate::open_enum::open_enum;

open_enum! {
    /// An OpenIM error code (`errCode` of envelopes, the connect result and HTTP responses).
    ///
    /// Server codes (ws-gateway §8.1/§8.2, http-api §9) and the Go SDK's client-side codes
    /// (§8.3, never on the wire; note 10001..=10014 are also used by the chat app server).
    /// `name()` is the upstream errMsg / constant name. Unknown codes are kept in `Other`.
    pub enum ErrorCode {
        /// 0 success.
        Success = 0 => "Success",
        /// 500 non-coded internal error.
        ServerInternalError = 500 => "ServerInternalError",
        /// 1000 server-internal placeholder.
        UnknownCode = 1000 => "UnknownCode",
        /// 1001 bad arguments.
        ArgsError = 1001 => "ArgsError",
        /// 1002 acting on another user's data.
        NoPermissionError = 1002 => "NoPermissionError",
        /// 1003 duplicate key.
        DuplicateKeyError = 1003 => "DuplicateKeyError",
        /// 1004 record not found.
        RecordNotFoundError = 1004 => "RecordNotFoundError",
        /// 1050 admin secret not changed (server main only).
        SecretNotChangedError = 1050 => "SecretNotChangedError",
        /// 1101 user does not exist.
        UserIdNotFoundError = 1101 => "UserIDNotFoundError",
        /// 1102 already registered.
        RegisteredAlreadyError = 1102 => "RegisteredAlreadyError",
        /// 1201 group does not exist.
        GroupIdNotFoundError = 1201 => "GroupIDNotFoundError",
        /// 1202 group ID already exists.
        GroupIdExisted = 1202 => "GroupIDExisted",
        /// 1203 not a member of the group.
        NotInGroupYetError = 1203 => "NotInGroupYetError",
        /// 1204 group dismissed.
        DismissedAlreadyError = 1204 => "DismissedAlreadyError",
        /// 1205 group type not supported.
        GroupTypeNotSupport = 1205 => "GroupTypeNotSupport",
        /// 1206 group request already handled.
        GroupRequestHandled = 1206 => "GroupRequestHandled",
        /// 1301 cannot add yourself.
        CanNotAddYourselfError = 1301 => "CanNotAddYourselfError",
        /// 1302 the receiver blacklisted the sender.
        BlockedByPeer = 1302 => "BlockedByPeer",
        /// 1303 not friends (friend verification on).
        NotPeersFriend = 1303 => "NotPeersFriend",
        /// 1304 relationship already exists.
        RelationshipAlreadyError = 1304 => "RelationshipAlreadyError",
        /// 1305 friend request already handled (patch.16 / main).
        FriendRequestHandled = 1305 => "FriendRequestHandled",
        /// 1401 has-read disabled.
        MessageHasReadDisable = 1401 => "MessageHasReadDisable",
        /// 1402 the sender is muted in the group.
        MutedInGroup = 1402 => "MutedInGroup",
        /// 1403 the whole group is muted.
        MutedGroup = 1403 => "MutedGroup",
        /// 1404 message already revoked.
        MsgAlreadyRevoke = 1404 => "MsgAlreadyRevoke",
        /// 1501 token expired.
        TokenExpiredError = 1501 => "TokenExpiredError",
        /// 1502 token does not match sendID/platformID.
        TokenInvalidError = 1502 => "TokenInvalidError",
        /// 1503 malformed token.
        TokenMalformedError = 1503 => "TokenMalformedError",
        /// 1504 token not valid yet.
        TokenNotValidYetError = 1504 => "TokenNotValidYetError",
        /// 1505 other token problem (e.g. wrong signature).
        TokenUnknownError = 1505 => "TokenUnknownError",
        /// 1506 token kicked (multi-login / force logout).
        TokenKickedError = 1506 => "TokenKickedError",
        /// 1507 token not registered.
        TokenNotExistError = 1507 => "TokenNotExistError",
        /// 1520 organisation user without permission (newer tools only).
        OrgUserNoPermissionError = 1520 => "OrgUserNoPermissionError",
        /// 1601 gateway full.
        ConnOverMaxNumLimit = 1601 => "ConnOverMaxNumLimit",
        /// 1602 missing/invalid connect query parameters.
        ConnArgsErr = 1602 => "ConnArgsErr",
        /// 1603 internal push error (not sent to clients).
        PushMsgErr = 1603 => "PushMsgErr",
        /// 1604 iOS background push error (not sent to clients).
        IosBackgroundPushErr = 1604 => "IOSBackgroundPushErr",
        /// 1701 uploaded file expired.
        FileUploadedExpiredError = 1701 => "FileUploadedExpiredError",
        /// 10000 (Go SDK) network error.
        SdkNetworkError = 10000 => "NetworkError",
        /// 10001 (Go SDK) request timeout; also the chat server's `FormattingError`.
        SdkNetworkTimeoutError = 10001 => "NetworkTimeoutError",
        /// 10002 (Go SDK) argument error; chat server `HasRegistered`.
        SdkArgsError = 10002 => "ArgsError",
        /// 10003 (Go SDK) context deadline exceeded; chat server `NotRegistered`.
        SdkCtxDeadlineExceededError = 10003 => "CtxDeadlineExceededError",
        /// 10004 (Go SDK) resources not loaded; chat server `PasswordErr`.
        SdkResourceLoadNotCompleteError = 10004 => "ResourceLoadNotCompleteError",
        /// 10005 (Go SDK) unknown code; chat server `GetIMTokenErr`.
        SdkUnknownCode = 10005 => "UnknownCode",
        /// 10006 (Go SDK) internal error; chat server `RepeatSendCode`.
        SdkInternalError = 10006 => "SdkInternalError",
        /// 10007 (Go SDK) nothing to update; chat server `MailSendCodeErr`.
        SdkNoUpdateError = 10007 => "NoUpdateError",
        /// 10008 (Go SDK main) SDK not initialised; chat server `SmsSendCodeErr`.
        SdkNotInitError = 10008 => "SDKNotInitError",
        /// 10009 (Go SDK main) not logged in; chat server `CodeInvalidOrExpired`.
        SdkNotLoginError = 10009 => "SDKNotLoginError",
        /// 10010 (chat server) registration failed.
        ChatRegisterFailed = 10010 => "RegisterFailed",
        /// 10011 (chat server) password reset failed.
        ChatResetPasswordFailed = 10011 => "ResetPasswordFailed",
        /// 10012 (chat server) registration limit exceeded.
        ChatRegisterLimit = 10012 => "RegisterLimit",
        /// 10013 (chat server) login limit exceeded.
        ChatLoginLimit = 10013 => "LoginLimit",
        /// 10014 (chat server) invitation error.
        ChatInvitationError = 10014 => "InvitationError",
        /// 10100 (Go SDK) user not found.
        SdkUserIdNotFoundError = 10100 => "UserIDNotFoundError",
        /// 10101 (Go SDK) logout error.
        SdkLoginOutError = 10101 => "LoginOutError",
        /// 10102 (Go SDK) repeated login.
        SdkLoginRepeatError = 10102 => "LoginRepeatError",
        /// 10200 (Go SDK) file not found.
        SdkFileNotFoundError = 10200 => "FileNotFoundError",
        /// 10201 (Go SDK) decompression error.
        SdkMsgDeCompressionError = 10201 => "MsgDeCompressionError",
        /// 10202 (Go SDK) binary frame decode error.
        SdkMsgDecodeBinaryWsError = 10202 => "MsgDecodeBinaryWsError",
        /// 10203 (Go SDK) unknown reqIdentifier received.
        SdkMsgBinaryTypeNotSupportError = 10203 => "MsgBinaryTypeNotSupportError",
        /// 10204 (Go SDK) repeated message.
        SdkMsgRepeatError = 10204 => "MsgRepeatError",
        /// 10205 (Go SDK) content type not supported.
        SdkMsgContentTypeNotSupportError = 10205 => "MsgContentTypeNotSupportError",
        /// 10206 (Go SDK) message has no seq.
        SdkMsgHasNoSeqError = 10206 => "MsgHasNoSeqError",
        /// 10207 (Go SDK) message deleted.
        SdkMsgHasDeletedError = 10207 => "MsgHasDeletedError",
        /// 10301 (Go SDK) operation not supported.
        SdkNotSupportOptError = 10301 => "NotSupportOptError",
        /// 10302 (Go SDK) type not supported.
        SdkNotSupportTypeError = 10302 => "NotSupportTypeError",
        /// 10303 (Go SDK) unread count error.
        SdkUnreadCountError = 10303 => "UnreadCountError",
        /// 10400 (Go SDK) group not found.
        SdkGroupIdNotFoundError = 10400 => "GroupIDNotFoundError",
        /// 10401 (Go SDK) group type error.
        SdkGroupTypeErr = 10401 => "GroupTypeErr",
        /// 80000 a webhook rejected the operation.
        CallbackError = 80000 => "CallbackError",
        /// 90002 database error.
        DatabaseError = 90002 => "DatabaseError",
        /// 90004 network error.
        NetworkError = 90004 => "NetworkError",
        /// 90007 data error.
        DataError = 90007 => "DataError",
    }
}

impl ErrorCode {
    /// The errMsg the Go server writes for this code (ws-gateway §8; the connect-args error
    /// and 1050 use sentences, 1205 is empty; the SDK-only codes return their names).
    pub fn server_err_msg(self) -> &'static str {
        match self.as_i32() {
            1050 => {
                "secret not changed, please change secret in config/share.yml for security reasons"
            }
            1205 => "",
            1602 => "args err, need token, sendID, platformID",
            1603 => "push msg err",
            1604 => "ios background push err",
            _ => self.name().unwrap_or(""),
        }
    }

    /// Connect errors after which a client must stop reconnecting (1501..=1507).
    pub fn is_fatal_token_error(self) -> bool {
        (1501..=1507).contains(&self.as_i32())
    }
}

/// A decoding or encoding failure of wire data, naming what failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Invalid base64.
    #[error("invalid base64 in {what}: {source}")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
        /// Underlying error.
        #[source]
        source: base64::DecodeError,
    },
    /// gzip (de)compression failed.
    #[error("gzip {operation} failed for {what}: {source}")]
    Gzip {
        /// `"decompression"` or `"compression"`.
        operation: &'static str,
        /// What was being processed.
        what: &'static str,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid or wrongly typed JSON.
    #[error("invalid JSON in {what}: {source}")]
    Json {
        /// What was being decoded.
        what: &'static str,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Invalid protobuf.
    #[error("invalid protobuf for {message}: {source}")]
    Protobuf {
        /// The protobuf message type being decoded.
        message: &'static str,
        /// Underlying error.
        #[source]
        source: prost::DecodeError,
    },
    /// Bytes that must be UTF-8 were not.
    #[error("invalid UTF-8 in {what}: {source}")]
    Utf8 {
        /// What was being decoded.
        what: &'static str,
        /// Underlying error.
        #[source]
        source: std::str::Utf8Error,
    },
    /// A frame or decompressed payload exceeds the allowed size.
    #[error("{what} exceeds {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// A text frame that is neither a heartbeat nor a connect result.
    #[error("unexpected text frame: {reason}")]
    UnexpectedTextFrame {
        /// Why it was rejected.
        reason: String,
    },
    /// A message content (`MsgData.content`) did not match its content type.
    #[error("invalid content for content type {content_type}: {source}")]
    Content {
        /// The content type.
        content_type: i32,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A notification's tips JSON (`detail`) did not match its structure.
    #[error("invalid notification tips {tips} for content type {content_type}: {source}")]
    Tips {
        /// The content type.
        content_type: i32,
        /// The tips structure expected.
        tips: &'static str,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
}

/// Short type name (`MsgData` rather than `openim_protocol::pb::sdkws::MsgData`).
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Decodes a protobuf message, naming the message type on failure.
pub fn decode_message<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, ProtocolError> {
    M::decode(bytes).map_err(|source| ProtocolError::Protobuf {
        message: short_type_name::<M>(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_numbers_and_names() {
        assert_eq!(ErrorCode::from_i32(1302), ErrorCode::BlockedByPeer);
        assert_eq!(ErrorCode::BlockedByPeer.name(), Some("BlockedByPeer"));
        assert_eq!(ErrorCode::TokenKickedError.as_i32(), 1506);
        assert!(ErrorCode::TokenKickedError.is_fatal_token_error());
        assert!(!ErrorCode::ArgsError.is_fatal_token_error());
        let unknown = ErrorCode::from_i32(4242);
        assert_eq!(unknown, ErrorCode::Other(4242));
        assert_eq!(unknown.as_i32(), 4242);
        assert_eq!(unknown.name(), None);
        assert_eq!(ErrorCode::Other(1302), ErrorCode::BlockedByPeer);
        assert_eq!(
            ErrorCode::ConnArgsErr.server_err_msg(),
            "args err, need token, sendID, platformID"
        );
        assert_eq!(ErrorCode::MutedGroup.server_err_msg(), "MutedGroup");
        assert_eq!(ErrorCode::MutedGroup.to_string(), "MutedGroup (1403)");
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_i32(code.as_i32()), *code);
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(short_type_name::<crate::pb::sdkws::MsgData>(), "MsgData");
        assert_eq!(short_type_name::<Vec<u8>>(), "Vec");
    }
}

//! The bad-input catalogue (docs/bad-input.md): malformed input against the sandbox (gateway
//! and HTTP API) and against the client (a session behind a proxy that injects frames, the
//! config loaders). Each test names the input and asserts the typed error or behaviour.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use futures::{SinkExt, StreamExt};
use openim_bot::event::Event;
use openim_bot::{Session, SessionConfig, SessionError};
use openim_protocol::pb::sdkws::{GetMaxSeqReq, MsgData, PullMsgs, PushMessages};
use openim_sandbox::Sandbox;
use prost::Message as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PLATFORM: i32 = 5;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// A raw JS-style gateway connection (isMsgResp) for `user`; returns the socket after the
/// connect answer, or the answer's errCode when refused.
async fn raw_connect(sb: &Sandbox, user: &str, token: &str, gzip: bool) -> Result<Ws, i64> {
    let mut url = format!(
        "{}/?sendID={user}&token={token}&platformID={PLATFORM}&operationID=op&isMsgResp=true&sdkType=js",
        sb.ws_url()
    );
    if gzip {
        url.push_str("&compression=gzip");
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket upgrade");
    let first = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("connect answer in time")
        .expect("a frame")
        .expect("frame ok");
    let WsMessage::Text(t) = first else {
        panic!("expected the text connect answer, got {first:?}")
    };
    let v: Value = serde_json::from_str(t.as_str()).expect("connect answer is JSON");
    match v["errCode"].as_i64().unwrap_or(-1) {
        0 => Ok(ws),
        code => Err(code),
    }
}

/// The next binary frame's envelope, or `None` when the server closed the connection.
async fn next_envelope(ws: &mut Ws, gz: bool) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the server answers or closes in time");
        match frame {
            None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return None,
            Some(Ok(WsMessage::Binary(b))) => {
                let raw = if gz {
                    use std::io::Read;
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&b[..])
                        .read_to_end(&mut out)
                        .expect("server gzip");
                    out
                } else {
                    b.to_vec()
                };
                return Some(serde_json::from_slice(&raw).expect("server envelope is JSON"));
            }
            Some(Ok(_)) => continue,
        }
    }
}

fn envelope(req: i32, send_id: &str, data: &str) -> Vec<u8> {
    json!({"reqIdentifier": req, "token": "", "sendID": send_id, "operationID": "op1",
           "msgIncr": "m1", "data": data})
    .to_string()
    .into_bytes()
}

fn valid_1001(user: &str) -> Vec<u8> {
    envelope(
        1001,
        user,
        &b64(&GetMaxSeqReq {
            user_id: user.into(),
        }
        .encode_to_vec()),
    )
}

struct Gw {
    sb: std::sync::Arc<Sandbox>,
    token: String,
}

async fn gateway_setup(user: &str) -> Gw {
    let sb = sandbox().await;
    sb.register_user(user, user).await.expect("register");
    sb.register_user("victim", "victim")
        .await
        .expect("register");
    let token = sb.user_token(user, PLATFORM).await.expect("token");
    Gw { sb, token }
}

/// Sends `frame` on a fresh connection and reports whether the server closed it (true) or
/// answered (the envelope).
async fn gateway_try(gw: &Gw, user: &str, frame: WsMessage, gz: bool) -> Option<Value> {
    let mut ws = raw_connect(&gw.sb, user, &gw.token, gz)
        .await
        .expect("connected");
    ws.send(frame).await.expect("frame sent");
    next_envelope(&mut ws, gz).await
}

#[tokio::test]
async fn sandbox_gateway_closes_the_connection_on_malformed_envelopes() {
    let user = "gwuser";
    let gw = gateway_setup(user).await;
    let cases: Vec<(&str, WsMessage, bool)> = vec![
        (
            "non-JSON binary frame",
            WsMessage::Binary(b"hello, not json".to_vec().into()),
            false,
        ),
        (
            "wrong JSON types (reqIdentifier as a string)",
            WsMessage::Binary(
                json!({"reqIdentifier": "1001", "sendID": user, "msgIncr": 1})
                    .to_string()
                    .into_bytes()
                    .into(),
            ),
            false,
        ),
        (
            "invalid base64 in data",
            WsMessage::Binary(envelope(1001, user, "!!!not base64!!!").into()),
            false,
        ),
        (
            "gzip garbage on a compression=gzip connection",
            WsMessage::Binary(vec![0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5].into()),
            true,
        ),
        (
            "plain JSON on a compression=gzip connection",
            WsMessage::Binary(valid_1001(user).into()),
            true,
        ),
        (
            "unknown reqIdentifier 9999",
            WsMessage::Binary(envelope(9999, user, "").into()),
            false,
        ),
        (
            "sendID impersonation in the envelope",
            WsMessage::Binary(valid_1001("victim").into()),
            false,
        ),
        (
            "unknown text frame",
            WsMessage::Text(r#"{"type":"hello"}"#.into()),
            false,
        ),
        (
            "oversized frame (60 KB > 51,200 bytes)",
            WsMessage::Binary(envelope(1001, user, &"A".repeat(60 * 1024)).into()),
            false,
        ),
    ];
    for (what, frame, gz) in cases {
        let answer = gateway_try(&gw, user, frame, gz).await;
        assert!(
            answer.is_none(),
            "{what}: expected the connection to be closed, got {answer:?}"
        );
        println!("BAD-INPUT sandbox gateway: {what} -> connection closed");
    }
    // The server is still fine: a valid request on a new connection is answered.
    let answer = gateway_try(&gw, user, WsMessage::Binary(valid_1001(user).into()), false)
        .await
        .expect("valid 1001 answered");
    assert_eq!(answer["errCode"], 0);
    shutdown(gw.sb).await;
}

#[tokio::test]
async fn sandbox_gateway_answers_bad_payloads_with_typed_errors() {
    let user = "gwuser2";
    let gw = gateway_setup(user).await;
    // Truncated protobuf: a length-delimited field announcing 100 bytes, 3 present.
    let truncated = b64(&[0x0a, 100, b'a', b'b', b'c']);
    let answer = gateway_try(
        &gw,
        user,
        WsMessage::Binary(envelope(1001, user, &truncated).into()),
        false,
    )
    .await
    .expect("truncated protobuf is answered");
    println!(
        "BAD-INPUT sandbox gateway: truncated protobuf in 1001 -> errCode {} {}",
        answer["errCode"], answer["errMsg"]
    );
    assert_eq!(answer["errCode"], 500);
    assert_eq!(answer["msgIncr"], "m1", "the error answers the request");

    // 1003 whose MsgData claims another sender.
    let msg = MsgData {
        send_id: "victim".into(),
        recv_id: user.into(),
        client_msg_id: "cm-imp".into(),
        sender_platform_id: PLATFORM,
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: br#"{"content":"I am the victim"}"#.to_vec(),
        create_time: 1,
        ..Default::default()
    };
    let answer = gateway_try(
        &gw,
        user,
        WsMessage::Binary(envelope(1003, user, &b64(&msg.encode_to_vec())).into()),
        false,
    )
    .await
    .expect("impersonating 1003 answered");
    println!(
        "BAD-INPUT sandbox gateway: 1003 with MsgData.sendID of another user -> errCode {} {}",
        answer["errCode"], answer["errMsg"]
    );
    assert_eq!(answer["errCode"], 1002, "NoPermissionError");
    shutdown(gw.sb).await;
}

#[tokio::test]
async fn sandbox_gateway_refuses_bad_tokens_at_connect() {
    let user = "gwuser3";
    let gw = gateway_setup(user).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let cases = [
        ("not a JWT", "garbage".to_owned(), 1503),
        (
            "signed with another secret",
            openim_sandbox::token::mint("not-the-secret", user, PLATFORM, now, 3600),
            1505,
        ),
        (
            "expired (exp in the past)",
            openim_sandbox::token::mint(gw.sb.secret(), user, PLATFORM, now - 7200, 3600),
            1501,
        ),
        (
            "well-signed but never issued",
            openim_sandbox::token::mint(gw.sb.secret(), user, PLATFORM, now - 60, 3600),
            1507,
        ),
        (
            "another user's token",
            gw.sb.user_token("victim", PLATFORM).await.expect("token"),
            1502,
        ),
    ];
    for (what, token, code) in cases {
        let r = raw_connect(&gw.sb, user, &token, false).await;
        let got = r.err();
        println!("BAD-INPUT sandbox gateway connect: token {what} -> errCode {got:?}");
        assert_eq!(got, Some(code), "{what}");
    }
    shutdown(gw.sb).await;
}

// ------------------------------------------------------------------------------------------
// Sandbox HTTP API

async fn post(sb: &Sandbox, route: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{}", sb.api_url(), route))
        .header("operationID", "op-bad-input")
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.header("token", t);
    }
    let resp = req.send().await.expect("HTTP answer");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn sandbox_http_rejects_malformed_bodies_bad_tokens_and_privilege_escalation() {
    let sb = sandbox().await;
    sb.register_user("hu1", "hu1").await.expect("register");
    sb.register_user("hu2", "hu2").await.expect("register");
    let admin = sb.admin_token().await.expect("admin");
    let user = sb.user_token("hu1", PLATFORM).await.expect("token");
    let info = json!({"userIDs": ["hu1"]}).to_string().into_bytes();
    let route = "/user/get_users_info";
    // (what, route, token, body, expected errCode)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>, i64);
    let cases: Vec<Case> = vec![
        (
            "non-JSON body",
            route,
            Some(&user),
            b"this is not json".to_vec(),
            1001,
        ),
        ("empty body", route, Some(&user), Vec::new(), 1001),
        (
            "wrong JSON types (userIDs is a string)",
            route,
            Some(&user),
            br#"{"userIDs": "hu1"}"#.to_vec(),
            1001,
        ),
        ("missing token header", route, None, info.clone(), 1001),
        (
            "token not a JWT",
            route,
            Some("garbage"),
            info.clone(),
            1503,
        ),
        (
            "non-admin on an admin route (user_register)",
            "/user/user_register",
            Some(&user),
            json!({"users": [{"userID": "evil", "nickname": "e", "faceURL": ""}]})
                .to_string()
                .into_bytes(),
            1002,
        ),
        (
            "non-admin minting a token for another user",
            "/auth/get_user_token",
            Some(&user),
            json!({"userID": "hu2", "platformID": 5})
                .to_string()
                .into_bytes(),
            1002,
        ),
        (
            "sendID impersonation on /msg/send_msg",
            "/msg/send_msg",
            Some(&user),
            json!({"sendID": "hu2", "recvID": "hu1", "sessionType": 1, "contentType": 101,
                   "content": {"content": "spoofed"}, "senderNickname": "hu2"})
            .to_string()
            .into_bytes(),
            1002,
        ),
        (
            "wrong admin secret",
            "/auth/get_admin_token",
            None,
            json!({"secret": "wrong", "userID": "imAdmin"})
                .to_string()
                .into_bytes(),
            1002,
        ),
    ];
    for (what, route, token, body, code) in cases {
        let (status, v) = post(&sb, route, token, body).await;
        println!(
            "BAD-INPUT sandbox HTTP: {what} ({route}) -> HTTP {status} errCode {} {}",
            v["errCode"], v["errDlt"]
        );
        assert_eq!(v["errCode"], code, "{what}: {v}");
    }
    // Oversized body: refused before parsing.
    let big = format!(r#"{{"userIDs": ["{}"]}}"#, "x".repeat(3 * 1024 * 1024));
    let (status, _) = post(&sb, route, Some(&user), big.into_bytes()).await;
    println!("BAD-INPUT sandbox HTTP: 3 MiB body -> HTTP {status}");
    assert_eq!(status, 413, "payload too large");
    // And the admin path still works.
    let (_, v) = post(&sb, route, Some(&admin), info).await;
    assert_eq!(v["errCode"], 0);
    shutdown(sb).await;
}

// ------------------------------------------------------------------------------------------
// Client: frames injected into a running session

struct Client {
    sb: std::sync::Arc<Sandbox>,
    admin: String,
    proxy: WsProxy,
    session: Session,
    _dir: tempfile::TempDir,
    sent: usize,
}

impl Client {
    async fn start(bot: &str) -> Client {
        let sb = sandbox().await;
        let admin = sb.admin_token().await.expect("admin");
        register(&sb, &admin, &[bot.to_owned(), "peer".to_owned()]).await;
        let proxy = WsProxy::start(&sb.ws_url()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let session = start_session(config(
            &sb.api_url(),
            proxy.url(),
            bot,
            sb.secret(),
            dir.path(),
        ))
        .await;
        Client {
            sb,
            admin,
            proxy,
            session,
            _dir: dir,
            sent: 0,
        }
    }

    /// A real message from `peer` still arrives exactly once, in order, after the bad input.
    async fn still_delivers(&mut self, bot: &str) {
        let text = format!("peer:{}", self.sent);
        self.sent += 1;
        send(&self.sb, &self.admin, "peer", bot, &text).await;
        let got = wait_for(
            &mut self.session,
            &text,
            |e| matches!(e, Event::NewMessage(m) if m.send_id == "peer"),
        )
        .await;
        let Event::NewMessage(m) = got else {
            unreachable!()
        };
        assert_eq!(
            m.text(),
            Some(text.as_str()),
            "next message, in order, once"
        );
    }
}

fn push_frame(conv: &str, msg: MsgData) -> Vec<u8> {
    let mut push = PushMessages::default();
    push.msgs.insert(
        conv.to_owned(),
        PullMsgs {
            msgs: vec![msg],
            ..Default::default()
        },
    );
    json!({"reqIdentifier": 2001, "msgIncr": "", "operationID": "inj", "errCode": 0,
           "errMsg": "", "data": b64(&push.encode_to_vec())})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn client_ignores_malformed_frames_and_keeps_delivering() {
    let bot = "cbot";
    let mut c = Client::start(bot).await;
    c.still_delivers(bot).await;
    let push_json = |data: &str| {
        json!({"reqIdentifier": 2001, "msgIncr": "", "operationID": "inj", "errCode": 0,
               "errMsg": "", "data": data})
        .to_string()
        .into_bytes()
    };
    let cases: Vec<(&str, WsMessage)> = vec![
        (
            "non-JSON binary frame",
            WsMessage::Binary(b"\x00\x01garbage".to_vec().into()),
        ),
        (
            "gzip garbage",
            WsMessage::Binary(vec![0x1f, 0x8b, 8, 0, 9, 9, 9].into()),
        ),
        (
            "wrong JSON types",
            WsMessage::Binary(br#"{"reqIdentifier":"2001","data":7}"#.to_vec().into()),
        ),
        (
            "push with invalid base64",
            WsMessage::Binary(push_json("%%%").into()),
        ),
        (
            "push with truncated protobuf",
            WsMessage::Binary(push_json(&b64(&[0x0a, 0x7f, 0x0a])).into()),
        ),
        (
            "response for an unknown request (reqIdentifier 9999, unknown msgIncr)",
            WsMessage::Binary(
                br#"{"reqIdentifier":9999,"msgIncr":"nobody","errCode":0,"data":null}"#
                    .to_vec()
                    .into(),
            ),
        ),
        ("non-JSON text frame", WsMessage::Text("}{".into())),
        (
            "valid gzip of 1 KiB of zero bytes (not JSON)",
            WsMessage::Binary(gzip(&[0u8; 1024]).into()),
        ),
    ];
    for (what, frame) in cases {
        assert_eq!(c.proxy.inject(frame), 1, "{what}: injected");
        c.still_delivers(bot).await;
        println!("BAD-INPUT client: {what} -> ignored, session keeps delivering");
    }
    // Counted by the sandbox at each upgrade request (the proxy dials once per client dial).
    let attempts = c.sb.faults().ws_connect_attempts(bot);
    assert_eq!(attempts, 1, "none of these forced a reconnect");
    c.session.shutdown().await.expect("shutdown");
    drop(c.proxy);
    shutdown(c.sb).await;
}

#[tokio::test]
async fn client_keeps_unknown_and_undecodable_content_raw() {
    let bot = "ubot";
    let mut c = Client::start(bot).await;
    // A conversation of its own (seq 1), so the injected items do not collide with real seqs.
    let cases = [
        (
            "unknown content type 9999",
            "si_ghost1_ubot",
            9999,
            b"\xff\x00raw".to_vec(),
        ),
        (
            "text (101) whose content is not JSON",
            "si_ghost2_ubot",
            101,
            b"not json".to_vec(),
        ),
    ];
    for (what, conv, ct, content) in cases {
        let msg = MsgData {
            send_id: conv.split('_').nth(1).unwrap_or_default().to_owned(),
            recv_id: bot.into(),
            client_msg_id: format!("inj-{ct}"),
            server_msg_id: format!("srv-{ct}"),
            session_type: 1,
            msg_from: 100,
            content_type: ct,
            content,
            seq: 1,
            send_time: i64::MAX / 2,
            create_time: 1,
            ..Default::default()
        };
        assert_eq!(
            c.proxy
                .inject(WsMessage::Binary(push_frame(conv, msg).into())),
            1
        );
        let got = wait_for(
            &mut c.session,
            what,
            |e| matches!(e, Event::NewMessage(m) if m.conversation_id == conv),
        )
        .await;
        let Event::NewMessage(m) = got else {
            unreachable!()
        };
        println!(
            "BAD-INPUT client: {what} -> NewMessage content_type={} content={:?}",
            m.content_type, m.content
        );
        assert_eq!(m.content_type, ct);
        assert_eq!(m.text(), None, "no text invented");
    }
    c.still_delivers(bot).await;
    c.session.shutdown().await.expect("shutdown");
    drop(c.proxy);
    shutdown(c.sb).await;
}

#[tokio::test]
async fn client_survives_an_oversized_frame_by_reconnecting() {
    let bot = "obot";
    let mut c = Client::start(bot).await;
    c.still_delivers(bot).await;
    // 17 MiB: above tungstenite's 16 MiB frame limit on the client.
    let huge = vec![b'x'; 17 * 1024 * 1024];
    assert_eq!(c.proxy.inject(WsMessage::Binary(huge.into())), 1);
    wait_for(
        &mut c.session,
        "reconnect after the oversized frame",
        |e| matches!(e, Event::ConnectSuccess(s) if s.reconnect),
    )
    .await;
    c.still_delivers(bot).await;
    println!(
        "BAD-INPUT client: 17 MiB frame -> connection dropped, reconnected (attempts={}), nothing lost",
        c.sb.faults().ws_connect_attempts(bot)
    );
    assert_eq!(c.sb.faults().ws_connect_attempts(bot), 2);
    c.session.shutdown().await.expect("shutdown");
    drop(c.proxy);
    shutdown(c.sb).await;
}

#[tokio::test]
async fn client_reports_bad_credentials_as_typed_errors() {
    let sb = sandbox().await;
    sb.register_user("credbot", "credbot")
        .await
        .expect("register");
    let dir = tempfile::tempdir().expect("tempdir");
    // Wrong admin secret: start fails with a login error.
    let cfg = SessionConfig::with_secret(
        sb.api_url(),
        sb.ws_url(),
        dir.path().join("a"),
        "credbot",
        "wrong-secret",
    );
    let err = Session::start(cfg).await.expect_err("wrong secret refused");
    println!("BAD-INPUT client: wrong admin secret -> {err}");
    assert!(matches!(err, SessionError::Login(_)), "{err:?}");
    // A garbage user token: the gateway refuses it (1503), the session reports it and ends.
    let cfg = SessionConfig::with_token(
        sb.api_url(),
        sb.ws_url(),
        dir.path().join("b"),
        "credbot",
        "not-a-jwt",
    );
    let mut s = Session::start(cfg)
        .await
        .expect("token sessions start offline");
    let mut invalid = None;
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(d) = s.next().await {
            if let Event::UserTokenInvalid(e) = &d.event {
                invalid = Some((e.err_code, e.renewed));
            }
            d.ack.ack();
        }
    })
    .await;
    println!("BAD-INPUT client: garbage user token -> UserTokenInvalid {invalid:?}, session ended");
    assert!(ended.is_ok(), "the session ends");
    assert_eq!(invalid, Some((1503, false)));
    // An unreachable server: typed error, no panic.
    let cfg = SessionConfig::with_secret(
        "http://127.0.0.1:9",
        "ws://127.0.0.1:9",
        dir.path().join("c"),
        "credbot",
        "x",
    );
    let err = tokio::time::timeout(Duration::from_secs(30), Session::start(cfg))
        .await
        .expect("fails in time")
        .expect_err("no server");
    println!("BAD-INPUT client: unreachable API -> {err}");
    assert!(matches!(err, SessionError::Login(_)), "{err:?}");
    shutdown(sb).await;
}

#[test]
fn bad_session_config_is_a_typed_error() {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    use openim_bot::ConfigError;
    let base = "api_addr='http://h:10002'\nws_addr='ws://h:10001'\nuser_id='bot'\n";
    let cases = [
        (
            "missing api_addr",
            "ws_addr='ws://h'\nuser_id='b'\ntoken='t'".to_owned(),
            "invalid",
        ),
        (
            "api_addr without scheme",
            base.replace("http://", "") + "token='t'",
            "invalid",
        ),
        (
            "ws_addr with http scheme",
            base.replace("ws://", "http://") + "token='t'",
            "invalid",
        ),
        ("no token and no secret", base.to_owned(), "invalid"),
        (
            "platform out of range",
            format!("{base}token='t'\nplatform=99"),
            "invalid",
        ),
        (
            "platform of the wrong type",
            format!("{base}token='t'\nplatform='web'"),
            "figment",
        ),
        ("not TOML at all", "api_addr = = =".to_owned(), "figment"),
        (
            "channel_capacity negative",
            format!("{base}token='t'\nchannel_capacity=-1"),
            "figment",
        ),
    ];
    for (what, text, kind) in cases {
        let r = SessionConfig::from_figment(Figment::new().merge(Toml::string(&text)));
        let err = r.expect_err(what);
        println!("BAD-INPUT session config: {what} -> {err}");
        match kind {
            "invalid" => assert!(matches!(err, ConfigError::Invalid(_)), "{what}: {err:?}"),
            _ => assert!(matches!(err, ConfigError::Figment(_)), "{what}: {err:?}"),
        }
    }
}

#[test]
fn bad_bots_config_names_the_key() {
    use openim_bots::config::Config;
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bots/bots.example.toml"
    ))
    .expect("example config");
    assert!(
        Config::from_toml_and_env(&example, "bots.example.toml", Vec::new()).is_ok(),
        "the example config loads"
    );
    let no_env = Vec::<(String, String)>::new;
    // (what, TOML text, environment)
    type Case<'a> = (&'a str, String, Vec<(String, String)>);
    let cases: Vec<Case> = vec![
        ("not TOML", "[server\napi_addr = ".to_owned(), no_env()),
        (
            "platform of the wrong type",
            example.replace("platform = 7", "platform = \"linux\""),
            no_env(),
        ),
        (
            "platform env override not a number",
            example.clone(),
            vec![("OPENIM_PLATFORM".to_owned(), "web".to_owned())],
        ),
        (
            "duration that is not a duration",
            example.replace("mute_duration = \"10m\"", "mute_duration = \"soon\""),
            no_env(),
        ),
    ];
    for (what, text, env) in cases {
        let err = Config::from_toml_and_env(&text, "bad.toml", env).expect_err(what);
        println!(
            "BAD-INPUT bots config: {what} -> key {:?}: {err}",
            err.key()
        );
        assert!(err.key().is_some(), "{what}: the error names a key");
    }
    // A broken regex is refused at load time, naming the list element.
    let text = example.replace(
        r#"banned_words = ["(?i)\\b(viagra|casino)\\b", "(?i)buy followers"]"#,
        r#"banned_words = ["(unclosed"]"#,
    );
    assert_ne!(text, example, "the test edits the moderator's patterns");
    let err = Config::from_toml_and_env(&text, "bad.toml", Vec::new()).expect_err("broken regex");
    println!(
        "BAD-INPUT bots config: broken regex in banned_words -> key {:?}",
        err.key()
    );
    assert_eq!(err.key(), Some("bots.moderator.banned_words[0]"));
}

// ------------------------------------------------------------------------------------------
// Client — hostile HTTP answers

/// How a hostile HTTP server answers every request.
#[derive(Clone, Copy, Debug)]
enum HostileBody {
    /// `Transfer-Encoding: chunked`, JSON whitespace forever (until the client hangs up).
    Endless,
    /// `Content-Length: 10 GiB` announced, then whitespace until the client hangs up.
    HugeDeclared,
}

/// Serves one request on `listener` with `body`; returns the body bytes it managed to write
/// before the client hung up.
async fn hostile_http_server(listener: tokio::net::TcpListener, body: HostileBody) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok((mut tcp, _)) = listener.accept().await else {
        return 0;
    };
    // Read the request head (the body is small JSON; its bytes do not matter).
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return 0,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let headers = match body {
        HostileBody::Endless => {
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_owned()
        }
        HostileBody::HugeDeclared => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            10u64 << 30
        ),
    };
    if tcp.write_all(headers.as_bytes()).await.is_err() {
        return 0;
    }
    let chunk = vec![b' '; 64 * 1024];
    let framed = {
        let mut f = format!("{:x}\r\n", chunk.len()).into_bytes();
        f.extend_from_slice(&chunk);
        f.extend_from_slice(b"\r\n");
        f
    };
    let mut written = 0u64;
    loop {
        let piece = match body {
            HostileBody::Endless => &framed,
            HostileBody::HugeDeclared => &chunk,
        };
        if tcp.write_all(piece).await.is_err() {
            return written;
        }
        written += chunk.len() as u64;
        if written > 1 << 30 {
            return written; // the client never stopped: the test fails on the figure
        }
    }
}

#[tokio::test]
async fn client_refuses_oversized_http_answers_with_a_typed_error() {
    use openim_bot::api::{ApiClient, ApiError, MAX_RESPONSE_BYTES};
    for body in [HostileBody::Endless, HostileBody::HugeDeclared] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(hostile_http_server(listener, body));
        let api = ApiClient::new(&format!("http://{addr}"));
        api.set_token("t");
        let r = tokio::time::timeout(
            WAIT,
            api.call::<_, Value>("/user/get_users_info", &json!({"userIDs": ["u"]})),
        )
        .await
        .expect("the call ends in time");
        let err = r.expect_err("an oversized answer is refused");
        drop(api);
        let written = tokio::time::timeout(WAIT, server)
            .await
            .expect("server ends once the client hangs up")
            .expect("server task");
        println!(
            "BAD-INPUT client HTTP answer {body:?} -> {err} (server wrote {:.1} MiB before the \
             client hung up; limit {} MiB)",
            written as f64 / (1 << 20) as f64,
            MAX_RESPONSE_BYTES >> 20
        );
        match &err {
            ApiError::TooLarge { route, limit } => {
                assert_eq!(route, "/user/get_users_info");
                assert_eq!(*limit, MAX_RESPONSE_BYTES);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(err.to_string().contains("larger than"), "{err}");
        // The client read at most the limit: what the server got out is bounded by it plus
        // the socket buffers.
        assert!(
            written < (MAX_RESPONSE_BYTES as u64) + (16 << 20),
            "the client kept reading: {written} bytes"
        );
    }
}

#[tokio::test]
async fn sandbox_refuses_an_oversized_webhook_answer() {
    init_logs();
    for body in [HostileBody::Endless, HostileBody::HugeDeclared] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hook = tokio::spawn(hostile_http_server(listener, body));
        let sb = Sandbox::start(
            openim_sandbox::SandboxConfig::default().webhook_url(format!("http://{addr}")),
        )
        .await
        .expect("sandbox");
        // Registering a user goes through callbackBeforeUserRegisterCommand.
        let r = tokio::time::timeout(WAIT, sb.register_user("wa", "wa"))
            .await
            .expect("answer in time");
        let written = tokio::time::timeout(WAIT, hook)
            .await
            .expect("hook ends once the sandbox hangs up")
            .expect("hook task");
        let err = r.expect_err("the oversized webhook answer fails the call");
        println!(
            "BAD-INPUT sandbox webhook answer {body:?} -> {err} (hook wrote {:.1} MiB)",
            written as f64 / (1 << 20) as f64
        );
        assert!(err.to_string().contains("90007"), "{err}");
        assert!(err.to_string().contains("larger than"), "{err}");
        assert!(
            written < 32 << 20,
            "the sandbox kept reading: {written} bytes"
        );
        sb.admin_token().await.expect("the sandbox keeps serving");
        sb.shutdown().await;
    }
}

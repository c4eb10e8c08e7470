//! OAuth2 test servers, run as threads of the test process on 127.0.0.1:
//!
//! - [`TokenServer`]: an authorization server speaking HTTP/1.1 with the device authorization
//!   grant (RFC 8628), the authorization code grant with PKCE S256 (RFC 6749 §4.1, RFC 7636) and
//!   refresh tokens (RFC 6749 §6), strict about what clients send, recording every request.
//! - [`oauth_smtp`]: the scripted SMTP server (`testkit::smtp`) as an OAuth2 relay (implicit TLS
//!   or STARTTLS, the test relay's certificate) that checks XOAUTH2 and OAUTHBEARER (RFC 7628)
//!   logins against the access tokens the token server issued, and records every protocol
//!   violation of the client.
//!
//! Every socket has a read and write timeout of a few seconds, so nothing waits forever.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use testkit::smtp::{Auth, Script, Server, Tls};

/// How long a socket of these servers waits for the peer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request line or header line accepted.
const MAX_LINE: u64 = 16 * 1024;
/// The largest HTTP request body accepted.
const MAX_BODY: usize = 64 * 1024;
/// The `grant_type` of the device authorization grant (RFC 8628 §3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long a device code stays usable, in seconds.
const DEVICE_LIFETIME: u64 = 600;

/// How the token server behaves.
#[derive(Debug, Clone)]
pub struct TokenOptions {
    /// The only client the server knows.
    pub client_id: String,
    /// When set, `/token` requires this secret (`client_secret` form field or HTTP Basic).
    pub client_secret: Option<String>,
    /// The scope returned in token responses.
    pub scope: String,
    /// `expires_in` of access tokens, in seconds; the SMTP server refuses them afterwards.
    pub access_lifetime: u64,
    /// A refresh grant returns a new refresh token and invalidates the one it used.
    pub rotate_refresh: bool,
    /// Polls of a device code answered `authorization_pending` before the user approves.
    pub device_pending_polls: u32,
    /// The first poll of each device code is answered `slow_down`.
    pub slow_down_once: bool,
    /// A pause before each `/token` request is answered.
    pub token_delay: Duration,
    /// The account the tokens are for, as introspection reports it.
    pub subject: String,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            client_id: "relayctl-test-client".into(),
            client_secret: None,
            scope: "https://mail.test/smtp offline_access".into(),
            access_lifetime: 3600,
            rotate_refresh: false,
            device_pending_polls: 2,
            slow_down_once: false,
            token_delay: Duration::ZERO,
            subject: "jdoe@mail.test".into(),
        }
    }
}

/// One HTTP request the token server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The query pairs of a GET, the form-encoded body pairs of a POST.
    pub form: Vec<(String, String)>,
    /// The client id and secret of an `Authorization: Basic` header, form-decoded.
    pub basic_auth: Option<(String, String)>,
    pub at: Instant,
}

impl Request {
    /// The value of a form field (an empty value counts as absent, RFC 6749 §3.1).
    pub fn field(&self, name: &str) -> Option<&str> {
        param(&self.form, name)
    }
}

/// A device code waiting for the simulated user.
struct Device {
    expires: Instant,
    polls: u32,
}

/// An authorization code issued by `/authorize`.
struct Code {
    redirect_uri: String,
    challenge: String,
}

/// What the token server knows; shared with the SMTP servers that check its access tokens.
#[derive(Default)]
struct Tokens {
    requests: Vec<Request>,
    /// Valid access tokens and when they expire (`None`: never within this test).
    access: HashMap<String, Option<Instant>>,
    refresh: HashSet<String>,
    last_refresh: Option<String>,
    refresh_grants: usize,
    devices: HashMap<String, Device>,
    deny_devices: bool,
    codes: HashMap<String, Code>,
}

struct TokenShared {
    opts: TokenOptions,
    /// `http://127.0.0.1:PORT`.
    base: String,
    state: Mutex<Tokens>,
}

/// Accepts connections on `listener` in a thread of its own and hands each to `serve` in
/// another.
pub fn serve_each(listener: TcpListener, serve: impl Fn(TcpStream) + Clone + Send + 'static) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
}

/// A local OAuth2 authorization server: `POST /device`, `POST /token`, `GET /authorize`,
/// `GET /activate` and `POST /introspect`, one thread per connection, one request per connection.
pub struct TokenServer {
    pub port: u16,
    shared: Arc<TokenShared>,
}

impl TokenServer {
    pub fn start(opts: TokenOptions) -> TokenServer {
        TokenServer::start_on(0, opts)
    }

    /// The server on a fixed port (0: any free one), for peers configured in advance: the
    /// Postfix relay's Dovecot introspects tokens at port 2590.
    pub fn start_on(port: u16, opts: TokenOptions) -> TokenServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("token server cannot listen");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(TokenShared {
            opts,
            base: format!("http://127.0.0.1:{port}"),
            state: Mutex::new(Tokens::default()),
        });
        let server = shared.clone();
        serve_each(listener, move |stream| {
            let _ = server.serve(stream);
        });
        TokenServer { port, shared }
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// When each device-code poll arrived (before any `token_delay`).
    pub fn device_polls(&self) -> Vec<Instant> {
        self.token_requests(DEVICE_GRANT)
            .iter()
            .map(|r| r.at)
            .collect()
    }

    /// How many `/token` requests had this `grant_type`, answered successfully or not.
    pub fn grants(&self, grant_type: &str) -> usize {
        self.token_requests(grant_type).len()
    }

    /// How many refresh_token grants succeeded.
    pub fn refresh_grants(&self) -> usize {
        self.state().refresh_grants
    }

    /// Every refresh token issued so far becomes invalid (access tokens stay valid).
    pub fn revoke_refresh_tokens(&self) {
        self.state().refresh.clear();
    }

    /// Every access token issued so far stops being accepted, as if the server's clock were
    /// ahead of the client's.
    pub fn invalidate_access_tokens(&self) {
        self.state().access.clear();
    }

    /// From now on, device codes not yet approved are answered `access_denied`.
    pub fn deny_device(&self) {
        self.state().deny_devices = true;
    }

    pub fn is_valid_access_token(&self, token: &str) -> bool {
        self.shared.is_valid_access_token(token)
    }

    /// A new valid refresh token, as if a sign-in had happened (for pre-seeded secrets).
    pub fn issue_refresh_token(&self) -> String {
        self.state().new_refresh_token()
    }

    /// The refresh token issued last (by a grant or [`TokenServer::issue_refresh_token`]).
    pub fn last_refresh_token(&self) -> Option<String> {
        self.state().last_refresh.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.shared.state.lock().unwrap()
    }

    fn token_requests(&self, grant_type: &str) -> Vec<Request> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/token")
            .filter(|r| r.field("grant_type") == Some(grant_type))
            .cloned()
            .collect()
    }
}

impl Tokens {
    fn new_refresh_token(&mut self) -> String {
        let token = format!("rt-{}", random_alnum(32));
        self.refresh.insert(token.clone());
        self.last_refresh = Some(token.clone());
        token
    }
}

/// An HTTP request as read from the socket.
struct RawRequest {
    method: String,
    target: String,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.to_string(),
        }
    }

    /// An OAuth2 error response (RFC 6749 §5.2).
    fn error(status: u16, error: &str, description: &str) -> Reply {
        let mut reply = Reply::json(
            status,
            json!({"error": error, "error_description": description}),
        );
        if status == 401 {
            reply
                .headers
                .push(("WWW-Authenticate", "Basic realm=\"oauth.test\"".into()));
        }
        reply
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            302 => "Found",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Unknown",
        };
        let mut head = vec![format!("HTTP/1.1 {} {reason}", self.status)];
        head.extend(self.headers.iter().map(|(k, v)| format!("{k}: {v}")));
        head.push("Cache-Control: no-store".into());
        head.push("Pragma: no-cache".into());
        head.push("Connection: close".into());
        head.push(format!("Content-Length: {}", self.body.len()));
        out.write_all(format!("{}\r\n\r\n{}", head.join("\r\n"), self.body).as_bytes())?;
        out.flush()
    }
}

fn invalid_request(description: &str) -> Reply {
    Reply::error(400, "invalid_request", description)
}

fn invalid_grant(description: &str) -> Reply {
    Reply::error(400, "invalid_grant", description)
}

fn invalid_client(description: &str) -> Reply {
    Reply::error(401, "invalid_client", description)
}

/// A form field; empty values count as absent (RFC 6749 §3.1).
fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Reads one CRLF-terminated line without its line ending.
fn read_http_line(input: &mut impl BufRead) -> io::Result<String> {
    let mut buf = Vec::new();
    input.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    let Some(line) = buf.strip_suffix(b"\n") else {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "request cut off",
        ));
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8(line.to_vec()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Reads a request: an I/O error ends the connection, an `Err` inside is answered 400.
fn read_request(input: &mut impl BufRead) -> io::Result<Result<RawRequest, String>> {
    let line = read_http_line(input)?;
    let parts: Vec<&str> = line.split(' ').collect();
    let &[method, target, version] = parts.as_slice() else {
        return Ok(Err(format!("bad request line {line:?}")));
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Err(format!("unsupported version {version:?}")));
    }
    let mut headers = Vec::new();
    loop {
        let line = read_http_line(input)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Ok(Err(format!("bad header line {line:?}")));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        if headers.len() > 100 {
            return Ok(Err("too many headers".into()));
        }
    }
    let mut request = RawRequest {
        method: method.into(),
        target: target.into(),
        headers,
        body: Vec::new(),
    };
    if request.header("transfer-encoding").is_some() {
        return Ok(Err("chunked request bodies are not supported".into()));
    }
    let length = match request.header("content-length").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) if n <= MAX_BODY => n,
        Some(_) => return Ok(Err("bad or too large Content-Length".into())),
    };
    request.body = vec![0; length];
    input.read_exact(&mut request.body)?;
    Ok(Ok(request))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The id and secret of HTTP Basic client authentication (RFC 6749 §2.3.1: each form-encoded).
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, credentials) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// `n` random ASCII letters and digits.
fn random_alnum(n: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(n)
        .collect()
}

impl TokenShared {
    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut out = stream.try_clone()?;
        let mut input = BufReader::new(stream);
        let reply = match read_request(&mut input)? {
            Ok(request) => self.handle(request),
            Err(why) => invalid_request(&why),
        };
        reply.write_to(&mut out)
    }

    fn handle(&self, raw: RawRequest) -> Reply {
        let (path, query) = raw
            .target
            .split_once('?')
            .unwrap_or((raw.target.as_str(), ""));
        let is_form = raw
            .header("content-type")
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim() == "application/x-www-form-urlencoded");
        let form: Vec<(String, String)> = match raw.method.as_str() {
            "GET" => url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            _ if is_form => url::form_urlencoded::parse(&raw.body)
                .into_owned()
                .collect(),
            _ => Vec::new(),
        };
        // `Some(None)`: an Authorization header that is not usable Basic credentials.
        let authorization = raw.header("authorization").map(parse_basic);
        let request = Request {
            method: raw.method.clone(),
            path: path.to_string(),
            form,
            basic_auth: authorization.clone().flatten(),
            at: Instant::now(),
        };
        self.state.lock().unwrap().requests.push(request.clone());

        let mut names = HashSet::new();
        if let Some((name, _)) = request.form.iter().find(|(k, _)| !names.insert(k)) {
            return invalid_request(&format!("parameter {name} is repeated"));
        }
        match (raw.method.as_str(), path) {
            ("POST", "/device" | "/token") if !is_form => {
                invalid_request("the body must be application/x-www-form-urlencoded")
            }
            ("POST", "/device") => self.device(&request),
            ("POST", "/token") => {
                std::thread::sleep(self.opts.token_delay);
                self.token(&request, authorization)
            }
            ("GET", "/authorize") => self.authorize(&request),
            // Token introspection (RFC 7662 §2), as a resource server (Dovecot) asks it.
            ("POST", "/introspect") => match request.field("token") {
                Some(token) if self.is_valid_access_token(token) => Reply::json(
                    200,
                    json!({"active": true, "username": self.opts.subject, "scope": self.opts.scope, "token_type": "Bearer"}),
                ),
                Some(_) => Reply::json(200, json!({"active": false})),
                None => invalid_request("no token to introspect"),
            },
            ("GET", "/activate") => Reply {
                status: 200,
                headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
                body: "Enter the code shown on your device.\n".into(),
            },
            (_, "/device" | "/token" | "/authorize" | "/activate") => {
                Reply::error(405, "invalid_request", "method not allowed")
            }
            _ => Reply::error(404, "not_found", "no such endpoint"),
        }
    }

    /// The device authorization endpoint (RFC 8628 §3.1, §3.2).
    fn device(&self, request: &Request) -> Reply {
        if request.field("client_id") != Some(self.opts.client_id.as_str()) {
            return Reply::error(400, "invalid_client", "unknown client_id");
        }
        let device_code = format!("dc-{}", random_alnum(32));
        // RFC 8628 §6.1: letters that cannot be confused, no vowels.
        let letter = || char::from(b"BCDFGHJKLMNPQRSTVWXZ"[fastrand::usize(..20)]);
        let half = || std::iter::repeat_with(letter).take(4).collect::<String>();
        let user_code = format!("{}-{}", half(), half());
        let mut complete = url::Url::parse(&format!("{}/activate", self.base)).unwrap();
        complete
            .query_pairs_mut()
            .append_pair("user_code", &user_code);
        self.state.lock().unwrap().devices.insert(
            device_code.clone(),
            Device {
                expires: Instant::now() + Duration::from_secs(DEVICE_LIFETIME),
                polls: 0,
            },
        );
        Reply::json(
            200,
            json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": format!("{}/activate", self.base),
                "verification_uri_complete": complete.as_str(),
                "expires_in": DEVICE_LIFETIME,
                "interval": 1,
            }),
        )
    }

    /// The token endpoint (RFC 6749 §3.2).
    fn token(&self, request: &Request, authorization: Option<Option<(String, String)>>) -> Reply {
        if let Err(reply) = self.authenticate_client(request, authorization) {
            return reply;
        }
        let mut state = self.state.lock().unwrap();
        match request.field("grant_type") {
            None => invalid_request("grant_type is missing"),
            Some(DEVICE_GRANT) => self.device_grant(&mut state, request),
            Some("authorization_code") => self.code_grant(&mut state, request),
            Some("refresh_token") => self.refresh_grant(&mut state, request),
            Some(_) => Reply::error(400, "unsupported_grant_type", "unsupported grant_type"),
        }
    }

    /// Client authentication (RFC 6749 §2.3.1): `client_id` (and `client_secret`) in the form,
    /// or HTTP Basic, never both.
    fn authenticate_client(
        &self,
        request: &Request,
        authorization: Option<Option<(String, String)>>,
    ) -> Result<(), Reply> {
        let posted_id = request.field("client_id");
        let posted_secret = request.field("client_secret");
        let (id, secret) = match &authorization {
            None => (posted_id, posted_secret),
            Some(None) => return Err(invalid_client("unusable Authorization header")),
            Some(Some((id, secret))) => {
                if posted_secret.is_some() {
                    return Err(invalid_request(
                        "more than one client authentication method",
                    ));
                }
                if posted_id.is_some_and(|posted| posted != id.as_str()) {
                    return Err(invalid_client(
                        "client_id differs from the Basic credentials",
                    ));
                }
                (Some(id.as_str()), Some(secret.as_str()))
            }
        };
        if id != Some(self.opts.client_id.as_str()) {
            return Err(invalid_client("unknown or missing client_id"));
        }
        match &self.opts.client_secret {
            Some(expected) if secret != Some(expected.as_str()) => {
                Err(invalid_client("client authentication failed"))
            }
            _ => Ok(()),
        }
    }

    /// The device code grant (RFC 8628 §3.4, §3.5).
    fn device_grant(&self, state: &mut Tokens, request: &Request) -> Reply {
        let Some(code) = request.field("device_code") else {
            return invalid_request("device_code is missing");
        };
        let Some(device) = state.devices.get_mut(code) else {
            return invalid_grant("unknown device_code");
        };
        if Instant::now() >= device.expires {
            state.devices.remove(code);
            return Reply::error(400, "expired_token", "the device code has expired");
        }
        if state.deny_devices {
            return Reply::error(400, "access_denied", "the user denied the request");
        }
        device.polls += 1;
        let slow_down = u32::from(self.opts.slow_down_once);
        if device.polls <= slow_down {
            return Reply::error(400, "slow_down", "polling too fast");
        }
        if device.polls <= slow_down + self.opts.device_pending_polls {
            return Reply::error(
                400,
                "authorization_pending",
                "the user has not signed in yet",
            );
        }
        state.devices.remove(code);
        self.issue(state, true, &self.opts.scope)
    }

    /// The authorization code grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5, §4.6). A code is
    /// used up by any attempt to redeem it, successful or not.
    fn code_grant(&self, state: &mut Tokens, request: &Request) -> Reply {
        let (Some(code), Some(redirect_uri), Some(verifier)) = (
            request.field("code"),
            request.field("redirect_uri"),
            request.field("code_verifier"),
        ) else {
            return invalid_request("code, redirect_uri and code_verifier are required");
        };
        let Some(issued) = state.codes.remove(code) else {
            return invalid_grant("unknown or already used authorization code");
        };
        if issued.redirect_uri != redirect_uri {
            return invalid_grant("redirect_uri differs from the authorization request");
        }
        let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
            return invalid_grant("code_verifier must be 43 to 128 unreserved characters");
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        if URL_SAFE_NO_PAD.encode(digest) != issued.challenge {
            return invalid_grant("PKCE verification failed");
        }
        self.issue(state, true, &self.opts.scope)
    }

    /// The refresh token grant (RFC 6749 §6).
    fn refresh_grant(&self, state: &mut Tokens, request: &Request) -> Reply {
        let Some(refresh) = request.field("refresh_token") else {
            return invalid_request("refresh_token is missing");
        };
        let scope = match request.field("scope") {
            None => self.opts.scope.as_str(),
            Some(asked) => {
                let granted: HashSet<&str> = self.opts.scope.split(' ').collect();
                if !asked.split(' ').all(|s| granted.contains(s)) {
                    return Reply::error(400, "invalid_scope", "scope exceeds the grant");
                }
                asked
            }
        };
        if !state.refresh.contains(refresh) {
            return invalid_grant("Token has been expired or revoked.");
        }
        if self.opts.rotate_refresh {
            state.refresh.remove(refresh);
        }
        state.refresh_grants += 1;
        self.issue(state, self.opts.rotate_refresh, scope)
    }

    /// A successful token response (RFC 6749 §5.1).
    fn issue(&self, state: &mut Tokens, with_refresh: bool, scope: &str) -> Reply {
        let access = format!("at-{}", random_alnum(32));
        let lifetime = Duration::from_secs(self.opts.access_lifetime);
        state
            .access
            .insert(access.clone(), Instant::now().checked_add(lifetime));
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.opts.access_lifetime,
            "scope": scope,
        });
        if with_refresh {
            body["refresh_token"] = state.new_refresh_token().into();
        }
        Reply::json(200, body)
    }

    /// The authorization endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3): the simulated user signs in
    /// and approves at once.
    fn authorize(&self, request: &Request) -> Reply {
        if request.field("response_type") != Some("code") {
            return Reply::error(
                400,
                "unsupported_response_type",
                "response_type must be code",
            );
        }
        if request.field("client_id") != Some(self.opts.client_id.as_str()) {
            return Reply::error(400, "invalid_client", "unknown client_id");
        }
        let Some(redirect_uri) = request.field("redirect_uri") else {
            return invalid_request("redirect_uri is missing");
        };
        let Ok(mut location) = url::Url::parse(redirect_uri) else {
            return invalid_request("redirect_uri is not a URL");
        };
        if request.field("code_challenge_method") != Some("S256") {
            return invalid_request("code_challenge_method must be S256");
        }
        let challenge = request.field("code_challenge").unwrap_or_default();
        let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if challenge.len() != 43 || !challenge.bytes().all(base64url) {
            return invalid_request("code_challenge must be 43 base64url characters");
        }
        let code = format!("ac-{}", random_alnum(32));
        self.state.lock().unwrap().codes.insert(
            code.clone(),
            Code {
                redirect_uri: redirect_uri.to_string(),
                challenge: challenge.to_string(),
            },
        );
        location.query_pairs_mut().append_pair("code", &code);
        if let Some(state) = request.field("state") {
            location.query_pairs_mut().append_pair("state", state);
        }
        Reply {
            status: 302,
            headers: vec![("Location", location.into())],
            body: String::new(),
        }
    }

    fn is_valid_access_token(&self, token: &str) -> bool {
        let state = self.state.lock().unwrap();
        match state.access.get(token) {
            Some(Some(expiry)) => Instant::now() < *expiry,
            Some(None) => true,
            None => false,
        }
    }
}

/// How the OAuth2 relay offers TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (port 465 style).
    Implicit,
    /// Plain until STARTTLS; AUTH only after it.
    Starttls,
}

/// How the OAuth2 relay behaves.
#[derive(Debug, Clone)]
pub struct SmtpOptions {
    pub tls: SmtpTls,
    /// The AUTH mechanisms advertised once TLS is on.
    pub mechanisms: Vec<&'static str>,
    /// The only account that may log in.
    pub user: String,
}

impl Default for SmtpOptions {
    fn default() -> Self {
        SmtpOptions {
            tls: SmtpTls::Implicit,
            mechanisms: vec!["XOAUTH2", "OAUTHBEARER"],
            user: "jdoe@mail.test".into(),
        }
    }
}

/// The error challenge of a failed OAuth login (RFC 7628 §3.2.2, as Gmail sends it).
const AUTH_ERROR: &str = r#"{"status":"401","schemes":"bearer","scope":"https://mail.test/smtp"}"#;

/// The scripted SMTP server as an OAuth2 relay: TLS with the test relay's certificate, logins
/// only by XOAUTH2 / OAUTHBEARER (as `opts` says) for `opts.user` with an access token `tokens`
/// issued and that has not expired, and any mail after a successful login.
pub fn oauth_smtp(tokens: &TokenServer, opts: SmtpOptions) -> Server {
    let config = crate::harness::tls_server_config();
    let tls = match opts.tls {
        SmtpTls::Implicit => Tls::Implicit(config),
        SmtpTls::Starttls => Tls::Starttls(config),
    };
    let issuer = tokens.shared.clone();
    let user = opts.user;
    let check =
        move |login: &str, token: &str| login == user && issuer.is_valid_access_token(token);
    Server::start(Script {
        name: "oauth.test".into(),
        tls,
        auth: Some(Auth {
            oauth_error: AUTH_ERROR.into(),
            ..Auth::new(&opts.mechanisms, check)
        }),
        pipelining: true,
        enhanced_status_codes: true,
        timeout: IO_TIMEOUT,
        ..Script::default()
    })
}

mod self_tests {
    use super::*;

    use rustls::ClientConnection;

    use crate::harness::{Root, as_root};
    use testkit::smtp::{Received, Stream, Wire};

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into()
    }

    /// The status and JSON body of a response.
    fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
        let mut response = response.expect("the token server answers");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap();
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body:?}: {e}"));
        (status, json)
    }

    /// POSTs a form to `path`.
    fn post(server: &TokenServer, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        answer(
            agent()
                .post(server.url(path))
                .send_form(form.iter().copied()),
        )
    }

    /// POSTs a form to `/token` with HTTP Basic client credentials (RFC 6749 §2.3.1).
    fn post_basic(
        server: &TokenServer,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = STANDARD.encode(format!("{}:{}", encode(id), encode(secret)));
        answer(
            agent()
                .post(server.url("/token"))
                .header("Authorization", format!("Basic {credentials}"))
                .send_form(form.iter().copied()),
        )
    }

    const CLIENT: &str = "relayctl-test-client";

    fn refresh(server: &TokenServer, token: &str) -> (u16, Value) {
        post(
            server,
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", CLIENT),
            ],
        )
    }

    fn poll(server: &TokenServer, device_code: &str) -> (u16, Value) {
        post(
            server,
            "/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", CLIENT),
            ],
        )
    }

    fn error(reply: &(u16, Value)) -> (u16, &str) {
        (reply.0, reply.1["error"].as_str().unwrap_or("none"))
    }

    /// A valid access token, through a refresh grant.
    fn access_token(server: &TokenServer) -> String {
        let (status, body) = refresh(server, &server.issue_refresh_token());
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    #[test]
    fn device_flow_then_refresh_and_revocation() {
        let server = TokenServer::start(TokenOptions {
            slow_down_once: true,
            ..TokenOptions::default()
        });
        let unknown = post(
            &server,
            "/device",
            &[("client_id", "other"), ("scope", "x")],
        );
        assert_eq!(error(&unknown), (400, "invalid_client"));

        let (status, device) = post(
            &server,
            "/device",
            &[
                ("client_id", CLIENT),
                ("scope", "https://mail.test/smtp offline_access"),
            ],
        );
        assert_eq!(status, 200, "{device}");
        assert_eq!(device["interval"], 1);
        assert_eq!(device["expires_in"], 600);
        assert_eq!(device["verification_uri"], server.url("/activate").as_str());
        let user_code = device["user_code"].as_str().unwrap();
        assert!(
            device["verification_uri_complete"]
                .as_str()
                .unwrap()
                .ends_with(&format!("?user_code={user_code}"))
        );
        let code = device["device_code"].as_str().unwrap();

        assert_eq!(error(&poll(&server, code)), (400, "slow_down"));
        assert_eq!(error(&poll(&server, code)), (400, "authorization_pending"));
        assert_eq!(error(&poll(&server, code)), (400, "authorization_pending"));
        let (status, tokens) = poll(&server, code);
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 3600);
        assert_eq!(tokens["scope"], "https://mail.test/smtp offline_access");
        let access = tokens["access_token"].as_str().unwrap();
        let refresh_token = tokens["refresh_token"].as_str().unwrap();
        assert!(server.is_valid_access_token(access));
        assert_eq!(server.last_refresh_token().as_deref(), Some(refresh_token));
        assert_eq!(
            error(&poll(&server, code)),
            (400, "invalid_grant"),
            "used up"
        );
        assert_eq!(error(&poll(&server, "dc-unknown")), (400, "invalid_grant"));
        assert_eq!(server.device_polls().len(), 6);
        assert!(server.device_polls().is_sorted());
        assert_eq!(server.grants(DEVICE_GRANT), 6);

        // Without rotation the refresh token stays, and no new one is returned.
        for _ in 0..2 {
            let (status, body) = refresh(&server, refresh_token);
            assert_eq!(status, 200, "{body}");
            assert!(body.get("refresh_token").is_none());
            assert!(server.is_valid_access_token(body["access_token"].as_str().unwrap()));
        }
        assert_eq!(server.refresh_grants(), 2);

        server.revoke_refresh_tokens();
        let (status, body) = refresh(&server, refresh_token);
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({
                "error": "invalid_grant",
                "error_description": "Token has been expired or revoked."
            })
        );
        assert_eq!(server.refresh_grants(), 2);
        assert_eq!(server.grants("refresh_token"), 3);
        assert!(
            server.is_valid_access_token(access),
            "access tokens survive"
        );
        server.invalidate_access_tokens();
        assert!(!server.is_valid_access_token(access));
    }

    #[test]
    fn device_flow_denied() {
        let server = TokenServer::start(TokenOptions::default());
        let (_, device) = post(&server, "/device", &[("client_id", CLIENT)]);
        let code = device["device_code"].as_str().unwrap();
        assert_eq!(error(&poll(&server, code)), (400, "authorization_pending"));
        server.deny_device();
        assert_eq!(error(&poll(&server, code)), (400, "access_denied"));
        assert_eq!(error(&poll(&server, code)), (400, "access_denied"));
    }

    #[test]
    fn rotation_scope_and_concurrent_refreshes() {
        let server = TokenServer::start(TokenOptions {
            rotate_refresh: true,
            access_lifetime: 1,
            token_delay: Duration::from_millis(300),
            ..TokenOptions::default()
        });
        let first = server.issue_refresh_token();
        let (status, body) = refresh(&server, &first);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["expires_in"], 1);
        let second = body["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(second, first);
        assert_eq!(server.last_refresh_token(), Some(second.clone()));
        assert_eq!(error(&refresh(&server, &first)), (400, "invalid_grant"));

        let access = body["access_token"].as_str().unwrap();
        assert!(server.is_valid_access_token(access));
        std::thread::sleep(Duration::from_millis(1100));
        assert!(
            !server.is_valid_access_token(access),
            "expired after expires_in"
        );

        let narrower = [
            ("grant_type", "refresh_token"),
            ("refresh_token", second.as_str()),
            ("client_id", CLIENT),
            ("scope", "https://mail.test/smtp"),
        ];
        let (status, body) = post(&server, "/token", &narrower);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "https://mail.test/smtp");
        let third = body["refresh_token"].as_str().unwrap().to_string();
        let wider = [
            ("grant_type", "refresh_token"),
            ("refresh_token", third.as_str()),
            ("client_id", CLIENT),
            ("scope", "https://mail.test/smtp https://mail.test/admin"),
        ];
        assert_eq!(
            error(&post(&server, "/token", &wider)),
            (400, "invalid_scope")
        );

        // Two clients refreshing with the same token at once: the second one loses it.
        let started = Instant::now();
        let results: Vec<(u16, Value)> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..2)
                .map(|_| s.spawn(|| refresh(&server, &third)))
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(started.elapsed() >= Duration::from_millis(300));
        let mut statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{results:?}");
        assert_eq!(server.refresh_grants(), 3);
    }

    #[test]
    fn authorization_code_with_pkce() {
        let server = TokenServer::start(TokenOptions::default());
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let state = "st&te =x";
        // Signs in; the code and state the redirect carries.
        let authorize = |redirect_uri: &str, method: &str| {
            let mut url = url::Url::parse(&server.url("/authorize")).unwrap();
            url.query_pairs_mut()
                .append_pair("response_type", "code")
                .append_pair("client_id", CLIENT)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", "https://mail.test/smtp offline_access")
                .append_pair("state", state)
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", method);
            agent().get(url.as_str()).call().unwrap()
        };
        let code_for = |redirect_uri: &str| {
            let response = authorize(redirect_uri, "S256");
            assert_eq!(response.status().as_u16(), 302);
            let location = response.headers()["location"].to_str().unwrap();
            let location = url::Url::parse(location).unwrap();
            assert_eq!(location.host_str(), Some("localhost"));
            let pairs: HashMap<_, _> = location.query_pairs().into_owned().collect();
            assert_eq!(pairs["state"], state);
            pairs["code"].clone()
        };
        let exchange = |code: &str, redirect_uri: &str, verifier: &str| {
            post(
                &server,
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect_uri),
                    ("client_id", CLIENT),
                    ("code_verifier", verifier),
                ],
            )
        };
        let redirect = "http://localhost";

        let code = code_for(redirect);
        let wrong = "A".repeat(43);
        assert_eq!(
            error(&exchange(&code, redirect, &wrong)),
            (400, "invalid_grant")
        );
        assert_eq!(
            error(&exchange(&code, redirect, verifier)),
            (400, "invalid_grant"),
            "a failed attempt uses the code up"
        );
        let code = code_for(redirect);
        assert_eq!(
            error(&exchange(&code, "http://localhost:8080", verifier)),
            (400, "invalid_grant")
        );
        let code = code_for(redirect);
        let (status, body) = exchange(&code, redirect, verifier);
        assert_eq!(status, 200, "{body}");
        assert!(body["refresh_token"].as_str().unwrap().starts_with("rt-"));
        assert!(server.is_valid_access_token(body["access_token"].as_str().unwrap()));
        assert_eq!(
            error(&exchange(&code, redirect, verifier)),
            (400, "invalid_grant"),
            "single use"
        );
        assert_eq!(
            error(&post(
                &server,
                "/token",
                &[("grant_type", "authorization_code"), ("client_id", CLIENT)]
            )),
            (400, "invalid_request")
        );

        let plain = authorize(redirect, "plain");
        assert_eq!(plain.status().as_u16(), 400);
        let authorizations = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path == "/authorize")
            .count();
        assert_eq!(authorizations, 4);
        assert_eq!(server.grants("authorization_code"), 6);
    }

    #[test]
    fn client_secret_and_errors() {
        let secret = "s3cr&t =x:y";
        let server = TokenServer::start(TokenOptions {
            client_secret: Some(secret.into()),
            ..TokenOptions::default()
        });
        let refresh_token = server.issue_refresh_token();
        let grant = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut form = grant.to_vec();
            form.extend_from_slice(extra);
            form
        };

        let missing = post(&server, "/token", &with(&[("client_id", CLIENT)]));
        assert_eq!(error(&missing), (401, "invalid_client"));
        let wrong = with(&[("client_id", CLIENT), ("client_secret", "nope")]);
        assert_eq!(
            error(&post(&server, "/token", &wrong)),
            (401, "invalid_client")
        );
        let posted = with(&[("client_id", CLIENT), ("client_secret", secret)]);
        assert_eq!(post(&server, "/token", &posted).0, 200);

        assert_eq!(post_basic(&server, CLIENT, secret, &grant).0, 200);
        let bad = post_basic(&server, CLIENT, "nope", &grant);
        assert_eq!(error(&bad), (401, "invalid_client"));
        let both = post_basic(&server, CLIENT, secret, &with(&[("client_secret", secret)]));
        assert_eq!(error(&both), (400, "invalid_request"));
        let basic: Vec<_> = server
            .requests()
            .into_iter()
            .filter_map(|r| r.basic_auth)
            .collect();
        assert_eq!(basic.len(), 3);
        assert_eq!(basic[0], (CLIENT.to_string(), secret.to_string()));

        let unsupported = post(&server, "/token", &[("grant_type", "password")]);
        assert_eq!(
            error(&unsupported),
            (401, "invalid_client"),
            "the client comes first"
        );
        let unsupported = post(
            &server,
            "/token",
            &[
                ("grant_type", "password"),
                ("client_id", CLIENT),
                ("client_secret", secret),
            ],
        );
        assert_eq!(error(&unsupported), (400, "unsupported_grant_type"));
        let no_token = post(
            &server,
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("client_secret", secret),
            ],
        );
        assert_eq!(error(&no_token), (400, "invalid_request"));
        let repeated = post(
            &server,
            "/token",
            &with(&[
                ("client_id", CLIENT),
                ("client_id", CLIENT),
                ("client_secret", secret),
            ]),
        );
        assert_eq!(error(&repeated), (400, "invalid_request"));

        let json_body = agent()
            .post(server.url("/token"))
            .header("Content-Type", "application/json")
            .send("{}");
        assert_eq!(error(&answer(json_body)), (400, "invalid_request"));

        let mut response = agent().get(server.url("/activate")).call().unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response
                .body_mut()
                .read_to_string()
                .unwrap()
                .contains("code")
        );
        let response = agent().get(server.url("/nowhere")).call().unwrap();
        assert_eq!(response.status().as_u16(), 404);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }

    /// A TLS client trusting the test CA.
    fn client_connection() -> ClientConnection {
        let config = testkit::tls::client_config(&crate::harness::relay().ca_file);
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        ClientConnection::new(config, name).unwrap()
    }

    /// A scripted SMTP client.
    struct Client {
        wire: Wire<ClientConnection>,
    }

    impl Client {
        /// Connects to the server that offers TLS as `tls` and reads the greeting.
        fn connect(smtp: &Server, tls: SmtpTls) -> Client {
            let tcp = TcpStream::connect(("127.0.0.1", smtp.port)).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let stream = match tls {
                SmtpTls::Implicit => {
                    Stream::Tls(Box::new(rustls::StreamOwned::new(client_connection(), tcp)))
                }
                SmtpTls::Starttls => Stream::Plain(tcp),
            };
            let mut client = Client {
                wire: Wire::new(stream),
            };
            assert_eq!(client.reply(), "220 oauth.test ESMTP");
            client
        }

        /// A whole reply, its lines joined by `\n`.
        fn reply(&mut self) -> String {
            let mut lines = Vec::new();
            loop {
                let line = self.wire.read_line().unwrap().expect("a reply");
                let line = String::from_utf8(line).unwrap();
                let line = line.strip_suffix("\r\n").expect("CRLF").to_string();
                let last = line.as_bytes().get(3) == Some(&b' ') || line.len() == 3;
                lines.push(line);
                if last {
                    return lines.join("\n");
                }
            }
        }

        /// Sends a line and reads the reply.
        fn cmd(&mut self, line: &str) -> String {
            self.wire.send(line).unwrap();
            self.reply()
        }

        fn starttls(mut self) -> Client {
            assert!(self.cmd("STARTTLS").starts_with("220 "));
            let (wire, early) = self.wire.start_tls(client_connection()).unwrap();
            assert!(!early);
            Client { wire }
        }
    }

    fn xoauth2(user: &str, token: &str) -> String {
        STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
    }

    const USER: &str = "jdoe@mail.test";

    #[test]
    fn smtp_xoauth2() {
        if !as_root(Root::Postfix) {
            return;
        }
        let tokens = TokenServer::start(TokenOptions::default());
        let smtp = oauth_smtp(&tokens, SmtpOptions::default());
        let token = access_token(&tokens);

        let mut c = Client::connect(&smtp, SmtpTls::Implicit);
        let ehlo = c.cmd("EHLO client.test");
        assert!(ehlo.contains("250-AUTH XOAUTH2 OAUTHBEARER\n"), "{ehlo}");
        assert!(ehlo.ends_with("250 ENHANCEDSTATUSCODES"), "{ehlo}");
        assert!(!ehlo.contains("STARTTLS"));
        assert_eq!(
            c.cmd("MAIL FROM:<jdoe@mail.test>"),
            "530 5.7.0 Authentication required"
        );
        assert_eq!(
            c.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(USER, &token))),
            "235 2.7.0 Accepted"
        );
        // Pipelined transaction.
        c.wire
            .send("MAIL FROM:<jdoe@mail.test>\r\nRCPT TO:<a@example.org>\r\nDATA")
            .unwrap();
        assert_eq!(c.reply(), "250 2.1.0 OK");
        assert_eq!(c.reply(), "250 2.1.5 OK");
        assert!(c.reply().starts_with("354 "));
        assert_eq!(
            c.cmd("Subject: hi\r\n\r\n..dot\r\nend\r\n."),
            "250 2.0.0 OK queued"
        );
        assert_eq!(c.cmd("QUIT"), "221 2.0.0 Bye");

        let messages: Vec<String> = smtp.messages().iter().map(Received::text).collect();
        assert_eq!(messages, ["Subject: hi\r\n\r\n.dot\r\nend\r\n"]);
        let auths = smtp.auths();
        assert_eq!(auths.len(), 1);
        assert_eq!(auths[0].mechanism, "XOAUTH2");
        assert_eq!(auths[0].user, USER);
        assert_eq!(auths[0].secret, token);
        assert!(auths[0].accepted);
        let commands = smtp.commands();
        assert_eq!(commands[2], "AUTH XOAUTH2 <payload>");
        assert!(commands.iter().all(|c| !c.contains(&token)));
        assert_eq!(commands.len(), 7);

        // An invalid token: the error challenge, an empty answer, 535.
        tokens.invalidate_access_tokens();
        let mut c = Client::connect(&smtp, SmtpTls::Implicit);
        c.cmd("EHLO client.test");
        let challenge = c.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(USER, &token)));
        let challenge = challenge.strip_prefix("334 ").expect("a challenge");
        assert_eq!(STANDARD.decode(challenge).unwrap(), AUTH_ERROR.as_bytes());
        let error: Value = serde_json::from_slice(&STANDARD.decode(challenge).unwrap()).unwrap();
        assert_eq!(error["status"], "401");
        assert_eq!(c.cmd(""), "535 5.7.8 Username and Password not accepted");

        // A valid token of another user; the response on its own line after an empty challenge.
        let token = access_token(&tokens);
        assert_eq!(c.cmd("AUTH XOAUTH2"), "334 ");
        assert!(
            c.cmd(&xoauth2("other@mail.test", &token))
                .starts_with("334 ")
        );
        assert_eq!(c.cmd(""), "535 5.7.8 Username and Password not accepted");
        assert_eq!(c.cmd("AUTH XOAUTH2"), "334 ");
        assert_eq!(c.cmd(&xoauth2(USER, &token)), "235 2.7.0 Accepted");
        let accepted: Vec<bool> = smtp.auths().iter().map(|a| a.accepted).collect();
        assert_eq!(accepted, [true, false, false, true]);
        assert_eq!(smtp.violations(), Vec::<String>::new());
        assert_eq!(smtp.connections(), 2);
    }

    #[test]
    fn smtp_oauthbearer() {
        if !as_root(Root::Postfix) {
            return;
        }
        let tokens = TokenServer::start(TokenOptions::default());
        let smtp = oauth_smtp(&tokens, SmtpOptions::default());
        let token = access_token(&tokens);
        let bearer = |gs2: &str, token: &str| {
            let port = smtp.port;
            STANDARD.encode(format!(
                "{gs2}\x01host=localhost\x01port={port}\x01auth=Bearer {token}\x01\x01"
            ))
        };

        let mut c = Client::connect(&smtp, SmtpTls::Implicit);
        c.cmd("EHLO client.test");
        let ok = c.cmd(&format!(
            "AUTH OAUTHBEARER {}",
            bearer("n,a=jdoe@mail.test,", &token)
        ));
        assert_eq!(ok, "235 2.7.0 Accepted");

        // No authzid: the user is unknown; the client acknowledges the error with ^A.
        let mut c = Client::connect(&smtp, SmtpTls::Implicit);
        c.cmd("EHLO client.test");
        let challenge = c.cmd(&format!("AUTH OAUTHBEARER {}", bearer("n,,", &token)));
        assert!(challenge.starts_with("334 "));
        assert_eq!(
            c.cmd("AQ=="),
            "535 5.7.8 Username and Password not accepted"
        );
        assert_eq!(smtp.violations(), Vec::<String>::new());

        // Answering the error challenge with anything else is a violation.
        let bad = bearer("n,a=jdoe@mail.test,", "at-revoked");
        assert!(
            c.cmd(&format!("AUTH OAUTHBEARER {bad}"))
                .starts_with("334 ")
        );
        assert!(c.cmd("").starts_with("535 "));
        assert_eq!(smtp.violations().len(), 1, "{:?}", smtp.violations());
        assert!(smtp.violations()[0].contains("error challenge"));

        // Malformed: no ^A^A at the end.
        let malformed = STANDARD.encode(format!("n,a={USER},\x01auth=Bearer {token}\x01"));
        assert_eq!(
            c.cmd(&format!("AUTH OAUTHBEARER {malformed}")),
            "501 5.5.2 malformed"
        );
        assert_eq!(smtp.violations().len(), 2);
        let mechanisms: Vec<String> = smtp.auths().into_iter().map(|a| a.mechanism).collect();
        assert_eq!(mechanisms, ["OAUTHBEARER"; 3]);
        assert_eq!(smtp.auths()[1].user, "");
    }

    #[test]
    fn smtp_starttls_and_mechanisms() {
        if !as_root(Root::Postfix) {
            return;
        }
        let tokens = TokenServer::start(TokenOptions::default());
        let smtp = oauth_smtp(
            &tokens,
            SmtpOptions {
                tls: SmtpTls::Starttls,
                mechanisms: vec!["XOAUTH2"],
                user: "other@mail.test".into(),
            },
        );
        let token = access_token(&tokens);
        let mut c = Client::connect(&smtp, SmtpTls::Starttls);
        let ehlo = c.cmd("EHLO client.test");
        assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
        assert!(!ehlo.contains("AUTH"), "{ehlo}");
        let login = format!("AUTH XOAUTH2 {}", xoauth2("other@mail.test", &token));
        assert_eq!(
            c.cmd(&login),
            "530 5.7.0 Must issue a STARTTLS command first"
        );

        let mut c = c.starttls();
        assert_eq!(c.cmd(&login), "503 5.5.1 Send EHLO first");
        let ehlo = c.cmd("EHLO client.test");
        assert!(ehlo.contains("250-AUTH XOAUTH2\n"), "{ehlo}");
        assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
        let bearer = STANDARD.encode(format!("n,,\x01auth=Bearer {token}\x01\x01"));
        assert_eq!(
            c.cmd(&format!("AUTH OAUTHBEARER {bearer}")),
            "504 5.5.4 Unrecognized authentication type"
        );
        assert_eq!(c.cmd(&login), "235 2.7.0 Accepted");
        assert_eq!(smtp.violations().len(), 1);
        assert!(smtp.violations()[0].contains("does not offer"));
        assert_eq!(c.cmd("QUIT"), "221 2.0.0 Bye");
    }
}

//! SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 5802, RFC 7677), with their `-PLUS` forms bound to the
//! TLS channel (RFC 5929 `tls-server-end-point`, RFC 9266 `tls-exporter`). The password never
//! crosses the wire: the client proves it knows the password with a proof the relay can check
//! but not replay, and the relay proves it knows it too (its server signature), which is
//! verified before the login counts as done. A relay that says 235 without that proof is
//! refused ([`Exchange::check_success`]).
//!
//! Written here against the RFCs' example exchanges (the tests below) on ring's HMAC, PBKDF2
//! and digests, which relayctl already uses: `rsasl` (MIT OR Apache-2.0) has SCRAM but no
//! CRAM-MD5, wants its own callback-driven session in place of [`Exchange`] and brings a second
//! set of hash crates; the `scram` crate has no SHA-1 and no channel binding and sits on an old
//! ring; `scram-rs` declares itself source-available rather than open source. A few hundred
//! lines checked against the RFC vectors need none of them.
//!
//! Names are not SASLprep'ed (RFC 4013): the user name and password go as UTF-8, which is the
//! same for every ASCII password, and is what Dovecot does. `,` and `=` in the user name are
//! escaped as RFC 5802 requires.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac, pbkdf2};
use zeroize::Zeroizing;

use super::{Exchange, Mechanism, Response, Step, joined};
use crate::printable;

/// The fewest iterations a relay may ask for (RFC 7677 section 4: at least 4096). Fewer would
/// make the proof cheap to attack offline for whoever sees it.
const MIN_ITERATIONS: u32 = 4096;

/// The most iterations a relay may ask for: the key derivation runs on this host, and a relay
/// asking for millions would stall every delivery.
const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
}

impl Hash {
    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            Hash::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Hash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => hmac::HMAC_SHA256,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
        }
    }
}

/// What binds a login to the TLS connection it is made on (RFC 5056): the channel binding
/// type's name and its data for this connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelBinding {
    /// `tls-exporter` or `tls-server-end-point`.
    pub kind: &'static str,
    pub data: Vec<u8>,
}

/// Where the exchange is.
enum State {
    /// The client-first message is to be sent.
    Start,
    /// The client-first message went out; the server-first message is due.
    First,
    /// The client-final message went out; the server signature is due. The key and the
    /// message it must be the HMAC of.
    Final {
        server_key: hmac::Key,
        auth_message: String,
    },
    /// The relay's signature was right.
    Verified,
    /// The relay refused (`e=`); its final reply follows.
    Failed,
}

/// One SCRAM login.
pub struct Scram<'a> {
    hash: Hash,
    /// The `-PLUS` form: the channel binding is sent, not only announced.
    plus: bool,
    user: &'a str,
    password: &'a str,
    /// The channel binding of this connection, when there is one: sent with `-PLUS`, and
    /// without it announced as available (`y`), so that a relay that offers `-PLUS` and sees
    /// it stripped refuses the login.
    binding: Option<&'a ChannelBinding>,
    /// The client's nonce (printable, without `,`).
    nonce: String,
    state: State,
    /// The relay's `e=` error, when it sent one.
    server_error: Option<String>,
}

impl<'a> Scram<'a> {
    /// A login with a random nonce. `binding` is required for `plus`.
    pub fn new(
        hash: Hash,
        plus: bool,
        user: &'a str,
        password: &'a str,
        binding: Option<&'a ChannelBinding>,
    ) -> Self {
        let mut random = [0u8; 24];
        // The system's random source does not fail on the systems relayctl runs on; a nonce of
        // zeros would still be unique enough not to be a secret, and the proof is salted by the
        // relay's nonce too.
        let _ = SystemRandom::new().fill(&mut random);
        Scram::with_nonce(hash, plus, user, password, binding, BASE64.encode(random))
    }

    fn with_nonce(
        hash: Hash,
        plus: bool,
        user: &'a str,
        password: &'a str,
        binding: Option<&'a ChannelBinding>,
        nonce: String,
    ) -> Self {
        Scram {
            hash,
            plus,
            user,
            password,
            binding,
            nonce,
            state: State::Start,
            server_error: None,
        }
    }

    /// The GS2 header (RFC 5802 section 7): `p=TYPE,,` with the binding, `y,,` when the client
    /// could bind but the relay offers no `-PLUS`, `n,,` when there is nothing to bind to.
    fn gs2_header(&self) -> String {
        match (self.plus, self.binding) {
            (true, Some(binding)) => format!("p={},,", binding.kind),
            (false, Some(_)) => "y,,".into(),
            (_, None) => "n,,".into(),
        }
    }

    /// `n=USER,r=NONCE`, the user name escaped.
    fn client_first_bare(&self) -> String {
        let user = self.user.replace('=', "=3D").replace(',', "=2C");
        format!("n={user},r={}", self.nonce)
    }

    /// Answers the server-first message with the client-final message.
    fn answer_first(&mut self, challenge: &[u8]) -> Result<Response, String> {
        let server_first = std::str::from_utf8(challenge)
            .map_err(|_| "the relay's SCRAM challenge is not text")?;
        let (nonce, salt, iterations) = parse_server_first(server_first)?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err("the relay's SCRAM nonce does not extend relayctl's".into());
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "the relay asks for {iterations} SCRAM iterations; relayctl takes {MIN_ITERATIONS} to {MAX_ITERATIONS}"
            ));
        }
        let len = self.hash.digest().output_len();
        let mut salted = Zeroizing::new(vec![0u8; len]);
        let rounds = std::num::NonZeroU32::new(iterations).ok_or("zero SCRAM iterations")?;
        pbkdf2::derive(
            self.hash.pbkdf2(),
            rounds,
            &salt,
            self.password.as_bytes(),
            &mut salted,
        );
        let salted = hmac::Key::new(self.hash.hmac(), &salted);
        let client_key = Zeroizing::new(hmac::sign(&salted, b"Client Key").as_ref().to_vec());
        let server_key = hmac::Key::new(
            self.hash.hmac(),
            hmac::sign(&salted, b"Server Key").as_ref(),
        );
        let stored_key = digest::digest(self.hash.digest(), &client_key);
        let mut cbind_input = self.gs2_header().into_bytes();
        if self.plus
            && let Some(binding) = self.binding
        {
            cbind_input.extend_from_slice(&binding.data);
        }
        let without_proof = format!("c={},r={nonce}", BASE64.encode(&cbind_input));
        let auth_message = format!(
            "{},{server_first},{without_proof}",
            self.client_first_bare()
        );
        let stored_key = hmac::Key::new(self.hash.hmac(), stored_key.as_ref());
        let signature = hmac::sign(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.as_ref())
            .map(|(k, s)| k ^ s)
            .collect();
        let final_message = format!("{without_proof},p={}", BASE64.encode(proof));
        self.state = State::Final {
            server_key,
            auth_message,
        };
        Ok(Response::secret(
            joined(&[final_message.as_bytes()]),
            "proof not shown",
        ))
    }

    /// Checks the server-final message: `v=SIGNATURE`, or `e=ERROR`.
    fn answer_final(&mut self, challenge: &[u8]) -> Result<Response, String> {
        let State::Final {
            server_key,
            auth_message,
        } = &self.state
        else {
            return Err("the SCRAM exchange is not waiting for the relay's signature".into());
        };
        let text = std::str::from_utf8(challenge).unwrap_or_default();
        if let Some(error) = text.strip_prefix("e=") {
            self.server_error = Some(printable::clean(error));
            self.state = State::Failed;
            return Ok(Response::clear(b""));
        }
        let signature = text
            .split(',')
            .next()
            .and_then(|v| v.strip_prefix("v="))
            .and_then(|v| BASE64.decode(v).ok())
            .ok_or("the relay's last SCRAM message carries no server signature")?;
        hmac::verify(server_key, auth_message.as_bytes(), &signature).map_err(|_| {
            "the relay's SCRAM server signature is wrong: it does not know the password, or it is not the relay"
                .to_string()
        })?;
        self.state = State::Verified;
        Ok(Response::clear(b""))
    }
}

/// `r=NONCE,s=SALT,i=ITERATIONS[,extensions]`: the nonce, the decoded salt, the count. A
/// mandatory extension (`m=`) is one relayctl does not know, so it fails.
fn parse_server_first(text: &str) -> Result<(&str, Vec<u8>, u32), String> {
    let malformed = || "the relay's SCRAM challenge is malformed".to_string();
    if text.starts_with("m=") {
        return Err(
            "the relay's SCRAM challenge has a mandatory extension relayctl does not know".into(),
        );
    }
    if let Some(error) = text.strip_prefix("e=") {
        return Err(format!(
            "the relay's SCRAM error: {}",
            printable::clean(error)
        ));
    }
    let mut fields = text.split(',');
    let mut field = |key: &str| {
        fields
            .next()
            .and_then(|f| f.strip_prefix(key))
            .ok_or_else(malformed)
    };
    let nonce = field("r=")?;
    let salt = BASE64.decode(field("s=")?).map_err(|_| malformed())?;
    let iterations = field("i=")?.parse().map_err(|_| malformed())?;
    if nonce.is_empty() || salt.is_empty() || !nonce.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed());
    }
    Ok((nonce, salt, iterations))
}

impl Exchange for Scram<'_> {
    fn mechanism(&self) -> Mechanism {
        match (self.hash, self.plus) {
            (Hash::Sha256, true) => Mechanism::ScramSha256Plus,
            (Hash::Sha256, false) => Mechanism::ScramSha256,
            (Hash::Sha1, true) => Mechanism::ScramSha1Plus,
            (Hash::Sha1, false) => Mechanism::ScramSha1,
        }
    }

    fn initial_response(&mut self) -> Option<Response> {
        self.state = State::First;
        let first = format!("{}{}", self.gs2_header(), self.client_first_bare());
        Some(Response::secret(
            joined(&[first.as_bytes()]),
            "user name not shown",
        ))
    }

    fn step(&mut self, challenge: &[u8]) -> Step {
        let answer = match self.state {
            State::First => self.answer_first(challenge),
            State::Final { .. } => self.answer_final(challenge),
            State::Start | State::Verified | State::Failed => return Step::exhausted(),
        };
        match answer {
            Ok(response) => Step::Respond(response),
            Err(reason) => Step::Cancel(reason),
        }
    }

    fn refusal_detail(&self) -> Option<String> {
        self.server_error
            .as_ref()
            .map(|e| format!("SCRAM error: {e}"))
    }

    fn check_success(&self) -> Result<(), String> {
        match self.state {
            State::Verified => Ok(()),
            _ => Err(
                "the relay accepted the login without proving that it knows the password (no SCRAM server signature)"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(step: Step) -> Vec<u8> {
        match step {
            Step::Respond(r) => r.data().to_vec(),
            Step::Cancel(reason) => panic!("cancelled: {reason}"),
        }
    }

    /// RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section 3 (SCRAM-SHA-256): each message
    /// of the examples, the client's as sent, the server's signature accepted.
    #[test]
    fn the_rfc_example_exchanges() {
        let examples = [
            (
                Hash::Sha1,
                "fyko+d2lbbFgONRv9qkxdawL",
                "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
                "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
                "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
            ),
            (
                Hash::Sha256,
                "rOprNGfwEbeRWgbNEkqO",
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
            ),
        ];
        for (hash, nonce, server_first, client_final, server_final) in examples {
            let mut scram = Scram::with_nonce(hash, false, "user", "pencil", None, nonce.into());
            let first = scram.initial_response().unwrap();
            assert_eq!(first.data(), format!("n,,n=user,r={nonce}").as_bytes());
            assert_eq!(first.hidden(), Some("user name not shown"));
            assert!(scram.check_success().is_err(), "not done yet");
            let answer = respond(scram.step(server_first.as_bytes()));
            assert_eq!(String::from_utf8(answer).unwrap(), client_final);
            assert!(scram.check_success().is_err(), "no signature yet");
            assert_eq!(respond(scram.step(server_final.as_bytes())), b"");
            assert!(scram.check_success().is_ok());
            assert!(matches!(scram.step(b""), Step::Cancel(_)));
        }
    }

    fn after_first(hash: Hash) -> Scram<'static> {
        let mut scram = Scram::with_nonce(
            hash,
            false,
            "user",
            "pencil",
            None,
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        scram.initial_response();
        respond(scram.step(
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        ));
        scram
    }

    #[test]
    fn a_forged_server_signature_is_refused() {
        let mut scram = after_first(Hash::Sha256);
        // The right signature for SCRAM-SHA-256, its first byte changed.
        match scram.step(b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") {
            Step::Cancel(reason) => {
                assert!(reason.contains("server signature is wrong"), "{reason}")
            }
            Step::Respond(_) => panic!("a forged signature was accepted"),
        }
        assert!(scram.check_success().is_err());
        let mut scram = after_first(Hash::Sha256);
        assert!(matches!(scram.step(b"x=nothing"), Step::Cancel(_)));
    }

    #[test]
    fn a_server_error_is_answered_and_kept_for_the_refusal() {
        let mut scram = after_first(Hash::Sha256);
        assert_eq!(respond(scram.step(b"e=invalid-proof")), b"");
        assert_eq!(
            scram.refusal_detail().as_deref(),
            Some("SCRAM error: invalid-proof")
        );
        assert!(scram.check_success().is_err());
    }

    #[test]
    fn bad_server_first_messages_cancel() {
        for (challenge, why) in [
            (
                "r=someone-else,s=QSXCR+Q6sek8bf92,i=4096",
                "does not extend",
            ),
            ("r=abc,s=QSXCR+Q6sek8bf92,i=4096", "does not extend"),
            ("r=abcdef,s=QSXCR+Q6sek8bf92,i=1", "1 SCRAM iterations"),
            ("r=abcdef,s=QSXCR+Q6sek8bf92,i=999999999", "iterations"),
            ("r=abcdef,s=!!,i=4096", "malformed"),
            ("r=abcdef,i=4096", "malformed"),
            (
                "m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096",
                "mandatory extension",
            ),
            ("e=unknown-user", "unknown-user"),
        ] {
            let mut scram = Scram::with_nonce(Hash::Sha1, false, "u", "p", None, "abc".into());
            scram.initial_response();
            match scram.step(challenge.as_bytes()) {
                Step::Cancel(reason) => assert!(reason.contains(why), "{challenge}: {reason}"),
                Step::Respond(_) => panic!("{challenge} was answered"),
            }
        }
    }

    #[test]
    fn the_user_name_is_escaped_and_the_binding_announced() {
        let binding = ChannelBinding {
            kind: "tls-exporter",
            data: vec![1, 2, 3],
        };
        let mut scram = Scram::with_nonce(
            Hash::Sha256,
            false,
            "a,b=c",
            "p",
            Some(&binding),
            "n0".into(),
        );
        assert_eq!(
            scram.initial_response().unwrap().data(),
            b"y,,n=a=2Cb=3Dc,r=n0"
        );
        let mut plus = Scram::with_nonce(Hash::Sha256, true, "u", "p", Some(&binding), "n0".into());
        assert_eq!(plus.mechanism(), Mechanism::ScramSha256Plus);
        assert_eq!(
            plus.initial_response().unwrap().data(),
            b"p=tls-exporter,,n=u,r=n0"
        );
        let answer = respond(plus.step(b"r=n0n1,s=QSXCR+Q6sek8bf92,i=4096"));
        let expected = BASE64.encode(b"p=tls-exporter,,\x01\x02\x03");
        assert!(
            String::from_utf8(answer)
                .unwrap()
                .starts_with(&format!("c={expected},r=n0n1,p=")),
        );
    }

    #[test]
    fn nonces_are_random_and_printable() {
        let a = Scram::new(Hash::Sha256, false, "u", "p", None);
        let b = Scram::new(Hash::Sha256, false, "u", "p", None);
        assert_ne!(a.nonce, b.nonce);
        assert!(a.nonce.len() >= 32 && !a.nonce.contains(','));
    }
}

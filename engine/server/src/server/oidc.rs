//! Sign-in with an OpenID Connect provider (a city's single sign-on): the authorization code
//! flow with PKCE (`S256`), a `state` bound to a one-time record and a `nonce` bound to the ID
//! token, the ID token's signature checked against the provider's published keys, and its
//! issuer, audience, expiry and nonce. The provider's address says who the person is; an
//! account must already exist for that address (invited, or registered): the provider proves
//! who someone is, Laurel's grants say what they may do.
//!
//! Configured per installation: `laurel serve --oidc-issuer URL --oidc-client-id ID` and the
//! secret in `LAUREL_OIDC_CLIENT_SECRET` (or `--oidc-client-secret`); the provider is asked
//! for its endpoints (`/.well-known/openid-configuration`) on first use.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How an installation signs in with its provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer's URL (the provider's identity and where its configuration is published).
    pub issuer: String,
    /// Laurel's client id at the provider.
    pub client_id: String,
    /// Laurel's client secret at the provider.
    pub client_secret: String,
    /// The button's words ("Sign in with Seoul ID").
    pub label: String,
}

/// What the provider publishes of itself.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
}

/// The provider, as learnt on first use.
#[derive(Debug)]
pub struct Oidc {
    pub config: OidcConfig,
    learnt: Mutex<Option<(Discovery, jsonwebtoken::jwk::JwkSet, Instant)>>,
}

/// A sign-in under way, kept (as a one-time record) between the redirect to the provider and
/// its answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The PKCE verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// Until when the answer is awaited (RFC 3339).
    pub expires_at: String,
}

/// The claims of an ID token Laurel reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
}

/// The provider's keys are fetched again after this (a rotation), or when a token names a key
/// not yet known.
const KEYS_KEPT: Duration = Duration::from_secs(600);

impl Oidc {
    /// The provider of `config`, learnt on first use.
    pub fn new(config: OidcConfig) -> Self {
        Self {
            config,
            learnt: Mutex::new(None),
        }
    }

    fn agent() -> ureq::Agent {
        // The provider is the operator's own choice (often on an internal network), so no
        // address rule applies; no redirects, a bound on time.
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .max_redirects(0)
            .tls_config(crate::server::outbound::tls().unwrap_or_default())
            .build()
            .into()
    }

    fn learn(&self, refresh_keys: bool) -> Result<(Discovery, jsonwebtoken::jwk::JwkSet), String> {
        if let Ok(learnt) = self.learnt.lock()
            && let Some((d, keys, at)) = learnt.as_ref()
            && !refresh_keys
            && at.elapsed() < KEYS_KEPT
        {
            return Ok((d.clone(), keys.clone()));
        }
        let issuer = self.config.issuer.trim_end_matches('/');
        let discovery: Discovery = Self::agent()
            .get(&format!("{issuer}/.well-known/openid-configuration"))
            .call()
            .map_err(|e| format!("the provider's configuration cannot be read: {e}"))?
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| "the provider's configuration is not what OpenID says".to_owned())?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(format!(
                "the provider says it is `{}`, not `{issuer}`",
                discovery.issuer
            ));
        }
        let keys: jsonwebtoken::jwk::JwkSet = Self::agent()
            .get(&discovery.jwks_uri)
            .call()
            .map_err(|e| format!("the provider's keys cannot be read: {e}"))?
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| "the provider's keys are not a JWK set".to_owned())?;
        if let Ok(mut learnt) = self.learnt.lock() {
            *learnt = Some((discovery.clone(), keys.clone(), Instant::now()));
        }
        Ok((discovery, keys))
    }

    /// Starts a sign-in: the provider's URL to send the browser to, and what to keep until it
    /// answers, under the `state` returned.
    pub fn start(&self, redirect_uri: &str) -> Result<(String, String, Pending), String> {
        let (discovery, _) = self.learn(false)?;
        let state = random(24)?;
        let nonce = random(24)?;
        let verifier = random(48)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let query = [
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", "openid email profile"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let separator = if discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}{query}", discovery.authorization_endpoint);
        let expires = chrono::Utc::now() + chrono::Duration::minutes(10);
        Ok((
            url,
            state,
            Pending {
                verifier,
                nonce,
                expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            },
        ))
    }

    /// Finishes a sign-in: exchanges the provider's `code` (with the kept verifier), checks
    /// the ID token, and answers the address it vouches for.
    pub fn finish(
        &self,
        code: &str,
        pending: &Pending,
        redirect_uri: &str,
    ) -> Result<String, String> {
        let expired = chrono::DateTime::parse_from_rfc3339(&pending.expires_at)
            .map(|e| e.to_utc() <= chrono::Utc::now())
            .unwrap_or(true);
        if expired {
            return Err("the sign-in took too long: start again".to_owned());
        }
        let (discovery, _) = self.learn(false)?;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(&self.config.client_id),
            encode(&self.config.client_secret)
        ));
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pending.verifier.as_str()),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let mut response = Self::agent()
            .post(&discovery.token_endpoint)
            .header("authorization", &format!("Basic {basic}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .send(form)
            .map_err(|e| format!("the provider refused the code: {e}"))?;
        let tokens: serde_json::Value = response
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| "the provider's answer is not JSON".to_owned())?;
        let id_token = tokens["id_token"]
            .as_str()
            .ok_or_else(|| "the provider gave no ID token".to_owned())?;
        let claims = self.verify(id_token, &discovery)?;
        if claims.nonce.as_deref() != Some(pending.nonce.as_str()) {
            return Err("the ID token is not for this sign-in (nonce)".to_owned());
        }
        // The address is in the ID token, or (as many providers do) at the user-info
        // endpoint, for the same subject.
        let (email, verified) = match claims.email {
            Some(email) => (email, claims.email_verified),
            None => self.userinfo(&discovery, &tokens, &claims.sub)?,
        };
        if verified == Some(false) {
            return Err("the provider has not verified this address".to_owned());
        }
        Ok(email)
    }

    fn userinfo(
        &self,
        discovery: &Discovery,
        tokens: &serde_json::Value,
        sub: &str,
    ) -> Result<(String, Option<bool>), String> {
        let missing =
            || "the provider gave no e-mail address (ask for the `email` scope)".to_owned();
        let endpoint = discovery.userinfo_endpoint.as_deref().ok_or_else(missing)?;
        let access = tokens["access_token"].as_str().ok_or_else(missing)?;
        let info: serde_json::Value = Self::agent()
            .get(endpoint)
            .header("authorization", &format!("Bearer {access}"))
            .call()
            .map_err(|e| format!("the provider's user information cannot be read: {e}"))?
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| "the provider's user information is not JSON".to_owned())?;
        if info["sub"].as_str() != Some(sub) {
            return Err("the provider's user information is about someone else".to_owned());
        }
        let email = info["email"].as_str().ok_or_else(missing)?.to_owned();
        Ok((email, info["email_verified"].as_bool()))
    }

    fn verify(&self, token: &str, discovery: &Discovery) -> Result<Claims, String> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| format!("not an ID token: {e}"))?;
        let find = |keys: &jsonwebtoken::jwk::JwkSet| match &header.kid {
            Some(kid) => keys.find(kid).cloned(),
            None => keys.keys.first().cloned(),
        };
        let (_, keys) = self.learn(false)?;
        let jwk = match find(&keys) {
            Some(k) => k,
            None => find(&self.learn(true)?.1).ok_or_else(|| {
                "the ID token is signed with a key the provider does not publish".to_owned()
            })?,
        };
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk)
            .map_err(|e| format!("the provider's key cannot be used: {e}"))?;
        if matches!(
            header.alg,
            jsonwebtoken::Algorithm::HS256
                | jsonwebtoken::Algorithm::HS384
                | jsonwebtoken::Algorithm::HS512
        ) {
            return Err("the ID token is signed with a shared secret; Laurel accepts only the provider's public keys".to_owned());
        }
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_issuer(&[discovery.issuer.as_str()]);
        validation.set_audience(&[self.config.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| format!("the ID token does not hold: {e}"))
    }
}

fn random(bytes: usize) -> Result<String, String> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| format!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The key a pending sign-in is kept under (by its state's hash).
pub fn pending_key(state: &str) -> Vec<u8> {
    format!("oidc:{}", hex::encode(Sha256::digest(state.as_bytes()))).into_bytes()
}

//! Passkeys (WebAuthn) as a second factor: what the browser is asked to do, and checking what
//! the authenticator answers. Registration takes an ES256 (P-256) credential with the `none`
//! attestation (Laurel needs to know the key, not the device's maker); an assertion is checked
//! for the challenge Laurel issued, this server's origin and relying-party id, the user's
//! presence, the signature over the authenticator data and the client data's hash, and a
//! signature counter that only goes up (a cloned authenticator shows).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value as Cbor;
use p256::ecdsa::signature::Verifier as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A person's registered passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Passkey {
    /// The credential's id (base64url).
    pub id: String,
    /// Its public key: SEC1, uncompressed, base64url.
    pub public_key: String,
    /// The authenticator's signature counter at its last use.
    pub sign_count: u32,
    /// A name for people ("laptop").
    #[serde(default)]
    pub label: String,
    /// When it was registered.
    pub created_at: String,
}

/// The relying party: this server, as the browser sees it. One (RP id, origin) from the
/// public address; a server on a loopback address (a laptop) is also itself at `localhost`,
/// since browsers give passkeys to domains, never to IP addresses.
#[derive(Debug, Clone)]
pub struct Party {
    allowed: Vec<(String, String)>,
}

impl Party {
    /// The party of a server reached at `public_url`.
    pub fn of(public_url: &str) -> Self {
        let origin = public_url.trim_end_matches('/').to_owned();
        let (scheme, rest) = origin
            .split_once("://")
            .unwrap_or(("http", origin.as_str()));
        let host = rest.split('/').next().unwrap_or_default();
        let (id, port) = if host.starts_with('[') {
            let (h, p) = host.split_once(']').unwrap_or((host, ""));
            (h.trim_start_matches('['), p.trim_start_matches(':'))
        } else {
            host.rsplit_once(':').unwrap_or((host, ""))
        };
        let mut allowed = vec![(id.to_owned(), origin.clone())];
        let loopback = id
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            let port = if port.is_empty() {
                String::new()
            } else {
                format!(":{port}")
            };
            allowed.push((
                "localhost".to_owned(),
                format!("{scheme}://localhost{port}"),
            ));
        }
        Self { allowed }
    }

    /// The RP id and origin a page at `origin` (its `Origin` header) uses: that one if it is
    /// this server's, else the public address's.
    pub fn pick(&self, origin: Option<&str>) -> (&str, &str) {
        let (id, o) = origin
            .and_then(|o| self.allowed.iter().find(|(_, a)| a == o))
            .unwrap_or(&self.allowed[0]);
        (id, o)
    }

    /// The RP id a page at `origin` must have answered for, if `origin` is this server's.
    fn id_for(&self, origin: &str) -> Option<&str> {
        self.allowed
            .iter()
            .find(|(_, a)| a == origin)
            .map(|(id, _)| id.as_str())
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| "not base64url".to_owned())
}

/// What `navigator.credentials.create` is asked (WebAuthn's `PublicKeyCredentialCreationOptions`).
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreationOptions {
    pub rp: RelyingParty,
    pub user: UserEntity,
    /// base64url
    pub challenge: String,
    pub pub_key_cred_params: Vec<CredentialParameters>,
    /// Milliseconds.
    pub timeout: u32,
    pub attestation: &'static str,
    pub authenticator_selection: AuthenticatorSelection,
    /// The person's passkeys already registered (not to register twice).
    pub exclude_credentials: Vec<CredentialDescriptor>,
}

/// The relying party: this server.
#[derive(Serialize, schemars::JsonSchema)]
pub struct RelyingParty {
    pub id: String,
    pub name: &'static str,
}

/// The person a passkey is made for.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserEntity {
    /// base64url of the person's id.
    pub id: String,
    pub name: String,
    pub display_name: String,
}

/// A key algorithm the server takes.
#[derive(Serialize, schemars::JsonSchema)]
pub struct CredentialParameters {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A COSE algorithm (-7: ES256).
    pub alg: i32,
}

/// What kind of authenticator is wanted.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelection {
    pub resident_key: &'static str,
    pub user_verification: &'static str,
}

/// A registered credential, by id.
#[derive(Serialize, schemars::JsonSchema)]
pub struct CredentialDescriptor {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// base64url
    pub id: String,
}

/// What `navigator.credentials.get` is asked (WebAuthn's `PublicKeyCredentialRequestOptions`).
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestOptions {
    pub rp_id: String,
    /// base64url
    pub challenge: String,
    /// Milliseconds.
    pub timeout: u32,
    pub user_verification: &'static str,
    pub allow_credentials: Vec<CredentialDescriptor>,
}

fn descriptors(existing: &[Passkey]) -> Vec<CredentialDescriptor> {
    existing
        .iter()
        .map(|p| CredentialDescriptor {
            kind: "public-key",
            id: p.id.clone(),
        })
        .collect()
}

/// What `navigator.credentials.create` is asked, by a page at `origin`, for `person`.
pub fn creation_options(
    party: &Party,
    origin: Option<&str>,
    person: &str,
    name: &str,
    challenge: &[u8],
    existing: &[Passkey],
) -> CreationOptions {
    CreationOptions {
        rp: RelyingParty {
            id: party.pick(origin).0.to_owned(),
            name: "Laurel",
        },
        user: UserEntity {
            id: b64(person.as_bytes()),
            name: name.to_owned(),
            display_name: name.to_owned(),
        },
        challenge: b64(challenge),
        pub_key_cred_params: vec![CredentialParameters {
            kind: "public-key",
            alg: -7,
        }],
        timeout: 120_000,
        attestation: "none",
        authenticator_selection: AuthenticatorSelection {
            resident_key: "preferred",
            user_verification: "preferred",
        },
        exclude_credentials: descriptors(existing),
    }
}

/// What `navigator.credentials.get` is asked, by a page at `origin`: one of `existing`.
pub fn request_options(
    party: &Party,
    origin: Option<&str>,
    challenge: &[u8],
    existing: &[Passkey],
) -> RequestOptions {
    RequestOptions {
        rp_id: party.pick(origin).0.to_owned(),
        challenge: b64(challenge),
        timeout: 120_000,
        user_verification: "preferred",
        allow_credentials: descriptors(existing),
    }
}

/// The client data, checked: its type, the challenge issued, one of this server's origins.
/// The raw data and the RP id that origin answers for.
fn client_data(
    response: &Value,
    kind: &str,
    party: &Party,
    challenge: &[u8],
) -> Result<(Vec<u8>, String), String> {
    let raw = unb64(
        response["clientDataJSON"]
            .as_str()
            .ok_or("the answer has no clientDataJSON")?,
    )?;
    let data: Value =
        serde_json::from_slice(&raw).map_err(|_| "the client data is not JSON".to_owned())?;
    if data["type"] != kind {
        return Err(format!("the client data is not of type {kind}"));
    }
    if data["challenge"].as_str().map(unb64) != Some(Ok(challenge.to_vec())) {
        return Err("the answer is not to the challenge this server issued".to_owned());
    }
    let origin = data["origin"].as_str().unwrap_or_default();
    let id = party
        .id_for(origin)
        .ok_or_else(|| format!("the answer comes from {origin}, not from this server"))?
        .to_owned();
    Ok((raw, id))
}

/// The authenticator data's fixed part, checked: the RP id's hash and the user's presence.
/// Returns the flags and the counter.
fn authenticator_data(data: &[u8], rp_id: &str) -> Result<(u8, u32), String> {
    if data.len() < 37 {
        return Err("the authenticator data is too short".to_owned());
    }
    if data[..32] != Sha256::digest(rp_id.as_bytes())[..] {
        return Err("the authenticator answered for another site".to_owned());
    }
    let flags = data[32];
    if flags & 0x01 == 0 {
        return Err("the authenticator did not check the user's presence".to_owned());
    }
    let count = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    Ok((flags, count))
}

fn map_get<'a>(map: &'a [(Cbor, Cbor)], key: &Cbor) -> Option<&'a Cbor> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Checks a registration (`navigator.credentials.create`'s answer, as JSON with base64url
/// fields): the passkey to keep.
pub fn verify_registration(
    party: &Party,
    challenge: &[u8],
    credential: &Value,
    label: &str,
    now: &str,
) -> Result<Passkey, String> {
    let response = &credential["response"];
    let (_, rp_id) = client_data(response, "webauthn.create", party, challenge)?;
    let object = unb64(
        response["attestationObject"]
            .as_str()
            .ok_or("the answer has no attestationObject")?,
    )?;
    let object: Cbor =
        ciborium::from_reader(&object[..]).map_err(|_| "the attestation is not CBOR".to_owned())?;
    let object = object.as_map().ok_or("the attestation is not a map")?;
    let auth = map_get(object, &Cbor::Text("authData".into()))
        .and_then(Cbor::as_bytes)
        .ok_or("the attestation has no authenticator data")?;
    let (flags, count) = authenticator_data(auth, &rp_id)?;
    if flags & 0x40 == 0 || auth.len() < 55 {
        return Err("the authenticator data carries no credential".to_owned());
    }
    let id_len = usize::from(u16::from_be_bytes([auth[53], auth[54]]));
    let id_end = 55 + id_len;
    let id = auth
        .get(55..id_end)
        .ok_or("the credential id is cut short")?;
    let key: Cbor = ciborium::from_reader(&auth[id_end..])
        .map_err(|_| "the credential's key is not CBOR".to_owned())?;
    let key = key
        .as_map()
        .ok_or("the credential's key is not a COSE key")?;
    let int = |k: i64| map_get(key, &Cbor::Integer(k.into()));
    let is = |k: i64, v: i64| int(k).and_then(Cbor::as_integer) == Some(v.into());
    // kty 2 (EC2), alg -7 (ES256), crv 1 (P-256).
    if !(is(1, 2) && is(3, -7) && is(-1, 1)) {
        return Err("only ES256 (P-256) passkeys are accepted".to_owned());
    }
    let x = int(-2).and_then(Cbor::as_bytes).ok_or("the key has no x")?;
    let y = int(-3).and_then(Cbor::as_bytes).ok_or("the key has no y")?;
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| "the key is not a point on P-256".to_owned())?;
    if credential["id"].as_str().map(unb64) != Some(Ok(id.to_vec())) {
        return Err("the credential's id does not match its data".to_owned());
    }
    Ok(Passkey {
        id: b64(id),
        public_key: b64(&sec1),
        sign_count: count,
        label: label.chars().take(60).collect(),
        created_at: now.to_owned(),
    })
}

/// Checks an assertion (`navigator.credentials.get`'s answer): which of `existing` signed,
/// and its new counter.
pub fn verify_assertion(
    party: &Party,
    challenge: &[u8],
    credential: &Value,
    existing: &[Passkey],
) -> Result<(usize, u32), String> {
    let id = credential["id"]
        .as_str()
        .ok_or("the answer names no credential")?;
    let index = existing
        .iter()
        .position(|p| p.id == id)
        .ok_or("this passkey is not one of yours")?;
    let passkey = &existing[index];
    let response = &credential["response"];
    let (raw_client, rp_id) = client_data(response, "webauthn.get", party, challenge)?;
    let auth = unb64(
        response["authenticatorData"]
            .as_str()
            .ok_or("the answer has no authenticatorData")?,
    )?;
    let (_, count) = authenticator_data(&auth, &rp_id)?;
    let signature = unb64(
        response["signature"]
            .as_str()
            .ok_or("the answer has no signature")?,
    )?;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&unb64(&passkey.public_key)?)
        .map_err(|_| "the stored key cannot be read".to_owned())?;
    let signature = p256::ecdsa::Signature::from_der(&signature)
        .map_err(|_| "the signature is not DER".to_owned())?;
    let mut signed = auth.clone();
    signed.extend_from_slice(&Sha256::digest(&raw_client));
    key.verify(&signed, &signature)
        .map_err(|_| "the signature does not hold".to_owned())?;
    // A counter that does not go up (when the authenticator keeps one) is a cloned key.
    if (count != 0 || passkey.sign_count != 0) && count <= passkey.sign_count {
        return Err("the passkey's counter went back: it may have been copied".to_owned());
    }
    Ok((index, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_party_is_the_public_address() {
        let p = Party::of("https://laurel.example.org/");
        assert_eq!(
            p.pick(None),
            ("laurel.example.org", "https://laurel.example.org")
        );
        assert_eq!(
            p.pick(Some("https://evil.example")),
            ("laurel.example.org", "https://laurel.example.org")
        );
        assert_eq!(p.id_for("http://localhost"), None);
        // A laptop's server is at localhost too (browsers give passkeys to domains only).
        let p = Party::of("http://127.0.0.1:8080");
        assert_eq!(p.pick(None), ("127.0.0.1", "http://127.0.0.1:8080"));
        assert_eq!(
            p.pick(Some("http://localhost:8080")),
            ("localhost", "http://localhost:8080")
        );
        assert_eq!(Party::of("http://[::1]:8080").pick(None).0, "::1");
    }
}

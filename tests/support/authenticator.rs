//! A software passkey authenticator for the tests: an ES256 key, the `none` attestation, and
//! assertions signed as a device does (WebAuthn level 2), so that API tests can register and use
//! a passkey without a browser. The browser test uses Chromium's own virtual authenticator.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value as Cbor;
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A passkey held in memory.
pub struct SoftKey {
    key: p256::ecdsa::SigningKey,
    pub id: Vec<u8>,
    count: u32,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

impl Default for SoftKey {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftKey {
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        let mut id = vec![0u8; 16];
        loop {
            getrandom::fill(&mut secret).unwrap();
            if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&secret.into()) {
                getrandom::fill(&mut id).unwrap();
                return Self { key, id, count: 0 };
            }
        }
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// Answers `navigator.credentials.create(options)` for a page at `origin`.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let rp = options["rp"]["id"].as_str().unwrap();
        let challenge = options["challenge"].as_str().unwrap();
        let point = self.key.verifying_key().to_encoded_point(false);
        let cose = cbor(&Cbor::Map(vec![
            (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
            (Cbor::Integer(3.into()), Cbor::Integer((-7).into())),
            (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
            (
                Cbor::Integer((-2).into()),
                Cbor::Bytes(point.x().unwrap().to_vec()),
            ),
            (
                Cbor::Integer((-3).into()),
                Cbor::Bytes(point.y().unwrap().to_vec()),
            ),
        ]));
        self.count += 1;
        let mut auth = Sha256::digest(rp.as_bytes()).to_vec();
        auth.push(0x45); // user present, verified, attested credential data
        auth.extend_from_slice(&self.count.to_be_bytes());
        auth.extend_from_slice(&[0u8; 16]);
        auth.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
        auth.extend_from_slice(&self.id);
        auth.extend_from_slice(&cose);
        let object = cbor(&Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(vec![])),
            (Cbor::Text("authData".into()), Cbor::Bytes(auth)),
        ]));
        json!({ "id": b64(&self.id), "type": "public-key", "response": {
            "clientDataJSON": b64(&Self::client_data("webauthn.create", challenge, origin)),
            "attestationObject": b64(&object) } })
    }

    /// Answers `navigator.credentials.get(options)` for a page at `origin`.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Value {
        let rp = options["rpId"].as_str().unwrap();
        let challenge = options["challenge"].as_str().unwrap();
        self.count += 1;
        let mut auth = Sha256::digest(rp.as_bytes()).to_vec();
        auth.push(0x05);
        auth.extend_from_slice(&self.count.to_be_bytes());
        let client = Self::client_data("webauthn.get", challenge, origin);
        let mut signed = auth.clone();
        signed.extend_from_slice(&Sha256::digest(&client));
        let signature: p256::ecdsa::Signature = self.key.sign(&signed);
        json!({ "id": b64(&self.id), "type": "public-key", "response": {
            "clientDataJSON": b64(&client), "authenticatorData": b64(&auth),
            "signature": b64(signature.to_der().as_bytes()) } })
    }
}

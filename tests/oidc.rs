//! Sign-in with an OpenID Connect provider, against a real one (the `oidc-provider` package,
//! started on 127.0.0.1 by the test): the authorization code flow with PKCE, the ID token
//! checked, a session for the invited person; a forged or replayed answer, and an address with
//! no account, are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;
use support::{Server, root};

struct Provider {
    child: Child,
    url: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the provider on `port`, vouching for `email`, sending people back to `redirect`.
fn provider(port: u16, redirect: &str, email: &str) -> Provider {
    let mut child = Command::new("node")
        .arg(root().join("tests/oidc/provider.mjs"))
        .env("PORT", port.to_string())
        .env("REDIRECT", redirect)
        .env("EMAIL", email)
        .env("SECRET", "the-client-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node (installed with the browser tests' tools)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the provider started").unwrap();
        if let Some(url) = line.strip_prefix("listening ") {
            break url.to_owned();
        }
    };
    // Whatever it prints later is read (and dropped): a closed pipe would stop it.
    std::thread::spawn(move || lines.for_each(drop));
    Provider { child, url }
}

/// A browser's cookies, by origin.
#[derive(Default)]
struct Jar(BTreeMap<String, BTreeMap<String, String>>);

fn origin(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default().to_owned()
}

impl Jar {
    /// GET `url`, following redirects as a browser does (cookies kept per origin), until a
    /// page that is not a redirect, or a URL for which `stop` is true. The last status, URL
    /// and body.
    fn follow(&mut self, mut url: String, stop: impl Fn(&str) -> bool) -> (u16, String, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        for _ in 0..20 {
            let host = origin(&url);
            let cookies = self
                .0
                .get(&host)
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            let mut r = agent.get(&url);
            if !cookies.is_empty() {
                r = r.header("cookie", &cookies);
            }
            let mut response = r.call().unwrap();
            for set in response.headers().get_all("set-cookie") {
                let pair = set.to_str().unwrap().split(';').next().unwrap();
                if let Some((k, v)) = pair.split_once('=') {
                    self.0
                        .entry(host.clone())
                        .or_default()
                        .insert(k.trim().to_owned(), v.to_owned());
                }
            }
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            match location {
                Some(next) if (300..400).contains(&status) => {
                    url = if next.starts_with("http") {
                        next
                    } else {
                        format!("http://{host}{next}")
                    };
                    if stop(&url) {
                        return (status, url, String::new());
                    }
                }
                _ => {
                    let body = response.body_mut().read_to_string().unwrap_or_default();
                    return (status, url, body);
                }
            }
        }
        panic!("too many redirects");
    }

    fn cookie(&self, host: &str, name: &str) -> Option<String> {
        self.0.get(host).and_then(|c| c.get(name)).cloned()
    }
}

#[test]
fn a_person_signs_in_through_the_citys_provider() {
    let data = tempfile::tempdir().unwrap();
    let sink = support::smtp::Sink::start();
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[("LAUREL_OIDC_CLIENT_SECRET", "the-client-secret")],
        &[
            "--smtp",
            &sink.url,
            "--oidc-issuer",
            &issuer,
            "--oidc-client-id",
            "laurel",
            "--oidc-label",
            "Sign in with Seoul ID",
        ],
    );
    let admin = server.admin().to_owned();
    let (status, v) = server.post(
        "/v1/awards/seoul-smart-city-prize-2023/invitations",
        &admin,
        &json!({"email": "Citizen@Example.org", "name": "A Citizen", "role": "auditor"}),
    );
    assert_eq!(status, 201, "{v}");
    let person = v["person"].as_str().unwrap().to_owned();
    let callback = format!("{}/sign-in/oidc/callback", server.url);
    let idp = provider(port, &callback, "citizen@example.org");
    assert_eq!(idp.url, issuer);

    // The sign-in page offers the provider.
    let mut jar = Jar::default();
    let (status, _, page) = jar.follow(format!("{}/sign-in", server.url), |_| false);
    assert_eq!(status, 200);
    assert!(page.contains("Sign in with Seoul ID"), "{page}");

    // Laurel -> the provider (PKCE, state, nonce) -> its login -> back with a code -> a session.
    let (status, at, page) = jar.follow(format!("{}/sign-in/oidc", server.url), |_| false);
    assert_eq!(status, 200, "ended at {at}: {page}");
    assert!(at.ends_with("/me"), "{at}");
    let laurel = origin(&server.url);
    let session = jar
        .cookie(&laurel, "laurel_session")
        .expect("a session cookie");
    let me: serde_json::Value = {
        let mut r = support::session::agent()
            .get(&format!("{}/v1/me", server.url))
            .header("cookie", &format!("laurel_session={session}"))
            .call()
            .unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    assert_eq!(me["person"], person.as_str(), "{me}");

    // The provider's answer, replayed: the sign-in's record was used once.
    let mut other = Jar::default();
    let (_, back, _) = other.follow(format!("{}/sign-in/oidc", server.url), |u| {
        u.starts_with(&callback)
    });
    assert!(back.starts_with(&callback), "{back}");
    let (status, _, _) = other.follow(back.clone(), |_| false);
    assert_eq!(status, 200);
    let (status, _, page) = other.follow(back.clone(), |_| false);
    assert_eq!(status, 401, "{page}");
    // A forged state.
    let forged = format!("{callback}?code=abc&state=not-ours");
    let (status, _, _) = Jar::default().follow(forged, |_| false);
    assert_eq!(status, 401);
    // An answer whose code was never the provider's.
    let mut third = Jar::default();
    let (_, back, _) = third.follow(format!("{}/sign-in/oidc", server.url), |u| {
        u.starts_with(&callback)
    });
    let state = back
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let (status, _, page) = third
        .follow(format!("{callback}?code=forged-code&state={state}"), |_| {
            false
        });
    assert_eq!(status, 401, "{page}");
    drop(idp);

    // An address the provider vouches for, but with no account here: no session.
    let stranger = provider(port, &callback, "stranger@example.org");
    let mut jar = Jar::default();
    let (status, _, page) = jar.follow(format!("{}/sign-in/oidc", server.url), |_| false);
    assert_eq!(status, 403, "{page}");
    assert!(jar.cookie(&laurel, "laurel_session").is_none());
    drop(stranger);
}

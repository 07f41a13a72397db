//! A person at a browser, as the tests see one: mails read with Python's `email` parser,
//! links followed, a session's cookie and CSRF token carried.

use std::process::Command;

use serde_json::Value;

use super::smtp::Mail;

/// The subject and plain text of a mail, as Python's standard `email` package reads them.
pub fn parsed(mail: &Mail) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.eml");
    std::fs::write(&file, &mail.data).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import email, email.policy, json, sys\n\
             m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
             print(json.dumps({'subject': str(m['subject']), 'text': m.get_body(('plain',)).get_content(),\n\
                               'html': m.get_body(('html',)).get_content()}))",
        )
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["html"].as_str().unwrap().contains("<a href="),
        "an HTML part too"
    );
    (
        v["subject"].as_str().unwrap().to_owned(),
        v["text"].as_str().unwrap().to_owned(),
    )
}

pub fn link_in(text: &str) -> String {
    let start = text.find("http://").expect("a link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A signed-in browser: its cookie and CSRF token, and the passkey its person registered (an
/// administrator must).
pub struct Browser {
    pub base: String,
    pub cookie: String,
    pub csrf: String,
    pub passkey: Option<super::authenticator::SoftKey>,
}

impl Browser {
    /// Follows a mailed link as a person would: opens the page, presses its button.
    pub fn follow(base: &str, link: &str) -> Browser {
        let mut page = agent().get(link).call().unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let csp = page
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let html = page.body_mut().read_to_string().unwrap();
        let token = html
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        assert!(link.ends_with(&token), "the page carries the link's token");
        let r = agent()
            .post(&format!("{base}/v1/sign-in/redeem"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("token={token}"))
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let set = r
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_owned();
        let mut b = Browser {
            base: base.to_owned(),
            cookie,
            csrf: String::new(),
            passkey: None,
        };
        let (status, me) = b.call("GET", "/v1/me", None, true);
        assert_eq!(status, 200, "{me}");
        b.csrf = me["csrf"].as_str().unwrap().to_owned();
        b.second_factor(me["second_factor"].as_str());
        b
    }

    /// Pays the session's second factor, if it owes one: registers a passkey (an
    /// administrator's first sign-in) or uses the one registered.
    pub fn second_factor(&mut self, owed: Option<&str>) {
        match owed {
            None => {}
            Some("enroll") => {
                let (status, options) = self.call(
                    "POST",
                    "/v1/me/passkeys/options",
                    Some(&serde_json::json!({})),
                    true,
                );
                assert_eq!(status, 200, "{options}");
                let mut key = super::authenticator::SoftKey::new();
                let credential = key.register(&options, &self.base);
                let (status, v) = self.call(
                    "POST",
                    "/v1/me/passkeys",
                    Some(&serde_json::json!({ "credential": credential, "label": "test" })),
                    true,
                );
                assert_eq!(status, 201, "{v}");
                self.passkey = Some(key);
            }
            Some(_) => {
                let (status, options) = self.call(
                    "POST",
                    "/v1/sign-in/passkey/options",
                    Some(&serde_json::json!({})),
                    true,
                );
                assert_eq!(status, 200, "{options}");
                let base = self.base.clone();
                let key = self
                    .passkey
                    .as_mut()
                    .expect("the passkey this person registered");
                let credential = key.assert(&options, &base);
                let (status, v) = self.call(
                    "POST",
                    "/v1/sign-in/passkey",
                    Some(&serde_json::json!({ "credential": credential })),
                    true,
                );
                assert_eq!(status, 200, "{v}");
            }
        }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>, csrf: bool) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let a = agent();
        let mut response = match method {
            "GET" => a.get(&url).header("cookie", &self.cookie).call(),
            "DELETE" => {
                let mut r = a.delete(&url).header("cookie", &self.cookie);
                if csrf {
                    r = r.header("x-csrf-token", &self.csrf);
                }
                r.call()
            }
            m => {
                let mut r = match m {
                    "POST" => a.post(&url),
                    _ => a.put(&url),
                }
                .header("cookie", &self.cookie)
                .header("content-type", "application/json");
                if csrf {
                    r = r.header("x-csrf-token", &self.csrf);
                }
                r.send(body.map(Value::to_string).unwrap_or_default())
            }
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let sent = body.map(Value::to_string);
        super::contract::check(
            method,
            path,
            sent.as_deref().map(str::as_bytes),
            status,
            &value,
        );
        (status, value)
    }
}

/// The sign-in link of the first mail to `address` that has one (other mails, such as an
/// administrator's digest, may come before it), waiting up to 20 seconds.
pub fn link_mailed_to(sink: &super::smtp::Sink, address: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let found = sink.got.lock().unwrap().iter().find_map(|m| {
            let (_, text) = parsed(m);
            (m.to == [address.to_owned()] && text.contains("/sign-in?token="))
                .then(|| link_in(&text))
        });
        if let Some(link) = found {
            return link;
        }
        assert!(
            started.elapsed().as_secs() < 20,
            "no sign-in link mailed to {address}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

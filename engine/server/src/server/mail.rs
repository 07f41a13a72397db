//! E-mail: the texts (in the person's language: English or Korean), queued in the outbox with
//! the change that causes them, and sent by SMTP (lettre) or, with no SMTP configured, written
//! as `.eml` files to a folder: a development sink, readable by this user only (the folder
//! 0700, each file 0600), whose files the log names; the log never shows a link or an address.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::{Message as Email, Transport};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::tx::Tx;
use super::webhooks::{Message, message_id};
use super::words::{t, tf};
use crate::store::Tree;

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum MailConfig {
    /// An SMTP server, by URL: `smtp://host:port` (plain: a local relay),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS from the start),
    /// with `user:password@` before the host when the server asks for a login.
    Smtp {
        /// The URL, as given.
        url: String,
        /// The sender.
        from: String,
    },
    /// A folder of `.eml` files (a development sink, private to this user); the log names each
    /// file.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// The sender.
        from: String,
    },
}

impl MailConfig {
    /// Reads `--smtp` (or none: the folder).
    pub fn from_args(smtp: Option<&str>, from: &str, dir: PathBuf) -> Result<Self, String> {
        let Some(url) = smtp else {
            return Ok(MailConfig::Folder {
                dir,
                from: from.to_owned(),
            });
        };
        transport(url, Duration::from_secs(10))?;
        Ok(MailConfig::Smtp {
            url: url.to_owned(),
            from: from.to_owned(),
        })
    }
}

/// The SMTP client for `url`: its scheme says whether and how TLS is used.
fn transport(url: &str, timeout: Duration) -> Result<SmtpTransport, String> {
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err(format!(
            "`{}`: write smtp://host:port, smtp://host:587?tls=required (STARTTLS) or smtps://host:465",
            redacted(url)
        ));
    }
    Ok(SmtpTransport::from_url(url)
        .map_err(|e| format!("`{}`: {e}", redacted(url)))?
        .timeout(Some(timeout))
        .build())
}

/// `url` without its password, for messages and logs.
fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, rest)), Some((_, host))) if rest.contains('@') => {
            let user = rest.split([':', '@']).next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// A mail, as queued (sealed in the outbox).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain text.
    pub text: String,
    /// The HTML.
    pub html: String,
    /// The link it carries, if any (printed to the log in folder mode).
    #[serde(default)]
    pub link: Option<String>,
}

/// What a mail is about.
pub enum Kind {
    /// A one-time sign-in link.
    SignIn { link: String },
    /// An invitation to an award, with its role.
    Invitation {
        award_name: String,
        role: String,
        link: String,
    },
    /// A registration: verify the address and sign in.
    Welcome { award_name: String, link: String },
}

/// The mail's subject, paragraphs and link, in `language` (the catalogue of words; English
/// where it has no word in that language).
pub fn compose(to: &str, name: &str, language: &str, kind: &Kind) -> Mail {
    let hello = tf(language, "mail.hello", &[("name", name)]);
    let (subject, lines, link): (String, Vec<String>, &String) = match kind {
        Kind::SignIn { link } => (
            t(language, "mail.sign_in.subject").to_owned(),
            vec![
                hello,
                t(language, "mail.sign_in.body").to_owned(),
                t(language, "mail.sign_in.ignore").to_owned(),
            ],
            link,
        ),
        Kind::Invitation {
            award_name,
            role,
            link,
        } => (
            tf(
                language,
                "mail.invitation.subject",
                &[("award", award_name)],
            ),
            vec![
                hello,
                tf(
                    language,
                    "mail.invitation.role",
                    &[("award", award_name), ("role", role)],
                ),
                t(language, "mail.invitation.link").to_owned(),
            ],
            link,
        ),
        Kind::Welcome { award_name, link } => (
            tf(language, "mail.welcome.subject", &[("award", award_name)]),
            vec![
                hello,
                tf(language, "mail.welcome.body", &[("award", award_name)]),
            ],
            link,
        ),
    };
    render(to, language, subject, &lines, link)
}

/// A mail of paragraphs and a link, as plain text and escaped HTML.
pub fn render(to: &str, language: &str, subject: String, lines: &[String], link: &str) -> Mail {
    let text = format!("{}\n\n{link}\n", lines.join("\n\n"));
    // Escaped by the template engine, as every page is.
    let html = maud::html! {
        (maud::DOCTYPE)
        html lang=(language) {
            body {
                @for l in lines { p { (l) } }
                p { a href=(link) { (link) } }
            }
        }
    }
    .into_string();
    Mail {
        to: to.to_owned(),
        subject,
        text,
        html,
        link: Some(link.to_owned()),
    }
}

/// Queues `mail` in the commit of `tx`, sealed.
pub fn queue(
    tx: &mut Tx<'_>,
    sealer: &super::crypto::Sealer,
    award: &str,
    at: &str,
    mail: &Mail,
) -> Result<(), ApiError> {
    let id = message_id("mail_", at)?;
    let payload = serde_json::to_value(mail).map_err(|e| ApiError::Internal(e.to_string()))?;
    let message = Message {
        mail: Some(sealer.seal_value(&format!("outbox/{id}"), &payload)),
        ..Message::pending(id.clone(), award, "mail".to_owned(), "mail", at)
    };
    tx.put(Tree::Outbox, id.into_bytes(), &message);
    Ok(())
}

/// An address shown in the log: `k***@example.org`.
pub fn masked(to: &str) -> String {
    match to.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

/// Sends one mail (blocking).
pub fn send(config: &MailConfig, id: &str, mail: &Mail, timeout: Duration) -> Result<(), String> {
    let from = match config {
        MailConfig::Smtp { from, .. } | MailConfig::Folder { from, .. } => from,
    };
    let email = Email::builder()
        .from(
            from.parse::<Mailbox>()
                .map_err(|e| format!("the sender: {e}"))?,
        )
        .to(mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| format!("the recipient: {e}"))?)
        .subject(&mail.subject)
        .message_id(Some(format!("<{id}@laurel>")))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| e.to_string())?;
    match config {
        MailConfig::Smtp { url, .. } => transport(url, timeout)?
            .send(&email)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        MailConfig::Folder { dir, .. } => {
            use std::io::Write as _;
            use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| e.to_string())?;
            let file = dir.join(format!("{id}.eml"));
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&file)
                .and_then(|mut f| f.write_all(&email.formatted()))
                .map_err(|e| e.to_string())?;
            // The address masked, the link (a credential) never: it is in the file. Said on
            // standard output when it can be: a reader that has gone (`laurel serve | head`)
            // fails no delivery (`println!` would panic, and the mail be written again).
            let _ = writeln!(
                std::io::stdout().lock(),
                "laurel: mail to {}: {} ({})",
                masked(&mail.to),
                mail.subject,
                file.display()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_choose_plain_starttls_or_tls_and_others_are_refused() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://relay.example.org:587?tls=required",
            "smtps://user:secret@mail.example.org:465",
        ] {
            assert!(
                MailConfig::from_args(Some(good), "a@b.c", PathBuf::new()).is_ok(),
                "{good}"
            );
        }
        for bad in ["http://mail.example.org", "mail.example.org:25"] {
            let err = MailConfig::from_args(Some(bad), "a@b.c", PathBuf::new()).unwrap_err();
            assert!(err.contains("smtps://"), "{err}");
        }
    }

    /// What a person wrote (a name, an award's name) reaches the HTML escaped, never as markup.
    #[test]
    fn the_html_part_escapes_what_people_wrote() {
        let mail = render(
            "a@b.c",
            "en",
            "s".to_owned(),
            &["Dear <script>alert(1)</script> & \"friends\"".to_owned()],
            "http://localhost/x?a=1&b=\"2\"",
        );
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;"),
            "{}",
            mail.html
        );
        assert!(
            mail.html
                .contains("href=\"http://localhost/x?a=1&amp;b=&quot;2&quot;\""),
            "{}",
            mail.html
        );
        assert!(
            mail.html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{}",
            mail.html
        );
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redacted("smtps://user:secret@mail.example.org:465"),
            "smtps://user:***@mail.example.org:465"
        );
        assert_eq!(redacted("smtp://relay:25"), "smtp://relay:25");
    }
}

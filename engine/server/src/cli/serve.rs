//! `laurel serve`: the HTTP API over sled in a local folder, with the shipped rubrics.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::EXIT_OK;
use crate::server::{AppState, Throttle, bootstrap_admin, install_rubrics, router};

/// `laurel serve`'s options.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The data folder (created if missing); the data key is kept outside it (see `--key-file`).
    #[arg(long, default_value = "laurel-data")]
    data: PathBuf,
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Rubrics installed on start (each folder with an award.json).
    #[arg(long, default_value = "rubrics")]
    rubrics: PathBuf,
    /// The longest the plugin work of one request may take, in milliseconds: past it, its
    /// remaining plugin calls fail at once and it is answered with their errors.
    #[arg(long, default_value_t = 10_000)]
    plugin_deadline_ms: u64,
    #[command(flatten)]
    key: super::data_key::KeyArgs,
    /// Take this instant (RFC 3339) as now for award timelines: to rehearse a call, or in
    /// tests. The system clock by default.
    #[arg(long)]
    now: Option<String>,
    /// Failed authentications a client address may make before each further one blocks it
    /// for a growing delay (1 s, 2 s, 4 s, ... up to 15 minutes; answered 429 with
    /// `Retry-After`). Failures are forgotten after 15 minutes.
    #[arg(long, default_value_t = 5)]
    auth_failures_allowed: u32,
    /// The waits before each retry of a webhook that failed (`ms`, `s`, `m`, `h`); after the
    /// last, the message is marked failed and can be redelivered by hand. Standard Webhooks'
    /// schedule by default, about a day in all.
    #[arg(long, default_value = "5s,5m,30m,2h,5h,10h,10h")]
    webhook_retries: String,
    /// How long one webhook attempt may take, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    webhook_timeout_ms: u64,
    /// Let webhook endpoints be on loopback or private addresses (refused by default, so
    /// that an endpoint cannot reach services inside the server's network).
    #[arg(long)]
    webhooks_to_private_addresses: bool,
    /// An SMTP server for mail: `smtp://host:port` (plain, e.g. the machine's own MTA),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://host:465` (TLS). Without
    /// it, mails are written as `.eml` files to `--mail-dir` and their links printed here.
    #[arg(long, env = "LAUREL_SMTP")]
    smtp: Option<String>,
    /// The sender of mails.
    #[arg(
        long,
        env = "LAUREL_MAIL_FROM",
        default_value = "Laurel <laurel@localhost>"
    )]
    mail_from: String,
    /// Where mails go without `--smtp`. Default: `<data folder>.mail` beside the data folder.
    #[arg(long)]
    mail_dir: Option<PathBuf>,
    /// The address people reach this server at, for the links in mails. Default: the
    /// address it listens on.
    #[arg(long, env = "LAUREL_PUBLIC_URL")]
    public_url: Option<String>,
    /// How long before a round's `closes` its judges are reminded of what they have not
    /// marked (`48h`, `90m`, ...).
    #[arg(long, default_value = "48h")]
    reminder_lead: String,
    /// Makes this address an administrator of every award (once) and mails it a sign-in link:
    /// the first person of a new installation, who then invites the others from the pages.
    #[arg(long, env = "LAUREL_ADMIN_EMAIL")]
    admin_email: Option<String>,
    /// An origin whose pages may call the API from a browser (CORS), e.g.
    /// `https://portal.example.org`; repeat for several. None by default.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Requests each API key (or session, or address without either) may make a minute;
    /// past it, 429 with `Retry-After`.
    #[arg(long, default_value_t = crate::server::DEFAULT_RATE_LIMIT)]
    rate_limit: u64,
    /// Requests each client address may make a minute to what anyone may call without an
    /// account and that costs real work (`/v1/validate`, the playground); past it, 429.
    #[arg(long, default_value_t = crate::server::DEFAULT_ANONYMOUS_RATE_LIMIT)]
    anonymous_rate_limit: u64,
    /// Threads that run requests that may commit (POST, PUT, DELETE). A request waits on its
    /// thread while its commit is made durable: with more threads than cores, more commits
    /// share one flush. Other requests (a health check, a page, a read) are answered by
    /// threads of their own meanwhile. 4 per core (at least 8) by default.
    #[arg(long, env = "LAUREL_WORKERS")]
    workers: Option<usize>,
    /// Files one person may upload to one award; past it, 429.
    #[arg(long, default_value_t = crate::server::Quotas::default().upload_files)]
    upload_files: u64,
    /// Bytes one person may upload to one award; past it, 429.
    #[arg(long, default_value_t = crate::server::Quotas::default().upload_bytes)]
    upload_bytes: u64,
    /// Invitations one award may have waiting; past it, 429.
    #[arg(long, default_value_t = crate::server::Quotas::default().invitations)]
    invitations: u64,
    /// Sign in with an OpenID Connect provider (a city's single sign-on): its issuer URL. With
    /// `--oidc-client-id` and the client secret; the sign-in page then offers it beside the
    /// mailed link.
    #[arg(long, env = "LAUREL_OIDC_ISSUER", requires = "oidc_client_id")]
    oidc_issuer: Option<String>,
    /// Laurel's client id at the OpenID Connect provider.
    #[arg(long, env = "LAUREL_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// Laurel's client secret at the OpenID Connect provider (better in the environment).
    #[arg(
        long,
        env = "LAUREL_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    oidc_client_secret: String,
    /// The words on the sign-in page's button for the provider.
    #[arg(long, default_value = "Sign in with your organisation's account")]
    oidc_label: String,
    /// Whether administrators confirm every sign-in in the pages with a passkey (WebAuthn):
    /// `required` (registered at their first sign-in) or `optional` (as for everyone).
    #[arg(long, value_parser = ["required", "optional"], default_value = "required")]
    admin_passkeys: String,
    /// A reverse proxy (an address, or address/prefix) whose `X-Forwarded-For` names the
    /// client: rate limits and blocks then apply to the real client, not the proxy. Repeat for
    /// several. None by default (the connection's address is the client).
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<String>,
    /// Webhook endpoints the installation may have; past it, 429.
    #[arg(long, default_value_t = crate::server::Quotas::default().webhooks)]
    webhooks: u64,
    #[command(flatten)]
    store: super::store_args::StoreArgs,
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let ServeArgs {
        data,
        listen,
        rubrics,
        plugin_deadline_ms,
        key,
        now,
        auth_failures_allowed,
        webhook_retries,
        webhook_timeout_ms,
        webhooks_to_private_addresses,
        smtp,
        mail_from,
        mail_dir,
        public_url,
        reminder_lead,
        admin_email,
        cors_origins,
        rate_limit,
        anonymous_rate_limit,
        workers,
        upload_files,
        upload_bytes,
        invitations,
        webhooks,
        trusted_proxies,
        oidc_issuer,
        oidc_client_id,
        oidc_client_secret,
        oidc_label,
        admin_passkeys,
        store: store_args,
    } = args;
    let trusted = crate::server::listen::TrustedProxies::parse(trusted_proxies)
        .map_err(|e| anyhow::anyhow!("--trusted-proxy {e}"))?;
    let timing = crate::server::scheduler::Timing {
        reminder_lead: crate::server::outbox::parse_schedule(reminder_lead)
            .ok()
            .and_then(|d| (d.len() == 1).then(|| d[0]))
            .ok_or_else(|| {
                anyhow::anyhow!("`--reminder-lead {reminder_lead}`: write one duration, e.g. 48h")
            })?,
        ..Default::default()
    };
    let mail_dir = mail_dir.clone().unwrap_or_else(|| {
        let mut name = data.as_os_str().to_owned();
        name.push(".mail");
        PathBuf::from(name)
    });
    let mail = crate::server::mail::MailConfig::from_args(smtp.as_deref(), mail_from, mail_dir)
        .map_err(|e| anyhow::anyhow!("`--smtp`: {e}"))?;
    let schedule = crate::server::outbox::parse_schedule(webhook_retries)
        .map_err(|e| anyhow::anyhow!("`--webhook-retries`: {e}"))?;
    let defaults = crate::server::outbox::Delivery::default();
    // Commits wake the worker, and it sleeps until the soonest retry or lease falls due.
    let tick = defaults.tick;
    let delivery = std::sync::Arc::new(crate::server::outbox::Delivery {
        schedule,
        timeout: std::time::Duration::from_millis(*webhook_timeout_ms),
        mail,
        tick,
    });
    let (data, rubrics) = (data.as_path(), rubrics.as_path());
    let plugin_deadline = std::time::Duration::from_millis(*plugin_deadline_ms);
    let clock = now
        .as_deref()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.to_utc())
                .with_context(|| format!("`--now {t}` is not an RFC 3339 instant"))
        })
        .transpose()?;
    // Held to the end: dropping them sends the traces still waiting, then writes the log's last
    // lines (unless its reader is stuck): declared first, the log is dropped last.
    let (traces, log) = logs_and_traces()?;
    let _log = log;
    let traces = traces;
    crate::store::folders::create(data)
        .with_context(|| format!("cannot create `{}`", data.display()))?;
    let store = store_args.open(data)?;
    // Before anything is written (which would lengthen a chain cut short): the records the
    // witness saw must still be there.
    let witness = crate::server::witness::path_beside(&super::data_key::key_path(data, key));
    if let Some(why) = crate::server::witness::contradicted(&witness, store.as_ref())
        .map_err(anyhow::Error::msg)?
    {
        anyhow::bail!("{why}");
    }
    let sealer = super::data_key::open(data, key, store.as_ref(), true)?;
    if let Some(secret) = bootstrap_admin(store.as_ref())? {
        outln!("laurel: admin key (shown once; only its hash is stored): {secret}");
    }
    for id in install_rubrics(store.as_ref(), rubrics)? {
        outln!("laurel: installed rubric {id} (version 1, draft)");
    }
    // The outbound TLS trust is checked now, not at the first webhook.
    crate::server::outbound::tls().map_err(anyhow::Error::msg)?;
    let now_text = crate::store::now();
    crate::server::signing::ensure(store.as_ref(), &sealer, false, &now_text)
        .context("cannot make the results-signing key")?;
    let mut state = AppState::new(store, sealer);
    outln!(
        "laurel: the audit chain's head is witnessed in {} (`laurel audit verify` reads it)",
        witness.display()
    );
    let head = crate::store::head(state.store.as_ref())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_or(0, |r| r.seq);
    state.witness = Some(Arc::new(crate::server::witness::Witness::new(
        witness, head,
    )));
    state.plugin_deadline = plugin_deadline;
    state.clock = clock;
    state.traces = traces.is_some();
    // Failed attempts, like requests, are counted with the other processes on a shared store:
    // a second process gives a guesser no second allowance.
    if state.store.shares_budgets() {
        let store = state.store.clone();
        let shared = |free, name| Arc::new(Throttle::across_processes(free, name, store.clone()));
        state.throttle = shared(*auth_failures_allowed, "failures");
        state.link_throttle = shared(state.link_throttle.free(), "links");
        state.mailbox_throttle = shared(state.mailbox_throttle.free(), "mailbox");
    } else {
        state.throttle = Arc::new(Throttle::new(*auth_failures_allowed));
    }
    state.webhooks_to_private = *webhooks_to_private_addresses;
    state.cors_origins = cors_origins.clone();
    // Counted with the other processes when the store is shared, in the clock's minutes.
    let budgets = if state.store.shares_budgets() {
        crate::server::ratelimit::Budgets::across_processes
    } else {
        crate::server::ratelimit::Budgets::new
    };
    state.budgets = Arc::new(budgets(*rate_limit));
    state.anonymous_budgets = Arc::new(budgets(*anonymous_rate_limit));
    if let (Some(issuer), Some(client_id)) = (oidc_issuer, oidc_client_id) {
        state.oidc = Some(Arc::new(crate::server::oidc::Oidc::new(
            crate::server::oidc::OidcConfig {
                issuer: issuer.clone(),
                client_id: client_id.clone(),
                client_secret: oidc_client_secret.clone(),
                label: oidc_label.clone(),
            },
        )));
    }
    state.admin_passkeys = admin_passkeys == "required";
    state.quotas = crate::server::Quotas {
        upload_files: *upload_files,
        upload_bytes: *upload_bytes,
        invitations: *invitations,
        webhooks: *webhooks,
    };
    if let Some(c) = clock {
        outln!("laurel: award timelines read the clock as {c}");
    }
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads((2 * cores).max(4))
        .thread_name("laurel-request")
        .enable_all()
        .build()?;
    // Requests that may commit run here: each waits on its thread until its commit is durable,
    // so there are more threads than cores (more commits then share a flush), and none of
    // them is one that answers the other requests.
    let writes = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.unwrap_or((4 * cores).max(8)).clamp(1, 512))
        .thread_name("laurel-write")
        .on_thread_start(|| {
            yield_to_readers();
            crate::store::may_block_here();
        })
        .enable_all()
        .build()?;
    let writes_handle = writes.handle().clone();
    runtime.block_on(async move {
        let addr: SocketAddr = listen
            .parse()
            .with_context(|| format!("`{listen}` is not an address such as 127.0.0.1:8080"))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let mut state = state;
        state.public_url = public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"))
            .trim_end_matches('/')
            .to_owned();
        state.secure_cookies = state.public_url.starts_with("https://");
        if let Some(email) = admin_email {
            match crate::server::invite_administrator(&state, email) {
                Ok(true) => outln!(
                    "laurel: invited {} as an administrator: the sign-in link is mailed",
                    crate::server::mail::masked(email)
                ),
                Ok(false) => {}
                Err(e) => anyhow::bail!("`--admin-email {email}`: {e:?}"),
            }
        }
        match &store_args.url {
            Some(url) => outln!("laurel: data in {}", crate::store::redact(url)),
            None => outln!("laurel: data in {}", data.display()),
        }
        outln!("laurel: listening on http://{local}");
        // The outbox worker: webhooks committed before a crash are sent after the restart.
        tokio::spawn(crate::server::outbox::run(state.clone(), delivery));
        // The clock's work: reminders before rounds close, administrators' digests.
        tokio::spawn(crate::server::scheduler::run(state.clone(), timing));
        // Rate limits counted across the processes on one database.
        tokio::spawn(crate::server::ratelimit::share_counts(state.clone()));
        // Lines the log's reader did not take in time: said in the log once it reads again.
        tokio::spawn(crate::server::log_lines::Lines::report_drops(
            std::time::Duration::from_secs(1),
        ));
        crate::server::listen::serve(
            listener,
            router(state),
            trusted,
            Some(writes_handle),
            shutdown(),
        )
        .await?;
        outln!("laurel: stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    // Every request was answered (or given up after 30 s) above.
    writes.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(ExitCode::from(EXIT_OK))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The log on stderr and, when the environment names an OpenTelemetry collector, traces for it
/// (see `telemetry`): what flushes the traces when dropped, and the log's lines (written by a
/// thread of their own, see `log_lines`).
fn logs_and_traces() -> anyhow::Result<(
    Option<super::telemetry::Traces>,
    crate::server::log_lines::FlushOnDrop,
)> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("LAUREL_LOG")
        .unwrap_or_else(|_| "laurel=info".into());
    let (traces, flush) = match super::telemetry::layer()? {
        Some((layer, flush)) => (Some(layer), Some(flush)),
        None => (None, None),
    };
    let lines = crate::server::log_lines::start(std::io::stderr())
        .context("cannot start the log's thread")?;
    let logs = tracing_subscriber::fmt::layer().with_writer(lines.clone());
    let registry = tracing_subscriber::registry().with(traces);
    // A person at a terminal reads text; a file or a log collector gets one JSON object a
    // line, without terminal escapes. `LAUREL_LOG_FORMAT=text|json` chooses.
    let json = match std::env::var("LAUREL_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    if json {
        registry
            .with(logs.json().with_current_span(false).with_filter(filter))
            .init();
    } else {
        registry
            .with(
                logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_filter(filter),
            )
            .init();
    }
    Ok((flush, crate::server::log_lines::FlushOnDrop(lines)))
}

/// How much lower the writes' threads are scheduled than the threads that answer the rest
/// (`nice`; 0 is the process's own).
const WRITE_NICE: i32 = 5;

/// Lowers the calling thread's scheduling priority (on Linux, `nice` is a thread's own): under
/// a load of writes, a thread that answers another request (a health check, a page, a score)
/// is given a core as soon as it has work, instead of waiting its turn behind the writes,
/// which take every cycle left and, when nothing else runs, all of them.
fn yield_to_readers() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(None, WRITE_NICE) {
        tracing::debug!("the writes' threads keep the process's priority: {e}");
    }
}

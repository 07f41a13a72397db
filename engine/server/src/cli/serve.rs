//! `laurel serve`: the HTTP API over sled in a local folder, with the shipped rubrics.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::EXIT_OK;
use crate::server::{AppState, bootstrap_admin, install_rubrics, router};
use crate::store::SledStore;

pub fn run(
    data: &Path,
    listen: &str,
    rubrics: &Path,
    plugin_deadline: std::time::Duration,
    key: &super::data_key::KeyArgs,
    now: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let clock = now
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.to_utc())
                .with_context(|| format!("`--now {t}` is not an RFC 3339 instant"))
        })
        .transpose()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAUREL_LOG")
                .unwrap_or_else(|_| "laurel=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    std::fs::create_dir_all(data).with_context(|| format!("cannot create `{}`", data.display()))?;
    let store = Arc::new(SledStore::open(&data.join("db")).map_err(|e| anyhow::anyhow!("{e}"))?);
    let sealer = super::data_key::open(data, key, store.as_ref(), true)?;
    if let Some(secret) = bootstrap_admin(store.as_ref())? {
        println!("laurel: admin key (shown once; only its hash is stored): {secret}");
    }
    for id in install_rubrics(store.as_ref(), rubrics)? {
        println!("laurel: installed rubric {id} (version 1, draft)");
    }
    let mut state = AppState::new(store, sealer);
    state.plugin_deadline = plugin_deadline;
    state.clock = clock;
    if let Some(c) = clock {
        println!("laurel: award timelines read the clock as {c}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr: SocketAddr = listen
            .parse()
            .with_context(|| format!("`{listen}` is not an address such as 127.0.0.1:8080"))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        println!("laurel: data in {}", data.display());
        println!("laurel: listening on http://{local}");
        crate::server::listen::serve(listener, router(state), shutdown()).await?;
        println!("laurel: stopped");
        Ok::<_, anyhow::Error>(())
    })?;
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

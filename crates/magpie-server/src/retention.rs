//! Retention: removes what an app's messaging settings no longer keep
//! (messages older than `retention_days`, log entries beyond the newest
//! `retention_entries` of each account). Runs every `retention_interval_ms`
//! and on demand through the admin API. A device whose cursor points at
//! removed entries resumes after them at its next sync.

use crate::apps::AppCtx;
use crate::state::Shared;
use magpie_store::Pruned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Applies one app's retention now.
pub async fn prune_app(shared: &Shared, app: &AppCtx) -> anyhow::Result<Pruned> {
    let m = &app.messaging;
    let before = (m.retention_days > 0)
        .then(|| magpie_store::now_ms() - i64::from(m.retention_days) * 86_400_000);
    let keep = (m.retention_entries > 0).then_some(m.retention_entries);
    if before.is_none() && keep.is_none() {
        return Ok(Pruned::default());
    }
    let p = shared
        .stores
        .messages
        .prune(app.app.id, before, keep)
        .await?;
    if p.messages > 0 || p.entries > 0 {
        tracing::info!(
            app = %app.app_key,
            messages = p.messages,
            entries = p.entries,
            "retention removed old messages"
        );
    }
    Ok(p)
}

/// Applies every app's retention once; failures are logged per app.
pub async fn run_once(shared: &Shared) {
    match shared.stores.messages.purge_deleted_apps().await {
        Ok(0) => {}
        Ok(rows) => tracing::info!(rows, "retention removed what deleted apps still held"),
        Err(e) => tracing::error!(error = %e, "retention: purging deleted apps failed"),
    }
    let apps = match shared.stores.apps.list_apps().await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "retention: listing apps failed");
            return;
        }
    };
    for app in apps {
        let r = match shared.apps.get(&app.app_key).await {
            Ok(Some(ctx)) => prune_app(shared, &ctx).await,
            Ok(None) => continue,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = r {
            tracing::error!(app = %app.app_key, error = %e, "retention failed");
        }
    }
}

/// The background job: a round every `every`, the first one right away;
/// `rounds` counts finished rounds.
pub(crate) async fn job(
    shared: Arc<Shared>,
    every: Duration,
    rounds: watch::Sender<u64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stop = tokio::select! {
            _ = tick.tick() => false,
            _ = shutdown.wait_for(|v| *v) => true,
        };
        if stop {
            return;
        }
        run_once(&shared).await;
        rounds.send_modify(|n| *n += 1);
    }
}

//! Event webhooks: NIM's event copies ("抄送") of logins and logouts, for
//! apps that set a webhook URL.
//!
//! An event is queued in memory (bounded; a login never waits for it),
//! written to the store's durable outbox ([`EventOutbox`]) in groups by
//! `writer`, and POSTed by `deliverer`, signed like the login callback
//! (`AppKey`, `CurTime`, `MD5`, `CheckSum`). An event leaves the outbox only
//! when the app server answers 2xx: it is delivered at least once, with
//! retries that back off exponentially (with jitter) up to
//! `webhook.retry_max_ms`, and given up after `webhook.give_up_after_hours`.
//! The receiver must deduplicate (NIM says the same of its copies); each
//! event carries an `eventId`, the same on every attempt.
//!
//! Bodies follow NIM's login (eventType 2) and logout (eventType 3) copies,
//! every value a string; a kick-out is a logout with `logoutType` `KICK`
//! and its NIM `kickReason` (docs/decisions.md, "Event webhooks").
//!
//! [`EventOutbox`]: magpie_store::EventOutbox

use crate::apps::AppCtx;
use crate::login::LoggedIn;
use crate::state::Shared;
use magpie_proto::types::client_type;
use magpie_store::OutboxEvent;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};

/// Events written to the store in one group at most.
const GROUP: usize = 512;
/// Events read from the outbox per round.
const BATCH: usize = 64;

/// Why a device's session ended, for its logout event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoutKind {
    /// The device logged out.
    Logout,
    /// The device was kicked out (NIM kick reason).
    Kick(u32),
    /// The connection ended without a logout (network, timeout, server stop).
    Disconnect,
}

/// The in-memory side of the webhooks: the queue in front of the outbox.
pub struct Webhooks {
    tx: mpsc::Sender<(i64, String)>,
    rx: Mutex<Option<mpsc::Receiver<(i64, String)>>>,
    /// Woken when events reach the outbox.
    wake: Notify,
}

impl Webhooks {
    /// A queue of `capacity` events.
    pub fn new(capacity: usize) -> Webhooks {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        Webhooks {
            tx,
            rx: Mutex::new(Some(rx)),
            wake: Notify::new(),
        }
    }

    fn emit(&self, shared: &Shared, app: &AppCtx, mut body: Value) {
        if app.app.settings.webhook.is_none() {
            return;
        }
        body["eventId"] = Value::String(magpie_store::generate_key(16));
        match self.tx.try_send((app.app.id, body.to_string())) {
            Ok(()) => {
                shared.metrics.webhook_events.inc();
            }
            Err(_) => {
                shared.metrics.webhook_dropped.inc();
                tracing::warn!(app = %app.app_key, "webhook queue full: an event was dropped (webhook.queue)");
            }
        }
    }
}

/// NIM's client type names of event copies (`AOS`, `IOS`, `PC`, ...).
fn client_name(t: u32) -> &'static str {
    client_type::callback_name(t)
}

/// A login (eventType 2).
pub fn login(shared: &Shared, app: &AppCtx, s: &LoggedIn, peer: SocketAddr, sdk_version: &str) {
    if app.app.settings.webhook.is_none() {
        return;
    }
    let mut body = device_event("2", s, peer);
    body["sdkVersion"] = sdk_version.into();
    shared.webhooks.emit(shared, app, body);
}

/// The fields login and logout events share.
fn device_event(event_type: &str, s: &LoggedIn, peer: SocketAddr) -> Value {
    json!({
        "eventType": event_type,
        "accid": s.key.accid.as_str(),
        "clientType": client_name(s.client_type),
        "customClientType": s.custom_client_type.to_string(),
        "deviceId": &*s.device_id,
        "clientIp": peer.ip().to_string(),
        "clientPort": peer.port().to_string(),
        "code": "200",
        "timestamp": magpie_store::now_ms().to_string(),
    })
}

/// NIM's message type names of event copies.
fn msg_type_name(t: i32) -> String {
    use magpie_proto::msg::message_type as m;
    match t {
        m::TEXT => "TEXT",
        m::IMAGE => "PICTURE",
        m::AUDIO => "AUDIO",
        m::VIDEO => "VIDEO",
        m::LOCATION => "LOCATION",
        m::NOTIFICATION => "NOTIFICATION",
        m::FILE => "FILE",
        m::TIPS => "TIPS",
        m::ROBOT => "ROBOT",
        m::CUSTOM => "CUSTOM",
        other => return other.to_string(),
    }
    .to_owned()
}

/// The app of `app_id` when it is cached and has a webhook (no store
/// access: a message's path never waits for this).
fn hooked(shared: &Shared, app_id: i64) -> Option<Arc<AppCtx>> {
    shared
        .apps
        .cached_by_id(app_id)
        .filter(|a| a.app.settings.webhook.is_some())
}

/// A stored P2P message (eventType 1, convType PERSON), from its JSON.
pub fn message(shared: &Shared, app_id: i64, msg_json: &str) {
    let Some(app) = hooked(shared, app_id) else {
        return;
    };
    let Ok(m) = serde_json::from_str::<magpie_proto::msg::ImMessage>(msg_json) else {
        return;
    };
    let ext = m
        .extra
        .get("server_ext")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    shared.webhooks.emit(
        shared,
        &app,
        json!({
            "eventType": "1",
            "convType": "PERSON",
            "to": m.to_accid,
            "fromAccount": m.from_id,
            "fromClientType": client_name(m.from_client_type),
            "fromDeviceId": m.from_device_id,
            "fromNick": m.from_nick,
            "msgTimestamp": m.time.to_string(),
            "msgType": msg_type_name(m.msg_type),
            "body": m.msg_body,
            "attach": m.msg_attach,
            "msgidServer": m.server_msg_id.to_string(),
            "msgidClient": m.client_msg_id,
            "resendFlag": m.resend_flag.to_string(),
            "ext": ext,
        }),
    );
}

/// A stored custom system notification (eventType 1, convType
/// CUSTOM_PERSON, msgType CUSTOM_P2P_MSG), from its JSON.
pub fn notification(shared: &Shared, app_id: i64, json_text: &str) {
    let Some(app) = hooked(shared, app_id) else {
        return;
    };
    let Ok(n) = serde_json::from_str::<magpie_proto::msg::SysMsg>(json_text) else {
        return;
    };
    shared.webhooks.emit(
        shared,
        &app,
        json!({
            "eventType": "1",
            "convType": "CUSTOM_PERSON",
            "to": n.to_account,
            "fromAccount": n.from_account,
            "msgTimestamp": n.msg_time.to_string(),
            "msgType": "CUSTOM_P2P_MSG",
            "body": "",
            "attach": n.attach,
            "msgidServer": n.msg_id.to_string(),
            "msgidClient": n.client_msg_id,
        }),
    );
}

/// A logout (eventType 3): the device logged out, was kicked, or went away.
pub async fn logout(shared: &Shared, s: &LoggedIn, peer: SocketAddr, kind: LogoutKind) {
    let Ok(Some(app)) = shared.apps.get(&s.app_key).await else {
        return;
    };
    if app.app.settings.webhook.is_none() {
        return;
    }
    let mut body = device_event("3", s, peer);
    body["logoutType"] = match kind {
        LogoutKind::Logout => "LOGOUT",
        LogoutKind::Kick(_) => "KICK",
        LogoutKind::Disconnect => "DISCONNECT",
    }
    .into();
    if let LogoutKind::Kick(reason) = kind {
        body["kickReason"] = reason.to_string().into();
    }
    shared.webhooks.emit(shared, &app, body);
}

/// Writes queued events to the outbox in groups, until `finish` (sent
/// once every connection has ended, so their last events are queued); then
/// writes what is still queued.
pub(crate) async fn writer(shared: Arc<Shared>, mut finish: watch::Receiver<bool>) {
    let Some(mut rx) = shared.webhooks.rx.lock().take() else {
        return;
    };
    let mut group = Vec::with_capacity(GROUP);
    loop {
        let got = tokio::select! {
            n = rx.recv_many(&mut group, GROUP) => Some(n),
            _ = finish.wait_for(|v| *v) => None,
        };
        let n = match got {
            Some(n) => n,
            None => {
                rx.close();
                rx.recv_many(&mut group, usize::MAX).await
            }
        };
        if n == 0 {
            return;
        }
        let events = std::mem::take(&mut group);
        let count = events.len();
        if let Err(e) = shared.stores.events.push_events(events).await {
            shared.metrics.webhook_dropped.inc_by(count as u64);
            tracing::error!(error = %e, events = count, "writing webhook events to the outbox failed; they are lost");
        }
        shared.webhooks.wake.notify_one();
    }
}

/// The wait before retry number `attempts` (1: the first retry).
fn backoff(cfg: &crate::config::WebhookConfig, attempts: u32) -> Duration {
    let exp = cfg
        .retry_initial_ms
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(30))
        .min(cfg.retry_max_ms);
    // ±20 %: receivers coming back are not hit by every retry at once.
    let jitter = rand::random::<f64>() * 0.4 + 0.8;
    Duration::from_millis(((exp as f64) * jitter).max(1.0) as u64)
}

/// Delivers what the outbox holds, until shutdown.
pub(crate) async fn deliverer(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let cfg = shared.config.webhook.clone();
    let mut last_expiry = tokio::time::Instant::now();
    loop {
        let now = magpie_store::now_ms();
        let due = match shared.stores.events.due_events(now, BATCH).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "reading the webhook outbox failed");
                Vec::new()
            }
        };
        let full = due.len() == BATCH;
        let mut set = tokio::task::JoinSet::new();
        let permits = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency));
        for ev in due {
            let (shared, permits) = (shared.clone(), permits.clone());
            set.spawn(async move {
                let _p = permits.acquire_owned().await;
                deliver(&shared, ev).await;
            });
        }
        tokio::select! {
            _ = async { while set.join_next().await.is_some() {} } => {}
            _ = shutdown.wait_for(|v| *v) => return,
        }
        if last_expiry.elapsed() > Duration::from_secs(60) {
            last_expiry = tokio::time::Instant::now();
            let before = magpie_store::now_ms() - (cfg.give_up_after_hours as i64) * 3_600_000;
            match shared.stores.events.expire_events(before).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    events = n,
                    hours = cfg.give_up_after_hours,
                    "webhook events given up: not delivered in time"
                ),
                Err(e) => tracing::error!(error = %e, "expiring webhook events failed"),
            }
        }
        if full {
            continue;
        }
        // Until new events arrive or a retry may be due.
        let idle = Duration::from_millis(cfg.retry_initial_ms.clamp(10, 1000));
        tokio::select! {
            _ = shared.webhooks.wake.notified() => {}
            _ = tokio::time::sleep(idle) => {}
            _ = shutdown.wait_for(|v| *v) => return,
        }
    }
}

async fn deliver(shared: &Shared, ev: OutboxEvent) {
    let app = shared
        .apps
        .by_id(ev.app_id)
        .await
        .ok()
        .flatten()
        .filter(|a| a.app.settings.webhook.is_some());
    let Some(app) = app else {
        // The app is gone or no longer wants events.
        let _ = shared.stores.events.event_delivered(ev.id).await;
        return;
    };
    let url = &app.app.settings.webhook.as_ref().expect("checked").url;
    let started = std::time::Instant::now();
    let post = shared
        .callbacks
        .post_signed(url, &app.app_key, &app.app_secret, ev.body);
    let timeout = Duration::from_millis(shared.config.webhook.timeout_ms);
    let result = match tokio::time::timeout(timeout, post).await {
        Ok(Ok(r)) if r.status().is_success() => Ok(()),
        Ok(Ok(r)) => Err(format!("HTTP status {}", r.status())),
        Ok(Err(why)) => Err(why),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    };
    shared
        .metrics
        .webhook_seconds
        .observe(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => {
            shared.metrics.webhook_delivered.inc();
            if let Err(e) = shared.stores.events.event_delivered(ev.id).await {
                tracing::error!(error = %e, "removing a delivered webhook event failed; it will be sent again");
            }
        }
        Err(why) => {
            shared.metrics.webhook_failures.inc();
            let wait = backoff(&shared.config.webhook, ev.attempts + 1);
            tracing::info!(app = %app.app_key, attempts = ev.attempts + 1, retry_in_ms = wait.as_millis() as u64, reason = %why, "webhook delivery failed; will retry");
            let next = magpie_store::now_ms() + wait.as_millis() as i64;
            if let Err(e) = shared.stores.events.event_failed(ev.id, next).await {
                tracing::error!(error = %e, "postponing a webhook event failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_with_jitter_up_to_the_maximum() {
        let cfg = crate::config::WebhookConfig {
            retry_initial_ms: 1000,
            retry_max_ms: 60_000,
            ..Default::default()
        };
        for (attempt, base) in [
            (1, 1000u64),
            (2, 2000),
            (3, 4000),
            (7, 60_000),
            (40, 60_000),
        ] {
            let d = backoff(&cfg, attempt).as_millis() as u64;
            assert!(
                d >= base * 8 / 10 && d <= base * 12 / 10,
                "attempt {attempt}: {d} ms"
            );
        }
    }
}

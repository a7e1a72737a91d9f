//! Prometheus metrics, served as text at `GET /metrics` on the admin
//! listener (docs/operations.md lists each one and what it means).
//!
//! Hot paths touch plain atomic counters and gauges; labelled families are
//! used where the label set is small and known: result codes, client types,
//! kick reasons, and app keys of apps that exist (never a key taken from an
//! unauthenticated request, which an attacker could vary without end).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The app label of logins whose app key names no app.
pub const UNKNOWN_APP: &str = "unknown";

/// Labels of `magpie_logins_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    /// The app's key, or [`UNKNOWN_APP`].
    pub app: String,
    /// NIM result code of the answer.
    pub code: u32,
}

/// Labels of `magpie_sessions`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClientTypeLabels {
    /// The app's key.
    pub app: String,
    /// NIM client type by name (`android`, `ios`, `pc`, `web`, `macos`, ...).
    pub client_type: &'static str,
}

/// Labels of `magpie_kicks_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KickLabels {
    /// The app's key.
    pub app: String,
    /// Why: `policy` (a login under the multi-device policy), `server`
    /// (the admin API), `other_device` (the account's own device), or
    /// the NIM reason number.
    pub reason: &'static str,
}

/// Labels of `magpie_multispot_notifications_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MultiSpotLabels {
    /// The app's key.
    pub app: String,
    /// `in` (another device logged in) or `out` (one left).
    pub notify: &'static str,
}

/// Labels of `magpie_rate_limited_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// Which limit: `login`, `admin`, `send`, `console`, `max_connections`
    /// (the server's connection limit) or `pre_login_per_address` (an
    /// address's connections that have not logged in).
    pub limit: &'static str,
    /// The app's key, or empty when the refusal comes before any app is
    /// known (a connection, the console).
    pub app: String,
}

/// Labels of `magpie_login_callback_failures_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallbackFailureLabels {
    /// The app's key.
    pub app: String,
}

/// Labels of `magpie_store_operation_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// `account_lookup` (a login's read) or `message_commit` (a group of
    /// messages and notifications stored before they are acknowledged).
    pub op: &'static str,
}

/// Every metric of the server.
pub struct Metrics {
    registry: Registry,
    /// Client connections open.
    pub connections: Gauge,
    /// Logged-in sessions by client type.
    pub sessions: Family<ClientTypeLabels, Gauge>,
    /// Login answers by app and code.
    pub logins: Family<LoginLabels, Counter>,
    /// Time from a LOGIN frame to its answer.
    pub login_seconds: Histogram,
    /// Devices kicked out, by reason.
    pub kicks: Family<KickLabels, Counter>,
    /// Multi-device notifications pushed, by type.
    pub multispot: Family<MultiSpotLabels, Counter>,
    /// Third-party login callbacks' round trips.
    pub callback_seconds: Histogram,
    /// Login callbacks that failed (unreachable, timeout, bad answer).
    pub callback_failures: Family<CallbackFailureLabels, Counter>,
    /// Requests refused by a rate limit.
    pub rate_limited: Family<LimitLabels, Counter>,
    /// Store latency by operation.
    pub store_seconds: Family<StoreLabels, Histogram>,
    /// Messages and notifications stored (acknowledged to their sender).
    pub messages_stored: Counter,
    /// Webhook events queued for the outbox.
    pub webhook_events: Counter,
    /// Webhook events dropped (queue full or the outbox unwritable).
    pub webhook_dropped: Counter,
    /// Webhook events delivered (answered 2xx).
    pub webhook_delivered: Counter,
    /// Failed webhook deliveries (each is retried).
    pub webhook_failures: Counter,
    /// Round trip of webhook deliveries.
    pub webhook_seconds: Histogram,
}

fn latency_buckets() -> impl Iterator<Item = f64> {
    // 50 µs to ~3.3 s.
    prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 2.0, 17)
}

fn latency() -> Histogram {
    Histogram::new(latency_buckets())
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("magpie");
        let m = Metrics {
            registry: Registry::default(),
            connections: Gauge::default(),
            sessions: Family::default(),
            logins: Family::default(),
            login_seconds: latency(),
            kicks: Family::default(),
            multispot: Family::default(),
            callback_seconds: latency(),
            callback_failures: Family::default(),
            rate_limited: Family::default(),
            store_seconds: Family::new_with_constructor(latency),
            messages_stored: Counter::default(),
            webhook_events: Counter::default(),
            webhook_dropped: Counter::default(),
            webhook_delivered: Counter::default(),
            webhook_failures: Counter::default(),
            webhook_seconds: latency(),
        };
        registry.register(
            "connections",
            "Client connections open",
            m.connections.clone(),
        );
        registry.register(
            "sessions",
            "Logged-in sessions by NIM client type",
            m.sessions.clone(),
        );
        registry.register(
            "logins",
            "Login answers by app key and NIM result code (200: logged in)",
            m.logins.clone(),
        );
        registry.register(
            "login_duration_seconds",
            "Time from a LOGIN frame to its answer",
            m.login_seconds.clone(),
        );
        registry.register(
            "kicks",
            "Devices kicked out, by reason (policy, server, other_device)",
            m.kicks.clone(),
        );
        registry.register(
            "multispot_notifications",
            "Multi-device notifications pushed to devices (in: a device logged in, out: one left)",
            m.multispot.clone(),
        );
        registry.register(
            "login_callback_duration_seconds",
            "Round trip of third-party login callbacks (auth type 2)",
            m.callback_seconds.clone(),
        );
        registry.register(
            "login_callback_failures",
            "Login callbacks that failed (unreachable, timed out, unreadable answer), by app",
            m.callback_failures.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit (login: 416 to a LOGIN, admin: 416 to a signed call, send: a message refused)",
            m.rate_limited.clone(),
        );
        registry.register(
            "store_operation_duration_seconds",
            "Store latency by operation",
            m.store_seconds.clone(),
        );
        registry.register(
            "messages_stored",
            "Messages and custom notifications stored and acknowledged",
            m.messages_stored.clone(),
        );
        registry.register(
            "webhook_events",
            "Events queued for apps' webhooks (login, logout, kick)",
            m.webhook_events.clone(),
        );
        registry.register(
            "webhook_events_dropped",
            "Webhook events dropped: the queue was full (webhook.queue) or the outbox could not be written",
            m.webhook_dropped.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook events delivered (the app server answered 2xx)",
            m.webhook_delivered.clone(),
        );
        registry.register(
            "webhook_delivery_failures",
            "Failed webhook deliveries; each event is retried with backoff",
            m.webhook_failures.clone(),
        );
        registry.register(
            "webhook_delivery_duration_seconds",
            "Round trip of webhook deliveries",
            m.webhook_seconds.clone(),
        );
        registry.register_collector(Box::new(LogCollector));
        Metrics { registry, ..m }
    }

    /// The text exposition (OpenMetrics text, which Prometheus reads).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Counts a login answer and its latency.
    pub fn login(&self, app: &str, code: u32, took: Duration) {
        self.logins
            .get_or_create(&LoginLabels {
                app: app.to_owned(),
                code,
            })
            .inc();
        self.login_seconds.observe(took.as_secs_f64());
    }

    /// A session of `client_type` began (+1) or ended (-1).
    pub fn session(&self, app: &str, client_type: u32, delta: i64) {
        self.sessions
            .get_or_create(&ClientTypeLabels {
                app: app.to_owned(),
                client_type: client_type_name(client_type),
            })
            .inc_by(delta);
    }

    /// A device received a kick-out with NIM reason `reason`.
    pub fn kick(&self, app: &str, reason: u32) {
        use magpie_proto::types::kick_reason;
        let reason = match reason {
            kick_reason::SAME_GENERIC => "policy",
            kick_reason::SERVER_KICK => "server",
            kick_reason::BY_SELF_OTHER_CLIENT => "other_device",
            _ => "other",
        };
        self.kicks
            .get_or_create(&KickLabels {
                app: app.to_owned(),
                reason,
            })
            .inc();
    }

    /// A device received a multi-device notification of NIM type `notify`.
    pub fn multispot(&self, app: &str, notify: u32) {
        use magpie_proto::types::multispot_type;
        let notify = match notify {
            multispot_type::IM_IN => "in",
            multispot_type::IM_OUT => "out",
            _ => "other",
        };
        self.multispot
            .get_or_create(&MultiSpotLabels {
                app: app.to_owned(),
                notify,
            })
            .inc();
    }

    /// A request of `app` (empty when none is known) was refused by the
    /// `limit` rate limit.
    pub fn rate_limited(&self, limit: &'static str, app: &str) {
        self.rate_limited
            .get_or_create(&LimitLabels {
                limit,
                app: app.to_owned(),
            })
            .inc();
    }

    /// A store operation took `took`.
    pub fn store(&self, op: &'static str, took: Duration) {
        self.store_seconds
            .get_or_create(&StoreLabels { op })
            .observe(took.as_secs_f64());
    }
}

/// NIM's client types by name, for labels.
pub fn client_type_name(t: u32) -> &'static str {
    use magpie_proto::types::client_type as c;
    match t {
        c::ANDROID => "android",
        c::IOS => "ios",
        c::PC_WINDOWS => "pc",
        c::WINDOWS_PHONE => "windows_phone",
        c::WEB => "web",
        c::REST_API => "rest",
        c::MACOS => "macos",
        c::HARMONY_OS => "harmony",
        _ => "other",
    }
}

/// `magpie_log_lines_dropped_total`, read from the logger at each scrape.
#[derive(Debug)]
struct LogCollector;

impl Collector for LogCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = ConstCounter::new(crate::logging::dropped_lines());
        let m = encoder.encode_descriptor(
            "log_lines_dropped",
            "Log lines dropped because standard error was gone or not read fast enough",
            None,
            c.metric_type(),
        )?;
        c.encode(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_family_and_counts() {
        let m = Metrics::new();
        m.connections.inc();
        m.login("k1", 200, Duration::from_micros(300));
        m.login(UNKNOWN_APP, 403, Duration::from_micros(100));
        m.session("k1", 4, 1);
        m.kick("k1", 1);
        m.multispot("k1", 3);
        m.rate_limited("login", "k1");
        m.rate_limited("max_connections", "");
        m.store("account_lookup", Duration::from_micros(20));
        let text = m.encode();
        for line in [
            "magpie_connections 1",
            "magpie_logins_total{app=\"k1\",code=\"200\"} 1",
            "magpie_logins_total{app=\"unknown\",code=\"403\"} 1",
            "magpie_login_duration_seconds_count 2",
            "magpie_sessions{app=\"k1\",client_type=\"pc\"} 1",
            "magpie_kicks_total{app=\"k1\",reason=\"policy\"} 1",
            "magpie_multispot_notifications_total{app=\"k1\",notify=\"out\"} 1",
            "magpie_rate_limited_total{limit=\"login\",app=\"k1\"} 1",
            "magpie_rate_limited_total{limit=\"max_connections\",app=\"\"} 1",
            "magpie_store_operation_duration_seconds_count{op=\"account_lookup\"} 1",
            "magpie_log_lines_dropped_total ",
        ] {
            assert!(text.contains(line), "{line} missing in:\n{text}");
        }
    }
}

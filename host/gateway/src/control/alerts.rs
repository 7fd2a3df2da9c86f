//! Alerts: per-tenant rules on what the metrics count, evaluated over a sliding window.
//! A rule that starts (or stops) firing goes on the live stream, shows on the
//! dashboard, and is sent to the tenant's `escalation` plugin (a ticket) or a webhook.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::metrics::TenantCounts;
use super::tenants::rfc3339;
use super::{ControlPlane, now_ms};

/// How often rules are evaluated.
pub const EVALUATE_EVERY: Duration = Duration::from_secs(2);
/// The window rates are computed over.
const WINDOW: Duration = Duration::from_secs(300);

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Failed plugin calls / plugin calls, over the window.
    PluginErrorRate,
    /// Callers being transferred to a human right now.
    WaitingForHuman,
    /// Mean length of the calls that ended in the window, in seconds.
    AverageHandlingTimeS,
    /// Caller turns that matched nothing / caller turns, over the window.
    NoMatchRate,
}

/// Where a firing rule is sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notify {
    /// Only the live stream and the dashboard.
    None,
    /// A ticket through the tenant's `escalation.open-ticket`.
    Escalation,
    /// A JSON POST to this URL (its host must be in the tenant's `allowed_hosts`).
    Webhook(String),
}

fn default_notify() -> Notify {
    Notify::None
}

fn default_min_samples() -> u64 {
    5
}

/// One rule, from the tenant's `[[alerts]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    pub metric: Metric,
    /// Fires while the value is above this.
    pub above: f64,
    /// Rates need this many samples in the window before they count.
    #[serde(default = "default_min_samples")]
    pub min_samples: u64,
    #[serde(default = "default_notify")]
    pub notify: Notify,
}

impl AlertRule {
    /// The rule's value from the counts at the window's start and now, if there is
    /// enough to judge.
    fn value(&self, old: &TenantCounts, now: &TenantCounts) -> Option<f64> {
        let d = |a: u64, b: u64| b.saturating_sub(a);
        let rate = |num: u64, den: u64| (den >= self.min_samples).then(|| num as f64 / den as f64);
        match self.metric {
            Metric::PluginErrorRate => rate(
                d(old.plugin_errors, now.plugin_errors),
                d(old.plugin_calls, now.plugin_calls),
            ),
            Metric::NoMatchRate => rate(
                d(old.no_matches, now.no_matches),
                d(old.caller_turns, now.caller_turns),
            ),
            Metric::AverageHandlingTimeS => {
                let ended = d(old.ended_calls, now.ended_calls);
                (ended >= self.min_samples).then(|| {
                    d(old.handling_ms_total, now.handling_ms_total) as f64 / ended as f64 / 1000.0
                })
            }
            Metric::WaitingForHuman => Some(now.waiting_for_human as f64),
        }
    }
}

/// A rule that is firing.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Firing {
    pub rule: String,
    pub metric: Metric,
    pub value: f64,
    pub threshold: f64,
    pub since: String,
    pub message: String,
}

/// The evaluator's memory: recent counts per tenant, and what fires.
#[derive(Debug, Default)]
pub struct Alerts {
    history: Mutex<HashMap<String, VecDeque<(Instant, TenantCounts)>>>,
    firing: Mutex<HashMap<String, Vec<Firing>>>,
}

impl Alerts {
    pub fn firing(&self, tenant: &str) -> Vec<Firing> {
        self.firing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
            .cloned()
            .unwrap_or_default()
    }
}

impl ControlPlane {
    /// Evaluates every tenant's rules once.
    pub async fn evaluate_alerts(&self) {
        let now = Instant::now();
        for t in self.tenants.current().all() {
            let id = t.config.id.clone();
            let counts = self.metrics.counts(&id);
            let oldest = {
                let mut history = self
                    .alerts
                    .history
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let h = history.entry(id.clone()).or_default();
                h.push_back((now, counts.clone()));
                while h.len() > 1 && h.front().is_some_and(|(at, _)| now - *at > WINDOW) {
                    h.pop_front();
                }
                h.front().map(|(_, c)| c.clone()).unwrap_or_default()
            };
            let mut started = Vec::new();
            let mut stopped = Vec::new();
            {
                let mut all = self
                    .alerts
                    .firing
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let firing = all.entry(id.clone()).or_default();
                for rule in &t.config.alerts {
                    let value = rule.value(&oldest, &counts);
                    let is_firing = firing.iter().position(|f| f.rule == rule.name);
                    match (value, is_firing) {
                        (Some(v), None) if v > rule.above => {
                            let f = Firing {
                                rule: rule.name.clone(),
                                metric: rule.metric,
                                value: v,
                                threshold: rule.above,
                                since: rfc3339(now_ms()),
                                message: format!(
                                    "{}: {:?} is {v:.2}, above {}",
                                    rule.name, rule.metric, rule.above
                                ),
                            };
                            firing.push(f.clone());
                            started.push((rule.clone(), f));
                        }
                        (Some(v), Some(i)) if v <= rule.above => {
                            let f = firing.remove(i);
                            stopped.push(f);
                        }
                        (Some(v), Some(i)) => firing[i].value = v,
                        _ => {}
                    }
                }
                // Rules removed from the config stop firing.
                firing.retain(|f| t.config.alerts.iter().any(|r| r.name == f.rule));
            }
            for (rule, f) in started {
                tracing::warn!(tenant = %id, "alert: {}", f.message);
                self.live.publish(
                    &id,
                    json!({"event": "alert", "state": "firing", "alert": f}),
                );
                self.audit(
                    "system",
                    Some(&id),
                    "alert.firing",
                    &f.rule,
                    f.message.clone(),
                )
                .await;
                self.notify(t, &rule, &f).await;
            }
            for f in stopped {
                tracing::info!(tenant = %id, "alert resolved: {}", f.rule);
                self.live.publish(
                    &id,
                    json!({"event": "alert", "state": "resolved", "alert": f}),
                );
            }
        }
    }

    async fn notify(&self, tenant: &crate::dialog::TenantRuntime, rule: &AlertRule, f: &Firing) {
        match &rule.notify {
            Notify::None => {}
            Notify::Escalation => {
                let session = tenant.plugins.session(&format!("alert-{}", now_ms()));
                if !session.serves(voxgate_runtime::Capability::Escalation) {
                    tracing::warn!(tenant = %tenant.config.id, "alert `{}`: no escalation plugin to notify", rule.name);
                    return;
                }
                let ctx = voxgate_runtime::CallContext {
                    tenant: tenant.config.id.clone(),
                    call_id: session.call_id().to_string(),
                    caller: String::new(),
                    called: String::new(),
                    language: "en".into(),
                    idempotency_key: None,
                };
                let request = voxgate_runtime::escalation::TicketRequest {
                    channel: voxgate_runtime::escalation::Channel::Ticket,
                    contact_id: None,
                    phone: String::new(),
                    subject: format!("voxgate alert: {}", rule.name),
                    body: f.message.clone(),
                    priority: voxgate_runtime::escalation::Priority::High,
                };
                if let Err(e) = session.open_ticket(&ctx, &request).await {
                    tracing::warn!(tenant = %tenant.config.id, "alert `{}`: the escalation plugin refused it: {e}", rule.name);
                }
            }
            Notify::Webhook(url) => {
                let body = json!({"tenant": tenant.config.id, "alert": f}).to_string();
                let (url, tenant_id) = (url.clone(), tenant.config.id.clone());
                let env = tenant.plugins.env();
                let sent = tokio::task::spawn_blocking(move || post(&url, &body, &env)).await;
                match sent {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(tenant = %tenant_id, "alert webhook: {e}"),
                    Err(e) => tracing::warn!(tenant = %tenant_id, "alert webhook task: {e}"),
                }
            }
        }
    }

    /// Evaluates the rules every [`EVALUATE_EVERY`].
    pub fn spawn_alerts(self: &Arc<Self>) {
        let plane = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVALUATE_EVERY);
            loop {
                tick.tick().await;
                let Some(p) = plane.upgrade() else { break };
                p.evaluate_alerts().await;
            }
        });
    }
}

/// POSTs an alert, only to a host the tenant allows (a tenant's config must not make
/// the gateway call into the operator's network).
fn post(url: &str, body: &str, env: &voxgate_runtime::TenantEnv) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("`{url}`: {e}"))?;
    let host = uri.host().ok_or_else(|| format!("`{url}` has no host"))?;
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    if !env.allowed_hosts().iter().any(|h| h.matches(host, port)) {
        return Err(format!(
            "{host}:{port} is not in the tenant's allowed_hosts; the alert was not sent"
        ));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .map_err(|e| format!("{url}: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_their_samples_and_use_the_window() {
        let rule = AlertRule {
            name: "errors".into(),
            metric: Metric::PluginErrorRate,
            above: 0.5,
            min_samples: 4,
            notify: Notify::None,
        };
        let old = TenantCounts {
            plugin_calls: 100,
            plugin_errors: 0,
            ..TenantCounts::default()
        };
        let few = TenantCounts {
            plugin_calls: 103,
            plugin_errors: 3,
            ..TenantCounts::default()
        };
        assert_eq!(rule.value(&old, &few), None, "3 samples are not enough");
        let many = TenantCounts {
            plugin_calls: 110,
            plugin_errors: 6,
            ..TenantCounts::default()
        };
        assert_eq!(rule.value(&old, &many), Some(0.6));
        let aht = AlertRule {
            metric: Metric::AverageHandlingTimeS,
            min_samples: 1,
            ..rule.clone()
        };
        let ended = TenantCounts {
            ended_calls: 2,
            handling_ms_total: 90_000,
            ..TenantCounts::default()
        };
        assert_eq!(aht.value(&TenantCounts::default(), &ended), Some(45.0));
    }

    #[test]
    fn rules_read_from_toml() {
        let rules: Vec<AlertRule> = toml::from_str::<toml::Table>(
            r#"
            [[alerts]]
            name = "slow calls"
            metric = "average-handling-time-s"
            above = 300
            notify = { webhook = "http://127.0.0.1:9/hook" }
            "#,
        )
        .unwrap()["alerts"]
            .clone()
            .try_into()
            .unwrap();
        assert_eq!(
            rules[0].notify,
            Notify::Webhook("http://127.0.0.1:9/hook".into())
        );
        assert_eq!(rules[0].min_samples, 5);
    }
}

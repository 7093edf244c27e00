//! The operator's progressive rollout: when a channel's version moves, the `Kyma` objects of a namespace
//! on that channel take it in waves, by the policy of the `ChannelRollout` named after the channel.
//!
//! Nothing here is remembered between reconciles: who may take the new version is decided afresh from
//! the objects' statuses (the version each has, whether it is Ready), the policy and the catalog's
//! channel, by `decide` — so the `Kyma` reconcile (which holds an object back) and the `ChannelRollout`
//! reconcile (which writes the rollout's status and wakes the objects a finished wave lets go) cannot
//! disagree, and a restarted operator goes on where the cluster says the rollout is.
//!
//! Decided: an object joins a rollout once it has a version of the channel's modules recorded — a
//! new object (or a module newly added) deploys the channel's version at once, it has nothing to keep;
//! a paused rollout goes on by itself once the failed objects are Ready again (they are retried with
//! backoff), or when a person raises `maxFailures` or clears `paused` — one edit either way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kube::api::DynamicObject;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use serde_json::{Value, json};

use super::api::{KymaSpec, RolloutSpec};
use super::request::{Pin, Pins};
use super::{Ctx, ReconcileError};
use crate::rollout::{Budget, Reach};

/// One `Kyma` object on the channel, as its status tells it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Member {
    pub name: String,
    /// The version each of its channel's modules has now (modules not deployed yet are left out).
    pub recorded: BTreeMap<String, String>,
    /// Its `Ready` condition for its current spec; `None` while a reconcile of that spec is pending.
    pub ready: Option<bool>,
    /// The condition's reason when not Ready (`ModuleFailed`, …), for the rollout's message.
    pub reason: String,
}

impl Member {
    /// Every module it has is at the version the channel maps now.
    fn at(&self, targets: &BTreeMap<String, String>) -> bool {
        self.recorded
            .iter()
            .all(|(m, v)| targets.get(m).is_none_or(|t| t == v))
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
    /// Every object has the channel's version and its status for it (Ready, or failed within budget).
    Complete,
    /// A wave is on its way.
    Progressing,
    /// More objects failed than `maxFailures` allows: nothing more takes the new version.
    PausedByFailures,
    /// `spec.paused`.
    PausedByHand,
    /// The policy cannot be read: nothing takes the new version until it is fixed.
    Invalid(String),
}

impl State {
    fn word(&self) -> &'static str {
        match self {
            State::Complete => "Complete",
            State::Progressing => "Progressing",
            State::PausedByFailures | State::PausedByHand => "Paused",
            State::Invalid(_) => "Invalid",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decision {
    pub state: State,
    /// The wave on its way (1-based), or the last one when done.
    pub wave: usize,
    pub waves: usize,
    /// The objects that may have the channel's version now: those that have it, and, unless paused, the
    /// objects of every wave up to the one on its way.
    pub admitted: BTreeSet<String>,
    pub total: usize,
    /// At the channel's version and Ready.
    pub updated: usize,
    /// At the channel's version and not Ready: name and reason.
    pub failed: Vec<(String, String)>,
    pub max_failures: usize,
    /// Admitted, and not done yet.
    pub waiting: Vec<String>,
    /// Kept at their version.
    pub held: Vec<String>,
}

/// A number or a percentage, as `field` of the spec.
fn count(field: &str, v: Option<&Value>) -> Result<Option<Budget>, String> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => n.to_string().parse::<Budget>().map(Some),
        Some(Value::String(s)) => s.parse::<Budget>().map(Some),
        Some(other) => Err(format!("'{other}' is not a number or a percentage")),
    }
    .map_err(|e| format!("spec.{field}: {e}"))
}

/// The waves and failure budget a policy asks for.
fn policy(spec: &RolloutSpec) -> Result<(Vec<Reach>, Budget), String> {
    let mut reaches = spec
        .waves
        .iter()
        .map(|w| w.parse::<Reach>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("spec.waves: {e}"))?;
    if reaches.is_empty() {
        reaches.push(Reach::Percent(100));
    }
    let budget = count("maxFailures", spec.max_failures.as_ref())?.unwrap_or(Budget::Clusters(0));
    Ok((reaches, budget))
}

/// Who may take the channel's version now. Objects are taken in name order; each wave must be done
/// (every object at the version and Ready, or failed) before the next one starts; past the failure
/// budget nothing more starts, in the wave or after. A failure is an object of a wave reached (or at
/// the new version) whose last reconcile failed — reaching it counts, not only a module that broke:
/// a cluster that cannot be reached fails its wave as it fails a CLI rollout.
pub(super) fn decide(spec: &RolloutSpec, targets: &BTreeMap<String, String>, members: &[Member]) -> Decision {
    let mut ms: Vec<&Member> = members.iter().collect();
    ms.sort_by(|a, b| a.name.cmp(&b.name));
    let total = ms.len();
    let at = |m: &Member| m.at(targets);
    let failing = |m: &Member| m.ready == Some(false);
    let done = |m: &Member| (at(m) && m.ready == Some(true)) || failing(m);
    let updated = ms.iter().filter(|m| at(m) && m.ready == Some(true)).count();
    let having: BTreeSet<String> = ms.iter().filter(|m| at(m)).map(|m| m.name.clone()).collect();
    // Nothing to move and nobody on the way: whatever else is wrong with the objects, there is no
    // rollout to hold.
    let moving = ms.iter().any(|m| !at(m) || m.ready.is_none());
    let plan = policy(spec).and_then(|(reaches, budget)| {
        let unavailable = count("maxUnavailable", spec.max_unavailable.as_ref())?
            .map_or(usize::MAX, |b| b.of(total).max(1));
        Ok((crate::rollout::plan(&reaches, budget, total)?, unavailable))
    });
    let names = |ms: &[&Member]| ms.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
    let (state, wave, waves, max_failures, admitted, failed) = match plan {
        Err(e) => (State::Invalid(e), 0, 0, 0, having, Vec::new()),
        Ok((plan, unavailable)) => {
            let current = plan
                .waves
                .iter()
                .position(|w| ms[w.clone()].iter().any(|m| !done(m)));
            // The waves reached so far: up to the one on its way, or all of them.
            let reached = current.map_or(total, |c| plan.waves[c].end);
            let failed: Vec<(String, String)> = ms
                .iter()
                .enumerate()
                .filter(|(i, m)| failing(m) && (*i < reached || at(m)))
                .map(|(_, m)| (m.name.clone(), m.reason.clone()))
                .collect();
            let state = if !moving || current.is_none() && failed.len() <= plan.max_failures {
                State::Complete
            } else if failed.len() > plan.max_failures {
                State::PausedByFailures
            } else if spec.paused {
                State::PausedByHand
            } else {
                State::Progressing
            };
            // Objects of the waves before the one on its way were let go already (one that failed
            // without moving — its cluster could not be reached — takes the version once it can).
            let before = current.map_or(total, |c| plan.waves[c].start);
            let mut admitted = having;
            admitted.extend(names(&ms[..before]));
            if let (State::Progressing, Some(c)) = (&state, current) {
                // The wave's objects on their way count against maxUnavailable; the rest of the wave
                // waits for a slot, in name order.
                let wave = &ms[plan.waves[c].clone()];
                let busy = wave.iter().filter(|m| at(m) && !done(m)).count();
                let free = unavailable.saturating_sub(busy);
                admitted.extend(wave.iter().filter(|m| !at(m)).take(free).map(|m| m.name.clone()));
            }
            let wave = current.map_or(plan.waves.len(), |c| c + 1);
            (state, wave, plan.waves.len(), plan.max_failures, admitted, failed)
        }
    };
    let waiting = ms
        .iter()
        .filter(|m| admitted.contains(&m.name) && !done(m))
        .map(|m| m.name.clone())
        .collect();
    let held = ms
        .iter()
        .filter(|m| !admitted.contains(&m.name))
        .map(|m| m.name.clone())
        .collect();
    Decision {
        state,
        wave,
        waves,
        admitted,
        total,
        updated,
        failed,
        max_failures,
        waiting,
        held,
    }
}

impl Decision {
    /// One line a person reads with `kubectl get channelrollouts`.
    pub fn message(&self) -> String {
        let held = match self.held.len() {
            0 => String::new(),
            1 => "; 1 object keeps its version".into(),
            n => format!("; {n} objects keep their version"),
        };
        let failed = names(self.failed.iter().map(|(n, r)| format!("{n} ({r})")));
        match &self.state {
            State::Complete if self.failed.is_empty() => {
                format!("{} of {} objects updated", self.updated, self.total)
            }
            State::Complete if self.failed.len() <= self.max_failures => format!(
                "{} of {} objects updated; {} failed, within maxFailures {}: {failed}",
                self.updated,
                self.total,
                self.failed.len(),
                self.max_failures
            ),
            State::Complete => format!(
                "{} of {} objects updated; {} failed: {failed}",
                self.updated,
                self.total,
                self.failed.len()
            ),
            State::Progressing => format!(
                "wave {}/{}: waiting for {} ({} of {} updated){held}",
                self.wave,
                self.waves,
                names(self.waiting.iter().cloned()),
                self.updated,
                self.total
            ),
            State::PausedByFailures => format!(
                "paused: {} failed, more than maxFailures {} allows: {failed}{held}; it goes on once they are Ready, or raise spec.maxFailures",
                self.failed.len(),
                self.max_failures
            ),
            State::PausedByHand => format!("paused by spec.paused{held}"),
            State::Invalid(e) => format!("{e}{held} until the policy is fixed"),
        }
    }

    /// The `ChannelRollout` status, with `Complete` and `Paused` conditions whose transition times
    /// move only when they flip (so `kubectl wait --for=condition=…` works).
    fn status(&self, before: &Value, generation: i64, targets: &BTreeMap<String, String>) -> Value {
        let message = self.message();
        let complete = self.state == State::Complete;
        let paused = matches!(self.state, State::PausedByFailures | State::PausedByHand);
        let reason = match self.state {
            State::PausedByFailures => "Failures",
            State::PausedByHand => "Paused",
            _ => self.state.word(),
        };
        json!({
            "observedGeneration": generation,
            "state": self.state.word(),
            "versions": targets,
            "wave": format!("{}/{}", self.wave, self.waves),
            "updated": format!("{}/{}", self.updated, self.total),
            "failed": self.failed.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "held": self.held.len(),
            "message": message,
            "conditions": [
                condition(before, "Complete", complete, reason, &message, generation),
                condition(before, "Paused", paused, reason, &message, generation),
            ],
        })
    }
}

/// At most three names, then how many more: a message for a thousand objects stays one line.
fn names(all: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = all.collect();
    match all.len() {
        0..=3 => all.join(", "),
        n => format!("{} and {} more", all[..3].join(", "), n - 3),
    }
}

fn condition(before: &Value, kind: &str, on: bool, reason: &str, message: &str, generation: i64) -> Value {
    let status = if on { "True" } else { "False" };
    let since = before["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .filter(|c| c["status"] == status)
        .map(|c| c["lastTransitionTime"].clone())
        .unwrap_or_else(|| json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    json!({"type": kind, "status": status, "reason": reason, "message": message,
           "observedGeneration": generation, "lastTransitionTime": since})
}

/// A `Kyma` object as a member of `channel`'s rollout: it follows the channel with at least one module
/// it has deployed already, and is not being deleted.
pub(super) fn member_of(obj: &DynamicObject, channel: &str) -> Option<Member> {
    if obj.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let spec = spec_of(obj)?;
    let status = obj.data.get("status");
    let recorded: BTreeMap<String, String> = spec
        .modules
        .iter()
        .filter(|m| spec.channel_of(m) == Some(channel))
        .filter_map(|m| {
            let listed = status?["modules"]
                .as_array()?
                .iter()
                .find(|s| s["name"].as_str() == Some(m.name.as_str()))?;
            Some((m.name.clone(), listed["version"].as_str()?.to_string()))
        })
        .collect();
    if recorded.is_empty() {
        return None;
    }
    let generation = obj.metadata.generation.unwrap_or(0);
    let cond = status.and_then(|s| s["conditions"].as_array()).and_then(|c| {
        c.iter()
            .find(|c| c["type"] == "Ready" && c["observedGeneration"].as_i64() == Some(generation))
    });
    let reason = cond.and_then(|c| c["reason"].as_str()).unwrap_or_default();
    // The channel's own modules decide: another module of the object failing is not this rollout's
    // failure. A reconcile still on its way (timed out waiting, queued for the lock, interrupted) is
    // neither done nor failed.
    let modules_ready = || {
        recorded.keys().all(|name| {
            status
                .and_then(|s| s["modules"].as_array())
                .and_then(|ms| ms.iter().find(|m| m["name"].as_str() == Some(name.as_str())))
                .is_some_and(|m| m["state"] == "Ready")
        })
    };
    let ready = match cond {
        None => None,
        Some(c) if c["status"] == "True" => Some(true),
        Some(_) => match reason {
            "Progressing" | "Locked" | "Interrupted" => None,
            "ModuleFailed" => Some(modules_ready()),
            _ => Some(false),
        },
    };
    Some(Member {
        name: obj.metadata.name.clone().unwrap_or_default(),
        ready,
        reason: reason.to_string(),
        recorded,
    })
}

/// A `Kyma` object's spec, if it can be read (one that cannot is in no rollout; its own reconcile says
/// why).
fn spec_of(obj: &DynamicObject) -> Option<KymaSpec> {
    serde_json::from_value(obj.data.get("spec")?.clone()).ok()
}

/// The channels a `Kyma` object's modules follow.
pub(super) fn channels_of(obj: &DynamicObject) -> BTreeSet<String> {
    let Some(spec) = spec_of(obj) else {
        return BTreeSet::new();
    };
    spec.modules
        .iter()
        .filter_map(|m| spec.channel_of(m).map(str::to_string))
        .collect()
}

/// Does this `Kyma` object follow a channel with `module`?
pub(super) fn follows(obj: &DynamicObject, module: Option<&str>) -> bool {
    spec_of(obj).is_some_and(|spec| {
        spec.modules
            .iter()
            .any(|m| Some(m.name.as_str()) == module && spec.channel_of(m).is_some())
    })
}

/// The versions `channel` maps the members' modules to in the catalog now.
async fn targets(
    ctx: &Ctx,
    channel: &str,
    members: &[Member],
) -> Result<BTreeMap<String, String>, ReconcileError> {
    let (catalog, _, _) = ctx
        .catalog()
        .await
        .map_err(|e| ReconcileError(format!("the catalog: {e}")))?;
    Ok(members
        .iter()
        .flat_map(|m| m.recorded.keys())
        .filter_map(|module| {
            let v = catalog.channels(module)?.versions.get(channel)?;
            Some((module.clone(), v.to_string()))
        })
        .collect())
}

/// The stores filled by the watches: a reconcile that ran before they were would see no rollout and
/// let every object take the new version.
async fn stores(ctx: &Ctx) -> Result<(&super::Store, &super::Store), ReconcileError> {
    let (Some(kymas), Some(rollouts)) = (ctx.kyma_store.get(), ctx.rollout_store.get()) else {
        return Err(ReconcileError("the watches have not started yet".into()));
    };
    let ready = async {
        kymas.wait_until_ready().await.ok()?;
        rollouts.wait_until_ready().await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(60), ready).await {
        Ok(Some(())) => Ok((kymas, rollouts)),
        _ => Err(ReconcileError(
            "the Kyma and ChannelRollout watches have not listed their objects yet".into(),
        )),
    }
}

/// The members of `channel`'s rollout in `ns`, with `fresh` (the object being reconciled, newer than
/// the store's copy) in place of its stored self.
fn members(kymas: &super::Store, ns: &str, channel: &str, fresh: Option<&DynamicObject>) -> Vec<Member> {
    let fresh_name = fresh.and_then(|f| f.metadata.name.as_deref());
    kymas
        .state()
        .iter()
        .filter(|k| k.metadata.namespace.as_deref() == Some(ns))
        .filter(|k| k.metadata.name.as_deref() != fresh_name)
        .map(|k| k.as_ref())
        .chain(fresh)
        .filter_map(|k| member_of(k, channel))
        .collect()
}

/// What the rollouts of an object's channels make of its modules: each pinned to a version, and those
/// the object now takes (module, from, to, channel).
#[derive(Debug, Default)]
pub(super) struct Pinned {
    pub pins: Pins,
    pub taking: Vec<(String, String, String, String)>,
}

impl Pinned {
    /// The status line written before a module takes its channel's new version.
    pub fn taking_message(&self) -> Option<String> {
        let parts: Vec<String> = self
            .taking
            .iter()
            .map(|(m, from, to, c)| format!("{m} {from} → {to} (ChannelRollout {c})"))
            .collect();
        (!parts.is_empty()).then(|| format!("taking the channel's version: {}", parts.join(", ")))
    }

    /// The status's modules with the versions being taken: from now on the object counts as moved
    /// (on its way), and is never held back below them.
    pub fn status_modules(&self, listed: &[Value]) -> Vec<Value> {
        listed
            .iter()
            .cloned()
            .map(|mut m| {
                if let Some((_, _, to, _)) = self
                    .taking
                    .iter()
                    .find(|t| m["name"].as_str() == Some(t.0.as_str()))
                {
                    m["version"] = json!(to);
                    m["state"] = json!("Processing");
                    if let Some(m) = m.as_object_mut() {
                        m.remove("heldBy");
                    }
                }
                m
            })
            .collect()
    }
}

/// The versions the rollouts of `obj`'s channels pin its modules to: the version they have while the
/// rollout has not reached the object, the channel's version the rollout decided on once it has (never
/// resolved through the channel again at deploy time: the channel may have moved on since). Objects
/// without a rollout in their namespace, and modules not deployed yet, are not pinned.
pub(super) async fn pins(ctx: &Ctx, obj: &DynamicObject) -> Result<Pinned, ReconcileError> {
    let mut out = Pinned::default();
    let channels = channels_of(obj);
    if channels.is_empty() {
        return Ok(out);
    }
    let (kymas, rollouts) = stores(ctx).await?;
    let ns = obj.metadata.namespace.as_deref().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    for channel in channels {
        let key = ObjectRef::new_with(&channel, ctx.rollouts.api_resource()).within(ns);
        let Some(rollout) = rollouts.get(&key) else {
            continue;
        };
        let Some(me) = member_of(obj, &channel) else {
            continue;
        };
        let members = members(kymas, ns, &channel, Some(obj));
        // A catalog that cannot be read: the deploy says so in the status; nothing is pinned.
        let Ok(targets) = targets(ctx, &channel, &members).await else {
            return Ok(Pinned::default());
        };
        let decision = decide(&rollout_spec(&rollout), &targets, &members);
        let admitted = decision.admitted.contains(name);
        for (module, version) in me.recorded {
            let to = targets.get(&module).filter(|_| admitted);
            if let Some(to) = to.filter(|to| **to != version) {
                out.taking
                    .push((module.clone(), version.clone(), to.clone(), channel.clone()));
            }
            let pin = Pin {
                version: to.cloned().unwrap_or(version),
                held_by: (!admitted).then(|| channel.clone()),
            };
            out.pins.insert(module, pin);
        }
    }
    Ok(out)
}

/// A policy that cannot be read holds everything (as `Invalid`): its waves are not known.
fn rollout_spec(rollout: &DynamicObject) -> RolloutSpec {
    let spec = rollout.data.get("spec").cloned().unwrap_or(json!({}));
    serde_json::from_value(spec).unwrap_or(RolloutSpec {
        waves: vec!["not a policy".into()],
        ..Default::default()
    })
}

/// The reconcile of one `ChannelRollout`: where the rollout stands (its status), and the `Kyma`
/// objects a finished wave lets go woken at once rather than at their next resync.
pub(super) async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let ns = obj.metadata.namespace.clone().unwrap_or_default();
    let channel = obj.metadata.name.clone().unwrap_or_default();
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (kymas, _) = stores(&ctx).await?;
    let members = members(kymas, &ns, &channel, None);
    let targets = targets(&ctx, &channel, &members).await?;
    let decision = decide(&rollout_spec(&obj), &targets, &members);
    // One process writes the status (the shard of the rollout); every process wakes its own objects.
    if super::shards::mine(&ctx, &format!("{ns}/{channel}")) {
        write_status(&ctx, &obj, &decision, &targets).await?;
    }
    wake(&ctx, &ns, &channel, &decision, &members, &targets);
    Ok(Action::requeue(super::controller::spread(ctx.args.resync)))
}

async fn write_status(
    ctx: &Ctx,
    obj: &DynamicObject,
    decision: &Decision,
    targets: &BTreeMap<String, String>,
) -> Result<(), ReconcileError> {
    let ns = obj.metadata.namespace.as_deref().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    let before = obj.data.get("status").cloned().unwrap_or(json!({}));
    let status = decision.status(&before, obj.metadata.generation.unwrap_or(0), targets);
    if before == status {
        return Ok(());
    }
    // A merge patch keeps the keys it does not name: a module no longer on the channel is removed by
    // a null.
    let mut patch = status.clone();
    for gone in before["versions"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if !targets.contains_key(gone) {
            patch["versions"][gone] = Value::Null;
        }
    }
    ctx.home
        .merge_patch(
            &ctx.rollouts,
            Some(ns),
            name,
            Some("status"),
            &json!({"status": patch}),
        )
        .await
        .map_err(|e| ReconcileError(format!("cannot write the status of {ns}/{name}: {e}")))?;
    tracing::info!(rollout = %format!("{ns}/{name}"), state = decision.state.word(), "{}", decision.message());
    Ok(())
}

/// The objects a decision lets go, reconciled now rather than at their next resync — each once per
/// version it is let take (a failing one then retries with its own backoff, not at every event of
/// the namespace), and only by the process whose shard it is in.
fn wake(
    ctx: &Ctx,
    ns: &str,
    channel: &str,
    decision: &Decision,
    members: &[Member],
    targets: &BTreeMap<String, String>,
) {
    let versions = serde_json::to_string(targets).unwrap_or_default();
    let mut woken = ctx.woken.lock().unwrap();
    for m in members {
        let key = format!("{ns}/{}", m.name);
        if !decision.admitted.contains(&m.name) || m.at(targets) || !super::shards::mine(ctx, &key) {
            continue;
        }
        let seen = woken.entry(format!("{key} {channel}")).or_default();
        if *seen == versions {
            continue;
        }
        *seen = versions.clone();
        let kyma = ObjectRef::new_with(&m.name, ctx.kymas.api_resource()).within(ns);
        let _ = ctx.admit.unbounded_send(kyma);
    }
}

pub(super) fn error_policy(obj: Arc<DynamicObject>, e: &ReconcileError, _: Arc<Ctx>) -> Action {
    tracing::warn!(rollout = %super::controller::key_of(&obj), "{e}; retrying in 10s");
    Action::requeue(Duration::from_secs(10))
}

/// `Kyma` → the rollouts of the channels it follows (a status written by a reconcile may finish a wave).
pub(super) fn rollouts_of(
    kyma: &DynamicObject,
    rollouts: &kube::core::ApiResource,
) -> Vec<ObjectRef<DynamicObject>> {
    let ns = kyma.metadata.namespace.clone().unwrap_or_default();
    channels_of(kyma)
        .into_iter()
        .map(|c| ObjectRef::new_with(&c, rollouts.clone()).within(&ns))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, version: &str, ready: Option<bool>) -> Member {
        Member {
            name: name.into(),
            recorded: [("m".to_string(), version.to_string())].into(),
            ready,
            reason: if ready == Some(false) {
                "ModuleFailed".into()
            } else {
                "Ready".into()
            },
        }
    }

    fn policy(waves: &[&str], max_failures: Value, paused: bool) -> RolloutSpec {
        RolloutSpec {
            waves: waves.iter().map(|w| w.to_string()).collect(),
            max_failures: (!max_failures.is_null()).then_some(max_failures),
            paused,
            ..Default::default()
        }
    }

    fn to(v: &str) -> BTreeMap<String, String> {
        [("m".to_string(), v.to_string())].into()
    }

    fn admitted(d: &Decision) -> Vec<&str> {
        d.admitted.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_channel_move_goes_wave_by_wave_in_name_order() {
        let p = policy(&["1", "2", "100%"], Value::Null, false);
        // d, c, b, a on 1.0.0; the channel moves to 2.0.0: only the first by name may take it.
        let mut ms: Vec<Member> = ["d", "c", "b", "a"]
            .iter()
            .map(|n| member(n, "1.0.0", Some(true)))
            .collect();
        let d = decide(&p, &to("2.0.0"), &ms);
        assert_eq!((d.state.clone(), d.wave, d.waves), (State::Progressing, 1, 3));
        assert_eq!(admitted(&d), vec!["a"]);
        assert_eq!(d.held, vec!["b", "c", "d"]);
        assert_eq!(
            d.message(),
            "wave 1/3: waiting for a (0 of 4 updated); 3 objects keep their version"
        );
        // a at 2.0.0 but its reconcile not written yet: still wave 1.
        ms[3] = member("a", "2.0.0", None);
        assert_eq!(admitted(&decide(&p, &to("2.0.0"), &ms)), vec!["a"]);
        // a Ready: wave 2 (b) may go.
        ms[3] = member("a", "2.0.0", Some(true));
        let d = decide(&p, &to("2.0.0"), &ms);
        assert_eq!((d.wave, admitted(&d)), (2, vec!["a", "b"]));
        // b Ready: the rest at once.
        ms[2] = member("b", "2.0.0", Some(true));
        let d = decide(&p, &to("2.0.0"), &ms);
        assert_eq!((d.wave, admitted(&d)), (3, vec!["a", "b", "c", "d"]));
        ms[0] = member("d", "2.0.0", Some(true));
        ms[1] = member("c", "2.0.0", Some(true));
        let d = decide(&p, &to("2.0.0"), &ms);
        assert_eq!((d.state.clone(), d.updated, d.wave), (State::Complete, 4, 3));
        assert_eq!(d.message(), "4 of 4 objects updated");
    }

    #[test]
    fn a_failure_past_the_budget_pauses_and_a_raised_budget_goes_on() {
        let ms = vec![
            member("a", "2.0.0", Some(true)),
            member("b", "2.0.0", Some(false)),
            member("c", "1.0.0", Some(true)),
            member("d", "1.0.0", Some(true)),
        ];
        let d = decide(
            &policy(&["1", "2", "100%"], Value::Null, false),
            &to("2.0.0"),
            &ms,
        );
        assert_eq!(d.state, State::PausedByFailures);
        assert_eq!(
            admitted(&d),
            vec!["a", "b"],
            "who has the version keeps it; nobody else gets it"
        );
        assert_eq!(
            d.message(),
            "paused: 1 failed, more than maxFailures 0 allows: b (ModuleFailed); 2 objects keep their version; it goes on once they are Ready, or raise spec.maxFailures"
        );
        for budget in [json!(1), json!("1"), json!("25%")] {
            let d = decide(
                &policy(&["1", "2", "100%"], budget.clone(), false),
                &to("2.0.0"),
                &ms,
            );
            assert_eq!(
                (d.state.clone(), admitted(&d)),
                (State::Progressing, vec!["a", "b", "c", "d"]),
                "{budget}"
            );
        }
        // Within budget and all done: complete, the failure said.
        let done: Vec<Member> = ms
            .iter()
            .map(|m| Member {
                recorded: to("2.0.0"),
                ..m.clone()
            })
            .collect();
        let d = decide(&policy(&[], json!(1), false), &to("2.0.0"), &done);
        assert_eq!(d.state, State::Complete);
        assert_eq!(
            d.message(),
            "3 of 4 objects updated; 1 failed, within maxFailures 1: b (ModuleFailed)"
        );
    }

    #[test]
    fn paused_by_hand_or_an_unreadable_policy_holds_everyone_who_has_not_moved() {
        let ms = vec![member("a", "1.0.0", Some(true)), member("b", "2.0.0", Some(true))];
        let d = decide(&policy(&["1"], Value::Null, true), &to("2.0.0"), &ms);
        assert_eq!((d.state.clone(), admitted(&d)), (State::PausedByHand, vec!["b"]));
        for (waves, budget, want) in [
            (&["0"][..], Value::Null, "spec.waves: '0' is not a wave"),
            (&["5", "10%"][..], Value::Null, "waves are cumulative"),
            (
                &["1"][..],
                json!("x"),
                "spec.maxFailures: 'x' is not a failure budget",
            ),
        ] {
            let d = decide(&policy(waves, budget, false), &to("2.0.0"), &ms);
            assert!(
                matches!(&d.state, State::Invalid(e) if e.contains(want)),
                "{:?}",
                d.state
            );
            assert_eq!(admitted(&d), vec!["b"]);
        }
        // The channel has not moved: nothing to do, nothing held.
        let d = decide(&policy(&["1"], Value::Null, false), &to("1.0.0"), &ms[..1]);
        assert_eq!((d.state, d.held.len()), (State::Complete, 0));
    }

    #[test]
    fn a_cluster_not_reached_fails_its_wave_and_one_on_its_way_is_not_done() {
        let p = policy(&["1", "100%"], Value::Null, false);
        // a (wave 1) could not be reached: still on 1.0.0, its reconcile failed. It fails the wave.
        let mut a = member("a", "1.0.0", Some(false));
        a.reason = "ClusterUnreachable".into();
        let ms = vec![a.clone(), member("b", "1.0.0", Some(true))];
        let d = decide(&p, &to("2.0.0"), &ms);
        assert_eq!(d.state, State::PausedByFailures);
        assert_eq!(
            d.failed,
            vec![("a".to_string(), "ClusterUnreachable".to_string())]
        );
        assert_eq!(
            admitted(&d),
            vec!["a"],
            "a takes the version once it can be reached"
        );
        // The same failure in a wave not reached yet is not this rollout's: b (wave 1) goes first.
        let mut z = a.clone();
        z.name = "z".into();
        let d = decide(&p, &to("2.0.0"), &[member("b", "1.0.0", Some(true)), z]);
        assert_eq!((d.state.clone(), admitted(&d)), (State::Progressing, vec!["b"]));
        // On its way (timed out waiting, queued for the lock): neither done nor failed.
        let d = decide(
            &p,
            &to("2.0.0"),
            &[member("a", "2.0.0", None), member("b", "1.0.0", Some(true))],
        );
        assert_eq!(
            (d.state.clone(), d.failed.len(), admitted(&d)),
            (State::Progressing, 0, vec!["a"])
        );
        // Everyone at the version, one still on its way: not complete yet.
        let d = decide(
            &p,
            &to("2.0.0"),
            &[member("a", "2.0.0", Some(true)), member("b", "2.0.0", None)],
        );
        assert_eq!(
            (d.state.clone(), d.waiting.clone()),
            (State::Progressing, vec!["b".to_string()])
        );
        // Nothing to move: no rollout to pause, whatever else fails.
        let d = decide(&p, &to("1.0.0"), &ms);
        assert_eq!(d.state, State::Complete);
    }

    #[test]
    fn max_unavailable_lets_a_wave_move_a_few_at_a_time() {
        let spec = RolloutSpec {
            max_unavailable: Some(json!(1)),
            ..policy(&[], Value::Null, false)
        };
        let mut ms: Vec<Member> = ["a", "b", "c"]
            .iter()
            .map(|n| member(n, "1.0.0", Some(true)))
            .collect();
        assert_eq!(admitted(&decide(&spec, &to("2.0.0"), &ms)), vec!["a"]);
        // a on its way (its status not written yet): still one slot, taken.
        ms[0] = member("a", "2.0.0", None);
        assert_eq!(admitted(&decide(&spec, &to("2.0.0"), &ms)), vec!["a"]);
        // a done (a failure within budget frees its slot too): b.
        ms[0] = member("a", "2.0.0", Some(true));
        assert_eq!(admitted(&decide(&spec, &to("2.0.0"), &ms)), vec!["a", "b"]);
        // A percentage rounds down, but lets one through at least.
        let spec = RolloutSpec {
            max_unavailable: Some(json!("10%")),
            ..spec
        };
        assert_eq!(admitted(&decide(&spec, &to("2.0.0"), &ms)), vec!["a", "b"]);
    }

    #[test]
    fn a_member_is_an_object_with_a_version_of_the_channels_modules_recorded() {
        let obj = |spec: Value, status: Value| -> DynamicObject {
            serde_json::from_value(json!({"apiVersion": "installer.kyma-project.io/v1alpha1", "kind": "Kyma",
                "metadata": {"name": "k", "namespace": "t", "generation": 2}, "spec": spec, "status": status}))
            .unwrap()
        };
        let status = json!({"modules": [{"name": "a", "version": "1.0.0"}, {"name": "b", "version": "3.0.0"}],
            "conditions": [{"type": "Ready", "status": "False", "reason": "ModuleFailed", "observedGeneration": 2}]});
        let spec = json!({"channel": "fast", "modules": [{"name": "a"}, {"name": "b", "version": "3.0.0"}, {"name": "c"}]});
        let m = member_of(&obj(spec.clone(), status.clone()), "fast").unwrap();
        assert_eq!(
            m.recorded,
            [("a".to_string(), "1.0.0".to_string())].into(),
            "b names its version, c is new"
        );
        assert_eq!((m.ready, m.reason.as_str()), (Some(false), "ModuleFailed"));
        assert_eq!(
            member_of(&obj(spec.clone(), json!({})), "fast"),
            None,
            "nothing deployed yet"
        );
        // Another module failed, the channel's own is Ready: not this rollout's failure.
        let mut other = status.clone();
        other["modules"][0]["state"] = json!("Ready");
        assert_eq!(
            member_of(&obj(spec.clone(), other.clone()), "fast")
                .unwrap()
                .ready,
            Some(true)
        );
        for (reason, ready) in [
            ("Progressing", None),
            ("Locked", None),
            ("ClusterUnreachable", Some(false)),
        ] {
            other["conditions"][0]["reason"] = json!(reason);
            assert_eq!(
                member_of(&obj(spec.clone(), other.clone()), "fast")
                    .unwrap()
                    .ready,
                ready,
                "{reason}"
            );
        }
        assert_eq!(member_of(&obj(spec.clone(), status.clone()), "regular"), None);
        let stale = json!({"modules": status["modules"], "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}]});
        assert_eq!(
            member_of(&obj(spec, stale), "fast").unwrap().ready,
            None,
            "a status of the spec before"
        );
    }

    #[test]
    fn a_thousand_names_make_one_short_line() {
        let ms: Vec<Member> = (0..1000)
            .map(|i| member(&format!("k{i:04}"), "1.0.0", Some(false)))
            .collect();
        let moved: Vec<Member> = ms
            .iter()
            .map(|m| Member {
                recorded: to("2.0.0"),
                ..m.clone()
            })
            .collect();
        let d = decide(&policy(&["1"], Value::Null, false), &to("2.0.0"), &moved);
        assert!(d.message().len() < 200, "{}", d.message());
        assert!(
            d.message().contains("k0002 (ModuleFailed) and 997 more"),
            "{}",
            d.message()
        );
    }
}

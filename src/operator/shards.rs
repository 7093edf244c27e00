//! Which `Kyma` objects this process reconciles: a stable hash splits them into shards; without leader
//! election a process reconciles its --shard, with it every shard whose Lease it holds.

use std::sync::Arc;

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Ctx;
use crate::store::lock::{LeaseSpec, Lock, LockWait};

/// Start leading. Without leader election: its --shard, at once. With it: every shard whose Lease it
/// holds — its own --shard as soon as that is free, any other only after that shard's leader has been
/// gone for a while (so replicas started together each take their own), which is how killing one
/// leader moves its shard to another process. Returns the stream of "a shard was gained", the leader
/// tasks, and the token that makes them give their Leases back.
pub(super) fn start(ctx: &Arc<Ctx>) -> (UnboundedReceiver<()>, Vec<JoinHandle<()>>, CancellationToken) {
    let (gained_tx, gained_rx) = unbounded::<()>();
    let mut leaders = Vec::new();
    let give_back = CancellationToken::new();
    if ctx.args.leader_election {
        for shard in 0..ctx.args.shards {
            let (ctx, gained, give_back) = (ctx.clone(), gained_tx.clone(), give_back.clone());
            leaders.push(tokio::spawn(lead(ctx, shard, gained, give_back)));
        }
    } else {
        ctx.leading.lock().unwrap().insert(ctx.args.shard);
    }
    (gained_rx, leaders, give_back)
}

/// Whether this process reconciles the object `key` now.
pub(super) fn mine(ctx: &Ctx, key: &str) -> bool {
    ctx.leading
        .lock()
        .unwrap()
        .contains(&shard_of(key, ctx.args.shards))
}

/// Hold shard `shard`'s Lease whenever possible: wait for it, lead until it is lost, wait again.
/// Ends when `stop` is cancelled (shutdown), releasing the Lease if it holds it.
async fn lead(ctx: Arc<Ctx>, shard: u32, gained: UnboundedSender<()>, stop: CancellationToken) {
    let spec = LeaseSpec {
        namespace: ctx.args.operator_namespace.clone(),
        name: format!("kyma-operator-shard-{shard}"),
        duration_secs: ctx.args.lease_duration.as_secs().max(3) as i64,
        renew_every: ctx.args.lease_duration / 3,
    };
    if shard != ctx.args.shard {
        tokio::select! {
            _ = tokio::time::sleep(ctx.args.lease_duration * 2) => {}
            _ = stop.cancelled() => return,
        }
    }
    loop {
        tracing::info!(shard, lease = %format!("{}/{}", spec.namespace, spec.name), "waiting to lead shard {shard}");
        let acquired = tokio::select! {
            r = Lock::acquire_lease(&ctx.home, &spec, LockWait::Forever) => r,
            _ = stop.cancelled() => return,
        };
        let lock = match acquired {
            Ok(lock) => lock,
            Err(e) => {
                tracing::warn!(shard, "shard {shard}: {e}; trying again");
                tokio::select! {
                    _ = tokio::time::sleep(ctx.args.lease_duration) => continue,
                    _ = stop.cancelled() => return,
                }
            }
        };
        ctx.leading.lock().unwrap().insert(shard);
        tracing::info!(shard, "leading shard {shard}");
        let _ = gained.unbounded_send(());
        tokio::select! {
            _ = lock.lost.cancelled() => {
                ctx.leading.lock().unwrap().remove(&shard);
                tracing::warn!(shard, "lost shard {shard} (another replica leads it now)");
            }
            _ = stop.cancelled() => {
                ctx.leading.lock().unwrap().remove(&shard);
                lock.release().await;
                tracing::info!(shard, "released shard {shard}");
                return;
            }
        }
    }
}

/// The shard of a `Kyma` object: a stable hash of `namespace/name` (SHA-256, so every build and
/// every replica agrees), modulo the number of shards.
pub fn shard_of(key: &str, shards: u32) -> u32 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (n % u64::from(shards.max(1))) as u32
}

#[cfg(test)]
mod tests {
    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(super::shard_of("tenants/a", 1), 0);
        let counts = (0..400).fold([0u32; 4], |mut c, i| {
            c[super::shard_of(&format!("ns/kyma-{i}"), 4) as usize] += 1;
            c
        });
        assert!(counts.iter().all(|&n| n > 60), "{counts:?}");
        assert_eq!(super::shard_of("tenants/a", 7), super::shard_of("tenants/a", 7));
    }
}

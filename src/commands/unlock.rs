//! `kyma unlock`, on one cluster or several.

use crate::cli::{ClusterArgs, GlobalArgs};
use crate::exit::{Exit, Failure};
use crate::front::Report;

pub async fn exec(global: GlobalArgs, args: ClusterArgs) -> anyhow::Result<Exit> {
    let targets = crate::front::requests::targets(&args)?;
    let several = targets.len() > 1;
    super::fleet::run(&global, targets, args.cluster_concurrency, None, |target| {
        let args = &args;
        async move {
            let cluster = crate::cluster::connect_within(&target, args.wait_for_cluster).await?;
            let mut report = Report::new(!several);
            let said = match crate::store::lock::force_unlock(&cluster).await {
                Err(crate::store::lock::LockError::NoLeases) => {
                    "this server serves no Leases: kyma takes no lock on it, so there is none to break".into()
                }
                Ok(Some(holder)) => format!("broke the cluster lock held by {holder}"),
                Ok(None) => "the cluster is not locked".to_string(),
                Err(e) => return Err(Failure::new(Exit::Unreachable, e)),
            };
            report.note(&said);
            report.json = serde_json::json!({"message": said});
            Ok(report)
        }
    })
    .await
}

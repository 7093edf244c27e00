//! `kyma unlock`.

use crate::cli::ClusterArgs;
use crate::exit::{Exit, Failure};

pub async fn exec(args: ClusterArgs) -> anyhow::Result<Exit> {
    let cluster = super::cluster::connect(&args).await?;
    match crate::lock::force_unlock(&cluster)
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, e))?
    {
        Some(holder) => eprintln!("broke the cluster lock held by {holder}"),
        None => eprintln!("the cluster is not locked"),
    }
    Ok(Exit::Success)
}

//! `kyma unlock`.

use crate::cli::ClusterArgs;
use crate::exit::{Exit, Failure};

pub async fn exec(args: ClusterArgs) -> anyhow::Result<Exit> {
    let cluster = super::cluster::connect(&args).await?;
    let broken = match crate::lock::force_unlock(&cluster).await {
        Err(crate::lock::LockError::NoLeases) => {
            eprintln!("this server serves no Leases: kyma takes no lock on it, so there is none to break");
            return Ok(Exit::Success);
        }
        r => r.map_err(|e| Failure::new(Exit::Unreachable, e))?,
    };
    match broken {
        Some(holder) => eprintln!("broke the cluster lock held by {holder}"),
        None => eprintln!("the cluster is not locked"),
    }
    Ok(Exit::Success)
}

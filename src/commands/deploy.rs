//! `kyma deploy`: render offline (all bad input is found here), then for each cluster: connect,
//! render with its facts, deploy, report.

use tokio::sync::mpsc;

use crate::cli::{DeployArgs, GlobalArgs};
use crate::engine::Event;
use crate::exit::{Exit, Failure};
use crate::render::ClusterFacts;

pub async fn exec(global: GlobalArgs, args: DeployArgs) -> anyhow::Result<Exit> {
    let fetch = crate::front::requests::fetch(&global);
    let request = crate::front::requests::deploy(&args);
    // Everything the user gave is checked (assets fetched once, templates rendered offline) before any
    // cluster is contacted.
    let loaded = crate::pipeline::load(&fetch, &request.selection)?;
    crate::pipeline::render(&loaded, &ClusterFacts::default())?;
    let mut targets = crate::front::requests::targets(&args.cluster)?;
    let several = targets.len() > 1;
    let rollout = match &args.waves_by {
        Some(label) => {
            let values: Vec<Option<&str>> = targets
                .iter()
                .map(|t| t.labels.get(label).map(String::as_str))
                .collect();
            // A label no context carries (a typo) would be one wave of everything: said instead.
            if several && values.iter().all(Option::is_none) {
                return Err(Failure::bad_input(anyhow::anyhow!(
                    "--waves-by {label}: no context carries the label {label} (a context's labels are the map in its \
                     kubeconfig extension named {})",
                    crate::cluster::LABELS_EXTENSION
                ))
                .into());
            }
            let (order, plan) = crate::rollout::plan_by(&values, args.max_failures);
            targets = order.into_iter().map(|i| targets[i].clone()).collect();
            Some(plan)
        }
        None => (!args.waves.is_empty())
            .then(|| crate::rollout::plan(&args.waves, args.max_failures, targets.len()))
            .transpose()
            .map_err(|e| Failure::bad_input(anyhow::anyhow!("--{e}")))?,
    };

    // One consumer for every cluster's events: bars and lines then never fight over the terminal.
    let (tx, rx) = mpsc::unbounded_channel();
    let live = crate::report::live::LiveOptions {
        tty: crate::report::style::stderr_is_tty(),
        ndjson: args.events.is_some(),
        verbose: global.verbose,
        quiet: super::fleet::fleet_bar_shown(targets.len()),
    };
    let consumer = tokio::spawn(crate::report::live::consume(rx, live));
    let cancel = crate::front::signals::cancel_on_signal();
    let limit = args.cluster.cluster_concurrency;
    let exit = super::fleet::run(&global, targets, limit, rollout, |target| {
        let events = tx.clone();
        let (request, loaded, cancel) = (&request, &loaded, cancel.clone());
        let output = global.output;
        async move {
            // Several clusters: each cluster's events carry its name (`cluster/module`).
            let (cluster_tx, mut cluster_rx) = mpsc::unbounded_channel::<Event>();
            let label = several.then(|| target.label.clone());
            let forward = tokio::spawn(async move {
                while let Some(ev) = cluster_rx.recv().await {
                    let ev = match &label {
                        Some(l) => ev.in_cluster(l),
                        None => ev,
                    };
                    let _ = events.send(ev);
                }
            });
            let to = crate::front::deploy::Destination {
                target: &target,
                output,
                immediate: !several,
            };
            let report = crate::front::deploy::deploy_to(request, loaded, to, cluster_tx, cancel).await;
            let _ = forward.await;
            report
        }
    })
    .await;
    drop(tx);
    let _ = consumer.await;
    let exit = exit?;
    if exit == Exit::Interrupted {
        return Err(Failure::new(
            Exit::Interrupted,
            anyhow::anyhow!("interrupted; the report shows what was applied"),
        )
        .into());
    }
    Ok(exit)
}

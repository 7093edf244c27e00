//! The command line, parsed once. Commands receive these structs and wire the pipeline stages.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::action::request::defaults;
use crate::values::Profile;

#[derive(Debug, Parser)]
#[command(
    name = "kyma",
    version = crate::version::SHORT,
    about = "Install Kyma modules into any Kubernetes cluster.",
    long_about = "Install Kyma modules into any Kubernetes cluster: render each module's templates locally, \
server-side apply them in dependency-tolerant rounds, and report every module's status.",
    after_help = "Examples:\n  kyma deploy --modules istio,eventing\n  kyma render --modules istio | less\n  kyma modules list",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format of the final result.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it).
    /// Repeatable; later catalogs win.
    #[arg(long = "catalog", global = true, value_name = "DIR|URL")]
    pub catalogs: Vec<String>,
    /// Never touch the network for catalogs or manifests: use the download cache (and a mirror
    /// directory) only.
    #[arg(long, global = true)]
    pub offline: bool,
    /// Fetch release assets from here instead of https://github.com/: a server or a directory laid out
    /// like GitHub's release-download URLs (`kyma mirror` fills one).
    #[arg(long, global = true, value_name = "URL|DIR", env = "KYMA_MIRROR")]
    pub mirror: Option<String>,
    /// Accept release assets whose content changed since they were first downloaded (and record the
    /// new digests). Without it such a change is an error.
    #[arg(long, global = true)]
    pub accept_new_digests: bool,
    /// The most one download (catalog, release asset, mirror file) may be, and the most a catalog
    /// archive may unpack to: `256MiB`, `10MB`, `1048576`.
    #[arg(long, global = true, value_name = "SIZE", env = "KYMA_MAX_DOWNLOAD_SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_download_size: u64,
    /// More detail in progress output: every object's retry on its own line.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// `256MiB`, `64KiB`, `10MB`, `1048576`: binary units (`KiB`, `MiB`, `GiB`, or `K`, `M`, `G`) and
/// decimal ones (`KB`, `MB`, `GB`).
fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is not a size (e.g. 256MiB, 64KiB, 10MB, 1048576)");
    let t = s.trim();
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = n.parse().map_err(|_| bad())?;
    let unit: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(bad()),
    };
    match n.checked_mul(unit) {
        Some(0) => Err(format!("'{s}': the limit must be more than 0")),
        Some(b) => Ok(b),
        None => Err(bad()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render, apply and wait for modules on the cluster your kubeconfig selects.
    #[command(after_help = concat!(
        "Examples:\n  kyma deploy --modules istio,eventing,nats\n  kyma deploy --modules istio@1.29.0 --set istio.spec.components.pilot.k8s.hpaSpec.maxReplicas=3\n  kyma deploy --mirror ./kyma-mirror --modules istio,api-gateway\n",
        "  kyma deploy --modules serverless -o json --timeout 5m\n\n",
        "Exit codes:\n  0    success (every module Ready)\n  1    a module failed\n  2    bad input or configuration: nothing was applied\n",
        "  3    timed out (--timeout)\n  4    cluster unreachable or credentials refused\n  5    another kyma run holds the cluster lock\n",
        "  6    a catalog or release asset could not be had: nothing was applied\n  130  interrupted (Ctrl-C or SIGTERM): applied objects recorded, lock released"
    ))]
    Deploy(DeployArgs),
    /// Render modules to YAML locally; no cluster needed.
    #[command(
        visible_alias = "template",
        after_help = "Examples:\n  kyma render --modules istio,eventing\n  kyma render --modules istio --set istio.spec.components.pilot.k8s.hpaSpec.maxReplicas=3 --output-dir out/"
    )]
    Render(RenderArgs),
    /// List and inspect the modules of the catalog.
    #[command(subcommand)]
    Modules(ModulesCommand),
    /// Copy modules' release assets into a directory for air-gapped use (`--mirror DIR` reads it).
    #[command(
        after_help = "Examples:\n  kyma mirror --modules istio,api-gateway --to ./mirror\n  python3 -m http.server -d ./mirror 8080 &  kyma deploy --mirror http://127.0.0.1:8080 --modules istio\n\nThe directory is laid out like https://github.com/<org>/<repo>/releases/download/<tag>/<asset>;\nimages.txt lists the container images the manifests reference."
    )]
    Mirror(MirrorArgs),
    /// Remove modules kyma deployed: only what it recorded, custom resources first, CRDs last.
    #[command(
        after_help = "Examples:\n  kyma undeploy --modules eventing\n  kyma undeploy --all --timeout 5m\n\nCRDs go only when no custom resource kyma did not create is left (--prune-crds deletes them anyway,\nand with them every resource of their kind). Objects annotated kyma-project.io/keep=true stay."
    )]
    Undeploy(UndeployArgs),
    /// Show what a deploy would change: a diff per object and what would be pruned.
    #[command(
        after_help = "Examples:\n  kyma diff --modules istio --set istio.spec.components.pilot.k8s.hpaSpec.maxReplicas=3\n\nExit codes: 0 no changes, 1 changes, 2 error (like diff(1))."
    )]
    Diff(DiffArgs),
    /// Show installed modules: version, deploy time, health now, drift.
    #[command(after_help = "Examples:\n  kyma status\n  kyma status --modules istio -o json")]
    Status(StatusArgs),
    /// Break the cluster lock of a run that is gone.
    #[command(after_help = "Examples:\n  kyma unlock")]
    Unlock(ClusterArgs),
    /// Run the deploy pipeline as a controller of `Kyma` objects, or print what installs it.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Print shell completions.
    #[command(
        after_help = "Examples:\n  kyma completion bash > ~/.local/share/bash-completion/completions/kyma\n  kyma completion zsh > ~/.zfunc/_kyma"
    )]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print version, commit, build target and the built-in catalog's module versions.
    #[command(after_help = "Examples:\n  kyma version\n  kyma version -o json")]
    Version,
}

#[derive(Debug, Subcommand)]
pub enum ModulesCommand {
    /// List modules: name, versions, default version, dependsOn, source.
    #[command(
        after_help = "Examples:\n  kyma modules list\n  kyma modules list -o json --catalog ./my-modules"
    )]
    List,
    /// Show one module: its default values and value schema.
    #[command(after_help = "Examples:\n  kyma modules show istio\n  kyma modules show istio@1.29.0 -o json")]
    Show {
        /// `name` or `name@version`.
        module: String,
    },
}

/// Which modules, and with which values.
#[derive(Debug, Clone, Args)]
pub struct SelectionArgs {
    /// Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release
    /// channel's version (`keda@fast`).
    #[arg(
        short = 'm',
        long,
        value_delimiter = ',',
        required = true,
        value_name = "NAME[@VERSION|@CHANNEL],..."
    )]
    pub modules: Vec<String>,
    /// Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps
    /// them; `kyma modules show NAME` lists a module's channels).
    #[arg(long, value_name = "CHANNEL", value_parser = channel_name)]
    pub channel: Option<String>,
    /// Values file; top-level keys are module names or `global`. Repeatable, later files win.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files.
    #[arg(long = "set", value_name = "MODULE.KEY=VALUE")]
    pub set: Vec<String>,
    /// Values profile shipped by each module.
    #[arg(long, value_parser = clap::builder::EnumValueParser::<ProfileArg>::new().map(Profile::from))]
    pub profile: Option<Profile>,
    /// Central overrides from a platform team: they win over everything the user gives.
    #[arg(long, value_name = "FILE", env = "KYMA_OVERRIDES")]
    pub overrides: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct MirrorArgs {
    /// Modules to mirror, comma-separated; `name@version` picks a version.
    #[arg(
        short = 'm',
        long,
        value_delimiter = ',',
        required = true,
        value_name = "NAME[@VERSION],..."
    )]
    pub modules: Vec<String>,
    /// The mirror directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Write one file per module into DIR instead of printing to stdout.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to
    /// target the current context of each file, all in one run.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Vec<PathBuf>,
    /// Kubeconfig context to use (default: the current context). Repeat it to target several clusters
    /// in one run.
    #[arg(long, value_name = "NAME")]
    pub context: Vec<String>,
    /// Target every context of the kubeconfig(s).
    #[arg(long, conflicts_with = "context")]
    pub all_contexts: bool,
    /// With several clusters: how many are worked on at once; each has its own lock, discovery,
    /// rounds and readiness, and one cluster's failure never stops the others. A cluster mostly waits
    /// on its server, so many at once pay off; memory grows with this number, not with the number of
    /// clusters.
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub cluster_concurrency: u16,
    /// How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while
    /// it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential
    /// errors fail at once. 0 fails at once on anything.
    #[arg(long, value_parser = parse_duration, default_value = defaults::WAIT_FOR_CLUSTER, value_name = "DURATION")]
    pub wait_for_cluster: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Ndjson,
}

#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("rollout").args(["waves", "waves_by"]).multiple(false))]
pub struct DeployArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Give up after this long (e.g. 90s, 10m).
    #[arg(long, value_parser = parse_duration, default_value = defaults::DEPLOY_TIMEOUT)]
    pub timeout: Duration,
    /// Requests in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Return once everything is applied, without waiting for readiness.
    #[arg(long, conflicts_with_all = ["waves", "waves_by"])]
    pub no_wait: bool,
    /// With several clusters: roll out in waves, cumulative, in the order of --context (or of the
    /// kubeconfig with --all-contexts): `1,10%,100%` is one cluster, then up to a tenth, then all.
    /// Each wave is Ready before the next starts.
    #[arg(long, value_delimiter = ',', value_name = "N|P%,...")]
    pub waves: Vec<crate::rollout::Reach>,
    /// With several clusters: roll out in waves by a label of the kubeconfig contexts (the map in a
    /// context's extension named kyma-project.io/labels): one wave per value, in the values' order
    /// (numbers as numbers), contexts without the label last.
    #[arg(long, value_name = "LABEL", conflicts_with = "waves")]
    pub waves_by: Option<String>,
    /// With --waves or --waves-by: how many clusters may fail (a number, or a percentage of the
    /// clusters, rounded down) before the rollout halts; clusters not started are reported as such
    /// (exit 7).
    #[arg(long, value_name = "N|P%", default_value = "0", requires = "rollout")]
    pub max_failures: crate::rollout::Budget,
    /// Run everything with server-side dry-run: nothing is persisted.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields another field manager owns (server-side apply `force`).
    #[arg(long)]
    pub force_conflicts: bool,
    /// Stream events to stdout as they happen.
    #[arg(long, value_enum)]
    pub events: Option<EventsFormat>,
    /// How long a new custom resource with an empty status may take to report one before it counts
    /// as ready.
    #[arg(long, value_parser = parse_duration, default_value = defaults::STATUS_GRACE, hide = true)]
    pub status_grace: Duration,
    /// How long a module's custom resource may stay in state Error before the module fails
    /// (managers pass through Error while what they need comes up).
    #[arg(long, value_parser = parse_duration, default_value = defaults::ERROR_GRACE)]
    pub error_grace: Duration,
    /// Take over objects another tool owns (another ApplySet, a Helm release).
    #[arg(long)]
    pub adopt: bool,
    /// Allow a module that now renders nothing to prune everything it had.
    #[arg(long)]
    pub allow_empty: bool,
    /// Prune CRDs no longer rendered (deletes every resource of their kinds too).
    #[arg(long)]
    pub prune_crds: bool,
    /// Apply modules even when nothing changed since their last complete deploy.
    #[arg(long)]
    pub reapply: bool,
    /// Wait for another run's cluster lock instead of failing: at most --timeout, or as long as given
    /// (`--wait-for-lock=15m`). The wait is not counted in --timeout.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true, value_parser = parse_duration)]
    pub wait_for_lock: Option<Option<Duration>>,
    /// When an upgrade changes a field the server cannot change in place (a Deployment's
    /// spec.selector), delete and recreate that object. Per object: annotate it
    /// kyma-project.io/replace: "true".
    #[arg(long)]
    pub force_replace: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UndeployArgs {
    /// Modules to remove, comma-separated.
    #[arg(
        short = 'm',
        long,
        value_delimiter = ',',
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub modules: Vec<String>,
    /// Remove every module kyma installed.
    #[arg(long)]
    pub all: bool,
    /// Go on although other installed modules list these in dependsOn.
    #[arg(long)]
    pub force: bool,
    /// Delete the modules' CRDs even when resources of their kinds remain (those go too).
    #[arg(long)]
    pub prune_crds: bool,
    /// Strip finalizers from objects still stuck at the timeout.
    #[arg(long)]
    pub remove_finalizers: bool,
    /// Give up waiting for deletion after this long.
    #[arg(long, value_parser = parse_duration, default_value = defaults::UNDEPLOY_TIMEOUT)]
    pub timeout: Duration,
    /// Wait for another run's cluster lock instead of failing: at most --timeout, or as long as given
    /// (`--wait-for-lock=15m`). The wait is not counted in --timeout.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true, value_parser = parse_duration)]
    pub wait_for_lock: Option<Option<Duration>>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Requests in flight at once, for deploy and for the reads of status and diff alike.
pub const DEFAULT_CONCURRENCY: u16 = defaults::CONCURRENCY;

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Objects compared at once (each a read and a dry-run apply).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Only these modules (default: every installed module).
    #[arg(short = 'm', long, value_delimiter = ',')]
    pub modules: Vec<String>,
    /// Exit 1 when any module is not Ready or any object drifted or is missing (a CI gate); without it
    /// status exits 0 whenever it could read the cluster.
    #[arg(long)]
    pub check: bool,
    /// Objects looked at at once (each a read and a dry-run apply).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `--profile`'s choices; the values stage has its own [`Profile`], which knows nothing of flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    Evaluation,
    Production,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Profile {
        match p {
            ProfileArg::Evaluation => Profile::Evaluation,
            ProfileArg::Production => Profile::Production,
        }
    }
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("'{s}' is not a duration like 30s, 5m or 1h: {e}"))
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this
    /// cluster, or into the cluster of the kubeconfig Secret they name.
    #[command(
        after_help = "Examples:\n  kyma operator run --resync 1m\n  kyma operator run --kubeconfig control-plane.yaml --namespace tenants"
    )]
    Run(Box<OperatorRunArgs>),
    /// Print the operator's CRD, RBAC and Deployment (apply them with kubectl).
    #[command(
        after_help = "Examples:\n  kyma operator manifests --image registry.example/kyma:0.1.0 | kubectl apply -f -"
    )]
    Manifests(OperatorManifestsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct OperatorRunArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Watch `Kyma` objects of this namespace only (default: all namespaces).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Reconcile every `Kyma` object at least this often: a managed object deleted or edited by hand is
    /// restored within it.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub resync: Duration,
    /// How many `Kyma` objects are reconciled at once (never one object twice at once; every object
    /// waiting is taken in turn). A reconcile mostly waits on its cluster (a new CRD, readiness), and
    /// those of one render share it: memory grows with this number, not with the number of objects.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// How long one reconcile waits for its modules to be ready before it reports them Processing and
    /// comes back.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,
    /// Central overrides: they win over every `Kyma` object's values, as `kyma deploy --overrides` does.
    #[arg(long, value_name = "FILE", env = "KYMA_OVERRIDES")]
    pub overrides: Option<PathBuf>,
    /// Split the `Kyma` objects into this many shards by a stable hash of namespace/name; this process
    /// reconciles shard --shard only.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub shards: u32,
    /// The shard this process reconciles (0-based).
    #[arg(long, default_value_t = 0)]
    pub shard: u32,
    /// Reconcile only `Kyma` objects with these labels (`key=value,…`): a way to shard by label.
    #[arg(long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Run as one of several replicas of a shard: only the holder of the shard's Lease
    /// (`kyma-operator-shard-N` in --operator-namespace) reconciles; the others wait and take over when
    /// it stops renewing.
    #[arg(long)]
    pub leader_election: bool,
    /// The operator's own namespace: the shards' Leases and the central overrides live here (never
    /// kyma-installer, which the last undeploy removes).
    #[arg(long, value_name = "NAMESPACE", default_value = "kyma-operator")]
    pub operator_namespace: String,
    /// Central overrides from a ConfigMap or Secret of --operator-namespace (`configmap/NAME` or
    /// `secret/NAME`, key `overrides.yaml`), read at every reconcile and applied last, as
    /// `kyma deploy --overrides` does: they win over every `Kyma` object's values.
    #[arg(long, value_name = "KIND/NAME", value_parser = parse_overrides_source)]
    pub overrides_from: Option<OverridesSource>,
    /// How long a leader's Lease lives unrenewed: a standby takes over at most this long after the
    /// leader is gone.
    #[arg(long, value_parser = parse_duration, default_value = "15s")]
    pub lease_duration: Duration,
    /// Let kubeconfigs from Secrets run commands (`users[].user.exec`, `auth-provider`). Off: whoever
    /// may write a Secret and a `Kyma` object could otherwise run code as the operator.
    #[arg(long)]
    pub insecure_kubeconfig_exec: bool,
    /// Let kubeconfigs from Secrets name files (`tokenFile`, `client-certificate`, `client-key`,
    /// `certificate-authority`). Off: such a path could hand the operator's own token or files to a
    /// server of the Secret writer's choice.
    #[arg(long)]
    pub insecure_kubeconfig_files: bool,
    /// How the operator's log lines are written to stderr: `text` (timestamp, level, message, fields)
    /// or `json` (one object per line).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct OperatorManifestsArgs {
    /// The operator's image: this binary on a `scratch` base (see `Containerfile`).
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Namespace of the operator's Deployment, ServiceAccount and Leases (not kyma-installer: the last
    /// undeploy removes that one).
    #[arg(long, value_name = "NAMESPACE", default_value = "kyma-operator")]
    pub namespace: String,
    /// Single-cluster mode: the modules the operator may install into the cluster it runs in. Its
    /// ClusterRole is derived from what they render (each kind with the verbs kyma uses). Without it,
    /// the control-plane profile: the operator reads its `Kyma` objects and the Secrets they name and
    /// installs only into the clusters those Secrets reach.
    #[arg(short = 'm', long, value_delimiter = ',', value_name = "NAME[@VERSION],...")]
    pub modules: Vec<String>,
}

/// Where the operator reads central overrides from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverridesSource {
    ConfigMap(String),
    Secret(String),
}

fn parse_overrides_source(s: &str) -> Result<OverridesSource, String> {
    match s.split_once('/') {
        Some(("configmap", n)) if !n.is_empty() => Ok(OverridesSource::ConfigMap(n.to_string())),
        Some(("secret", n)) if !n.is_empty() => Ok(OverridesSource::Secret(n.to_string())),
        _ => Err(format!("{s:?}: give configmap/NAME or secret/NAME")),
    }
}

/// `--channel`: a channel name, never a version (`name@1.2.0` picks those).
fn channel_name(s: &str) -> Result<String, String> {
    if crate::catalog::channels::is_channel_name(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a channel name (lowercase letters, digits, '-', starting with a letter, e.g. regular or fast)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        for bad in ["", "MiB", "1.5MiB", "12 parsecs", "0", "99999999999GiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}

# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kyma_global_optspecs
    string join \n o/output= catalog= offline mirror= accept-new-digests max-download-size= v/verbose h/help V/version
end

function __fish_kyma_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kyma_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kyma_using_subcommand
    set -l cmd (__fish_kyma_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kyma -n "__fish_kyma_needs_command" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_needs_command" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_needs_command" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_needs_command" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_needs_command" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_needs_command" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_needs_command" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kyma -n "__fish_kyma_needs_command" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "deploy" -d 'Render, apply and wait for modules on the cluster your kubeconfig selects'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "render" -d 'Render modules to YAML locally; no cluster needed'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "template" -d 'Render modules to YAML locally; no cluster needed'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "modules" -d 'List and inspect the modules of the catalog'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "mirror" -d 'Copy modules\' release assets into a directory for air-gapped use (`--mirror DIR` reads it)'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "undeploy" -d 'Remove modules kyma deployed: only what it recorded, custom resources first, CRDs last'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "diff" -d 'Show what a deploy would change: a diff per object and what would be pruned'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "status" -d 'Show installed modules: version, deploy time, health now, drift'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "unlock" -d 'Break the cluster lock of a run that is gone'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "operator" -d 'Run the deploy pipeline as a controller of `Kyma` objects, or print what installs it'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "completion" -d 'Print shell completions'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "version" -d 'Print version, commit, build target and the built-in catalog\'s module versions'
complete -c kyma -n "__fish_kyma_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -s m -l modules -d 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel\'s version (`keda@fast`)' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l channel -d 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module\'s channels)' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -s f -l values -d 'Values file; top-level keys are module names or `global`. Repeatable, later files win' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l set -d 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l profile -d 'Values profile shipped by each module' -r -f -a "evaluation\t''
production\t''"
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l overrides -d 'Central overrides from a platform team: they win over everything the user gives' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l kubeconfig -d 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l context -d 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l cluster-concurrency -d 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster\'s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l wait-for-cluster -d 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l timeout -d 'Give up after this long (e.g. 90s, 10m)' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l concurrency -d 'Requests in flight at once' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l waves -d 'With several clusters: roll out in waves, cumulative, in the order of --context (or of the kubeconfig with --all-contexts): `1,10%,100%` is one cluster, then up to a tenth, then all. Each wave is Ready before the next starts' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l waves-by -d 'With several clusters: roll out in waves by a label of the kubeconfig contexts (the map in a context\'s extension named kyma-project.io/labels): one wave per value, in the values\' order (numbers as numbers), contexts without the label last' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l max-failures -d 'With --waves or --waves-by: how many clusters may fail (a number, or a percentage of the clusters, rounded down) before the rollout halts; clusters not started are reported as such (exit 7)' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l events -d 'Stream events to stdout as they happen' -r -f -a "ndjson\t''"
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l status-grace -d 'How long a new custom resource with an empty status may take to report one before it counts as ready' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l error-grace -d 'How long a module\'s custom resource may stay in state Error before the module fails (managers pass through Error while what they need comes up)' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l wait-for-lock -d 'Wait for another run\'s cluster lock instead of failing: at most --timeout, or as long as given (`--wait-for-lock=15m`). The wait is not counted in --timeout' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l all-contexts -d 'Target every context of the kubeconfig(s)'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l no-wait -d 'Return once everything is applied, without waiting for readiness'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l dry-run -d 'Run everything with server-side dry-run: nothing is persisted'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l force-conflicts -d 'Take over fields another field manager owns (server-side apply `force`)'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l adopt -d 'Take over objects another tool owns (another ApplySet, a Helm release)'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l allow-empty -d 'Allow a module that now renders nothing to prune everything it had'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l prune-crds -d 'Prune CRDs no longer rendered (deletes every resource of their kinds too)'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l reapply -d 'Apply modules even when nothing changed since their last complete deploy'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l force-replace -d 'When an upgrade changes a field the server cannot change in place (a Deployment\'s spec.selector), delete and recreate that object. Per object: annotate it kyma-project.io/replace: "true"'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand deploy" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand render" -s m -l modules -d 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel\'s version (`keda@fast`)' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand render" -l channel -d 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module\'s channels)' -r
complete -c kyma -n "__fish_kyma_using_subcommand render" -s f -l values -d 'Values file; top-level keys are module names or `global`. Repeatable, later files win' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand render" -l set -d 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files' -r
complete -c kyma -n "__fish_kyma_using_subcommand render" -l profile -d 'Values profile shipped by each module' -r -f -a "evaluation\t''
production\t''"
complete -c kyma -n "__fish_kyma_using_subcommand render" -l overrides -d 'Central overrides from a platform team: they win over everything the user gives' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand render" -l output-dir -d 'Write one file per module into DIR instead of printing to stdout' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand render" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand render" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand render" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand render" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand render" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand render" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand render" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand render" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand render" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand template" -s m -l modules -d 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel\'s version (`keda@fast`)' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand template" -l channel -d 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module\'s channels)' -r
complete -c kyma -n "__fish_kyma_using_subcommand template" -s f -l values -d 'Values file; top-level keys are module names or `global`. Repeatable, later files win' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand template" -l set -d 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files' -r
complete -c kyma -n "__fish_kyma_using_subcommand template" -l profile -d 'Values profile shipped by each module' -r -f -a "evaluation\t''
production\t''"
complete -c kyma -n "__fish_kyma_using_subcommand template" -l overrides -d 'Central overrides from a platform team: they win over everything the user gives' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand template" -l output-dir -d 'Write one file per module into DIR instead of printing to stdout' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand template" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand template" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand template" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand template" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand template" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand template" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand template" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand template" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand template" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -f -a "list" -d 'List modules: name, versions, default version, dependsOn, source'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -f -a "show" -d 'Show one module: its default values and value schema'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and not __fish_seen_subcommand_from list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from help" -f -a "list" -d 'List modules: name, versions, default version, dependsOn, source'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one module: its default values and value schema'
complete -c kyma -n "__fish_kyma_using_subcommand modules; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -s m -l modules -d 'Modules to mirror, comma-separated; `name@version` picks a version' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -l to -d 'The mirror directory (created if missing)' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand mirror" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -s m -l modules -d 'Modules to remove, comma-separated' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l timeout -d 'Give up waiting for deletion after this long' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l wait-for-lock -d 'Wait for another run\'s cluster lock instead of failing: at most --timeout, or as long as given (`--wait-for-lock=15m`). The wait is not counted in --timeout' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l kubeconfig -d 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l context -d 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l cluster-concurrency -d 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster\'s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l wait-for-cluster -d 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l all -d 'Remove every module kyma installed'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l force -d 'Go on although other installed modules list these in dependsOn'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l prune-crds -d 'Delete the modules\' CRDs even when resources of their kinds remain (those go too)'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l remove-finalizers -d 'Strip finalizers from objects still stuck at the timeout'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l all-contexts -d 'Target every context of the kubeconfig(s)'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand undeploy" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand diff" -s m -l modules -d 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel\'s version (`keda@fast`)' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l channel -d 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module\'s channels)' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -s f -l values -d 'Values file; top-level keys are module names or `global`. Repeatable, later files win' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l set -d 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l profile -d 'Values profile shipped by each module' -r -f -a "evaluation\t''
production\t''"
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l overrides -d 'Central overrides from a platform team: they win over everything the user gives' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l kubeconfig -d 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l context -d 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l cluster-concurrency -d 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster\'s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l wait-for-cluster -d 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l concurrency -d 'Objects compared at once (each a read and a dry-run apply)' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l all-contexts -d 'Target every context of the kubeconfig(s)'
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand diff" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand diff" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand diff" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand diff" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand status" -s m -l modules -d 'Only these modules (default: every installed module)' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand status" -l concurrency -d 'Objects looked at at once (each a read and a dry-run apply)' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -l kubeconfig -d 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand status" -l context -d 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -l cluster-concurrency -d 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster\'s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -l wait-for-cluster -d 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand status" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand status" -l check -d 'Exit 1 when any module is not Ready or any object drifted or is missing (a CI gate); without it status exits 0 whenever it could read the cluster'
complete -c kyma -n "__fish_kyma_using_subcommand status" -l all-contexts -d 'Target every context of the kubeconfig(s)'
complete -c kyma -n "__fish_kyma_using_subcommand status" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand status" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand status" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand status" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand status" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l kubeconfig -d 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l context -d 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run' -r
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l cluster-concurrency -d 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster\'s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters' -r
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l wait-for-cluster -d 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything' -r
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l all-contexts -d 'Target every context of the kubeconfig(s)'
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand unlock" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -f -a "run" -d 'Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this cluster, or into the cluster of the kubeconfig Secret they name'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -f -a "manifests" -d 'Print the operator\'s CRD, RBAC and Deployment (apply them with kubectl)'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and not __fish_seen_subcommand_from run manifests help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l context -d 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l cluster-concurrency -d 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster\'s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l wait-for-cluster -d 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l namespace -d 'Watch `Kyma` objects of this namespace only (default: all namespaces)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l resync -d 'Reconcile every `Kyma` object at least this often: a managed object deleted or edited by hand is restored within it' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l concurrency -d 'How many `Kyma` objects are reconciled at once (never one object twice at once; every object waiting is taken in turn). A reconcile mostly waits on its cluster (a new CRD, readiness), and those of one render share it: memory grows with this number, not with the number of objects' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l timeout -d 'How long one reconcile waits for its modules to be ready before it reports them Processing and comes back' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l overrides -d 'Central overrides: they win over every `Kyma` object\'s values, as `kyma deploy --overrides` does' -r -F
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l shards -d 'Split the `Kyma` objects into this many shards by a stable hash of namespace/name; this process reconciles shard --shard only' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l shard -d 'The shard this process reconciles (0-based)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l selector -d 'Reconcile only `Kyma` objects with these labels (`key=value,…`): a way to shard by label' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l operator-namespace -d 'The operator\'s own namespace: the shards\' Leases and the central overrides live here (never kyma-installer, which the last undeploy removes)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l overrides-from -d 'Central overrides from a ConfigMap or Secret of --operator-namespace (`configmap/NAME` or `secret/NAME`, key `overrides.yaml`), read at every reconcile and applied last, as `kyma deploy --overrides` does: they win over every `Kyma` object\'s values' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l lease-duration -d 'How long a leader\'s Lease lives unrenewed: a standby takes over at most this long after the leader is gone' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l log-format -d 'How the operator\'s log lines are written to stderr: `text` (timestamp, level, message, fields) or `json` (one object per line)' -r -f -a "text\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l all-contexts -d 'Target every context of the kubeconfig(s)'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l leader-election -d 'Run as one of several replicas of a shard: only the holder of the shard\'s Lease (`kyma-operator-shard-N` in --operator-namespace) reconciles; the others wait and take over when it stops renewing'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l insecure-kubeconfig-exec -d 'Let kubeconfigs from Secrets run commands (`users[].user.exec`, `auth-provider`). Off: whoever may write a Secret and a `Kyma` object could otherwise run code as the operator'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l insecure-kubeconfig-files -d 'Let kubeconfigs from Secrets name files (`tokenFile`, `client-certificate`, `client-key`, `certificate-authority`). Off: such a path could hand the operator\'s own token or files to a server of the Secret writer\'s choice'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l image -d 'The operator\'s image: this binary on a `scratch` base (see `Containerfile`)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l namespace -d 'Namespace of the operator\'s Deployment, ServiceAccount and Leases (not kyma-installer: the last undeploy removes that one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -s m -l modules -d 'Single-cluster mode: the modules the operator may install into the cluster it runs in. Its ClusterRole is derived from what they render (each kind with the verbs kyma uses). Without it, the control-plane profile: the operator reads its `Kyma` objects and the Secrets they name and installs only into the clusters those Secrets reach' -r -f -a "api-gateway\t''
btp-operator\t''
cap-operator\t''
cfapi\t''
docker-registry\t''
eventing\t''
istio\t''
keda\t''
nats\t''
registry-cache\t''
registry-proxy\t''
serverless\t''
telemetry\t''"
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from manifests" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "run" -d 'Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this cluster, or into the cluster of the kubeconfig Secret they name'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "manifests" -d 'Print the operator\'s CRD, RBAC and Deployment (apply them with kubectl)'
complete -c kyma -n "__fish_kyma_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kyma -n "__fish_kyma_using_subcommand completion" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand completion" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand completion" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand completion" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand completion" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand completion" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand completion" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand version" -s o -l output -d 'Output format of the final result' -r -f -a "table\t''
json\t''"
complete -c kyma -n "__fish_kyma_using_subcommand version" -l catalog -d 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win' -r
complete -c kyma -n "__fish_kyma_using_subcommand version" -l mirror -d 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub\'s release-download URLs (`kyma mirror` fills one)' -r
complete -c kyma -n "__fish_kyma_using_subcommand version" -l max-download-size -d 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`' -r
complete -c kyma -n "__fish_kyma_using_subcommand version" -l offline -d 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only'
complete -c kyma -n "__fish_kyma_using_subcommand version" -l accept-new-digests -d 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error'
complete -c kyma -n "__fish_kyma_using_subcommand version" -s v -l verbose -d 'More detail in progress output: every object\'s retry on its own line'
complete -c kyma -n "__fish_kyma_using_subcommand version" -s h -l help -d 'Print help'
complete -c kyma -n "__fish_kyma_using_subcommand version" -s V -l version -d 'Print version'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "deploy" -d 'Render, apply and wait for modules on the cluster your kubeconfig selects'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "render" -d 'Render modules to YAML locally; no cluster needed'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "modules" -d 'List and inspect the modules of the catalog'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "mirror" -d 'Copy modules\' release assets into a directory for air-gapped use (`--mirror DIR` reads it)'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "undeploy" -d 'Remove modules kyma deployed: only what it recorded, custom resources first, CRDs last'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "diff" -d 'Show what a deploy would change: a diff per object and what would be pruned'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "status" -d 'Show installed modules: version, deploy time, health now, drift'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "unlock" -d 'Break the cluster lock of a run that is gone'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "operator" -d 'Run the deploy pipeline as a controller of `Kyma` objects, or print what installs it'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "completion" -d 'Print shell completions'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "version" -d 'Print version, commit, build target and the built-in catalog\'s module versions'
complete -c kyma -n "__fish_kyma_using_subcommand help; and not __fish_seen_subcommand_from deploy render modules mirror undeploy diff status unlock operator completion version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kyma -n "__fish_kyma_using_subcommand help; and __fish_seen_subcommand_from modules" -f -a "list" -d 'List modules: name, versions, default version, dependsOn, source'
complete -c kyma -n "__fish_kyma_using_subcommand help; and __fish_seen_subcommand_from modules" -f -a "show" -d 'Show one module: its default values and value schema'
complete -c kyma -n "__fish_kyma_using_subcommand help; and __fish_seen_subcommand_from operator" -f -a "run" -d 'Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this cluster, or into the cluster of the kubeconfig Secret they name'
complete -c kyma -n "__fish_kyma_using_subcommand help; and __fish_seen_subcommand_from operator" -f -a "manifests" -d 'Print the operator\'s CRD, RBAC and Deployment (apply them with kubectl)'

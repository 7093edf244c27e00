
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kyma' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kyma'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kyma' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Render, apply and wait for modules on the cluster your kubeconfig selects')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Render modules to YAML locally; no cluster needed')
            [CompletionResult]::new('template', 'template', [CompletionResultType]::ParameterValue, 'Render modules to YAML locally; no cluster needed')
            [CompletionResult]::new('modules', 'modules', [CompletionResultType]::ParameterValue, 'List and inspect the modules of the catalog')
            [CompletionResult]::new('mirror', 'mirror', [CompletionResultType]::ParameterValue, 'Copy modules'' release assets into a directory for air-gapped use (`--mirror DIR` reads it)')
            [CompletionResult]::new('undeploy', 'undeploy', [CompletionResultType]::ParameterValue, 'Remove modules kyma deployed: only what it recorded, custom resources first, CRDs last')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what a deploy would change: a diff per object and what would be pruned')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show installed modules: version, deploy time, health now, drift')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Break the cluster lock of a run that is gone')
            [CompletionResult]::new('operator', 'operator', [CompletionResultType]::ParameterValue, 'Run the deploy pipeline as a controller of `Kyma` objects, or print what installs it')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print version, commit, build target and the built-in catalog''s module versions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kyma;deploy' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module''s channels)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--values', '--values', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Values profile shipped by each module')
            [CompletionResult]::new('--overrides', '--overrides', [CompletionResultType]::ParameterName, 'Central overrides from a platform team: they win over everything the user gives')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run')
            [CompletionResult]::new('--cluster-concurrency', '--cluster-concurrency', [CompletionResultType]::ParameterName, 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster''s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters')
            [CompletionResult]::new('--wait-for-cluster', '--wait-for-cluster', [CompletionResultType]::ParameterName, 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Requests in flight at once')
            [CompletionResult]::new('--waves', '--waves', [CompletionResultType]::ParameterName, 'With several clusters: roll out in waves, cumulative, in the order of --context (or of the kubeconfig with --all-contexts): `1,10%,100%` is one cluster, then up to a tenth, then all. Each wave is Ready before the next starts')
            [CompletionResult]::new('--waves-by', '--waves-by', [CompletionResultType]::ParameterName, 'With several clusters: roll out in waves by a label of the kubeconfig contexts (the map in a context''s extension named kyma-project.io/labels): one wave per value, in the values'' order (numbers as numbers), contexts without the label last')
            [CompletionResult]::new('--max-failures', '--max-failures', [CompletionResultType]::ParameterName, 'With --waves or --waves-by: how many clusters may fail (a number, or a percentage of the clusters, rounded down) before the rollout halts; clusters not started are reported as such (exit 7)')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Stream events to stdout as they happen')
            [CompletionResult]::new('--status-grace', '--status-grace', [CompletionResultType]::ParameterName, 'How long a new custom resource with an empty status may take to report one before it counts as ready')
            [CompletionResult]::new('--error-grace', '--error-grace', [CompletionResultType]::ParameterName, 'How long a module''s custom resource may stay in state Error before the module fails (managers pass through Error while what they need comes up)')
            [CompletionResult]::new('--wait-for-lock', '--wait-for-lock', [CompletionResultType]::ParameterName, 'Wait for another run''s cluster lock instead of failing: at most --timeout, or as long as given (`--wait-for-lock=15m`). The wait is not counted in --timeout')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Target every context of the kubeconfig(s)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return once everything is applied, without waiting for readiness')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Run everything with server-side dry-run: nothing is persisted')
            [CompletionResult]::new('--force-conflicts', '--force-conflicts', [CompletionResultType]::ParameterName, 'Take over fields another field manager owns (server-side apply `force`)')
            [CompletionResult]::new('--adopt', '--adopt', [CompletionResultType]::ParameterName, 'Take over objects another tool owns (another ApplySet, a Helm release)')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Allow a module that now renders nothing to prune everything it had')
            [CompletionResult]::new('--prune-crds', '--prune-crds', [CompletionResultType]::ParameterName, 'Prune CRDs no longer rendered (deletes every resource of their kinds too)')
            [CompletionResult]::new('--reapply', '--reapply', [CompletionResultType]::ParameterName, 'Apply modules even when nothing changed since their last complete deploy')
            [CompletionResult]::new('--force-replace', '--force-replace', [CompletionResultType]::ParameterName, 'When an upgrade changes a field the server cannot change in place (a Deployment''s spec.selector), delete and recreate that object. Per object: annotate it kyma-project.io/replace: "true"')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;render' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module''s channels)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--values', '--values', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Values profile shipped by each module')
            [CompletionResult]::new('--overrides', '--overrides', [CompletionResultType]::ParameterName, 'Central overrides from a platform team: they win over everything the user gives')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Write one file per module into DIR instead of printing to stdout')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;template' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module''s channels)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--values', '--values', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Values profile shipped by each module')
            [CompletionResult]::new('--overrides', '--overrides', [CompletionResultType]::ParameterName, 'Central overrides from a platform team: they win over everything the user gives')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Write one file per module into DIR instead of printing to stdout')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;modules' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List modules: name, versions, default version, dependsOn, source')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one module: its default values and value schema')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kyma;modules;list' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;modules;show' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;modules;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List modules: name, versions, default version, dependsOn, source')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one module: its default values and value schema')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kyma;modules;help;list' {
            break
        }
        'kyma;modules;help;show' {
            break
        }
        'kyma;modules;help;help' {
            break
        }
        'kyma;mirror' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Modules to mirror, comma-separated; `name@version` picks a version')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules to mirror, comma-separated; `name@version` picks a version')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The mirror directory (created if missing)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;undeploy' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Modules to remove, comma-separated')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules to remove, comma-separated')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting for deletion after this long')
            [CompletionResult]::new('--wait-for-lock', '--wait-for-lock', [CompletionResultType]::ParameterName, 'Wait for another run''s cluster lock instead of failing: at most --timeout, or as long as given (`--wait-for-lock=15m`). The wait is not counted in --timeout')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run')
            [CompletionResult]::new('--cluster-concurrency', '--cluster-concurrency', [CompletionResultType]::ParameterName, 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster''s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters')
            [CompletionResult]::new('--wait-for-cluster', '--wait-for-cluster', [CompletionResultType]::ParameterName, 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Remove every module kyma installed')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Go on although other installed modules list these in dependsOn')
            [CompletionResult]::new('--prune-crds', '--prune-crds', [CompletionResultType]::ParameterName, 'Delete the modules'' CRDs even when resources of their kinds remain (those go too)')
            [CompletionResult]::new('--remove-finalizers', '--remove-finalizers', [CompletionResultType]::ParameterName, 'Strip finalizers from objects still stuck at the timeout')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Target every context of the kubeconfig(s)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;diff' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules to use, comma-separated; `name@version` picks a version, `name@channel` a release channel''s version (`keda@fast`)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Release channel for the modules named without `@` (`regular`, `fast`, … as the catalog maps them; `kyma modules show NAME` lists a module''s channels)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--values', '--values', [CompletionResultType]::ParameterName, 'Values file; top-level keys are module names or `global`. Repeatable, later files win')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a value: `module.path.to.key=value` (lists: `module.list[0]=x`). Repeatable, wins over files')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Values profile shipped by each module')
            [CompletionResult]::new('--overrides', '--overrides', [CompletionResultType]::ParameterName, 'Central overrides from a platform team: they win over everything the user gives')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run')
            [CompletionResult]::new('--cluster-concurrency', '--cluster-concurrency', [CompletionResultType]::ParameterName, 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster''s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters')
            [CompletionResult]::new('--wait-for-cluster', '--wait-for-cluster', [CompletionResultType]::ParameterName, 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Objects compared at once (each a read and a dry-run apply)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Target every context of the kubeconfig(s)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;status' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Only these modules (default: every installed module)')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Only these modules (default: every installed module)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Objects looked at at once (each a read and a dry-run apply)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run')
            [CompletionResult]::new('--cluster-concurrency', '--cluster-concurrency', [CompletionResultType]::ParameterName, 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster''s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters')
            [CompletionResult]::new('--wait-for-cluster', '--wait-for-cluster', [CompletionResultType]::ParameterName, 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when any module is not Ready or any object drifted or is missing (a CI gate); without it status exits 0 whenever it could read the cluster')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Target every context of the kubeconfig(s)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;unlock' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run')
            [CompletionResult]::new('--cluster-concurrency', '--cluster-concurrency', [CompletionResultType]::ParameterName, 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster''s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters')
            [CompletionResult]::new('--wait-for-cluster', '--wait-for-cluster', [CompletionResultType]::ParameterName, 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Target every context of the kubeconfig(s)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;operator' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this cluster, or into the cluster of the kubeconfig Secret they name')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the operator''s CRD, RBAC and Deployment (apply them with kubectl)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kyma;operator;run' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster). Repeat it to target the current context of each file, all in one run')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use (default: the current context). Repeat it to target several clusters in one run')
            [CompletionResult]::new('--cluster-concurrency', '--cluster-concurrency', [CompletionResultType]::ParameterName, 'With several clusters: how many are worked on at once; each has its own lock, discovery, rounds and readiness, and one cluster''s failure never stops the others. A cluster mostly waits on its server, so many at once pay off; memory grows with this number, not with the number of clusters')
            [CompletionResult]::new('--wait-for-cluster', '--wait-for-cluster', [CompletionResultType]::ParameterName, 'How long to wait for a cluster that does not answer yet (connection refused, timeouts, 5xx while it starts), e.g. right after CI created it; never longer than --timeout. TLS and credential errors fail at once. 0 fails at once on anything')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Watch `Kyma` objects of this namespace only (default: all namespaces)')
            [CompletionResult]::new('--resync', '--resync', [CompletionResultType]::ParameterName, 'Reconcile every `Kyma` object at least this often: a managed object deleted or edited by hand is restored within it')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many `Kyma` objects are reconciled at once (never one object twice at once; every object waiting is taken in turn). A reconcile mostly waits on its cluster (a new CRD, readiness), and those of one render share it: memory grows with this number, not with the number of objects')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long one reconcile waits for its modules to be ready before it reports them Processing and comes back')
            [CompletionResult]::new('--overrides', '--overrides', [CompletionResultType]::ParameterName, 'Central overrides: they win over every `Kyma` object''s values, as `kyma deploy --overrides` does')
            [CompletionResult]::new('--shards', '--shards', [CompletionResultType]::ParameterName, 'Split the `Kyma` objects into this many shards by a stable hash of namespace/name; this process reconciles shard --shard only')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'The shard this process reconciles (0-based)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Reconcile only `Kyma` objects with these labels (`key=value,…`): a way to shard by label')
            [CompletionResult]::new('--operator-namespace', '--operator-namespace', [CompletionResultType]::ParameterName, 'The operator''s own namespace: the shards'' Leases and the central overrides live here (never kyma-installer, which the last undeploy removes)')
            [CompletionResult]::new('--overrides-from', '--overrides-from', [CompletionResultType]::ParameterName, 'Central overrides from a ConfigMap or Secret of --operator-namespace (`configmap/NAME` or `secret/NAME`, key `overrides.yaml`), read at every reconcile and applied last, as `kyma deploy --overrides` does: they win over every `Kyma` object''s values')
            [CompletionResult]::new('--lease-duration', '--lease-duration', [CompletionResultType]::ParameterName, 'How long a leader''s Lease lives unrenewed: a standby takes over at most this long after the leader is gone')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'How the operator''s log lines are written to stderr: `text` (timestamp, level, message, fields) or `json` (one object per line)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Target every context of the kubeconfig(s)')
            [CompletionResult]::new('--leader-election', '--leader-election', [CompletionResultType]::ParameterName, 'Run as one of several replicas of a shard: only the holder of the shard''s Lease (`kyma-operator-shard-N` in --operator-namespace) reconciles; the others wait and take over when it stops renewing')
            [CompletionResult]::new('--insecure-kubeconfig-exec', '--insecure-kubeconfig-exec', [CompletionResultType]::ParameterName, 'Let kubeconfigs from Secrets run commands (`users[].user.exec`, `auth-provider`). Off: whoever may write a Secret and a `Kyma` object could otherwise run code as the operator')
            [CompletionResult]::new('--insecure-kubeconfig-files', '--insecure-kubeconfig-files', [CompletionResultType]::ParameterName, 'Let kubeconfigs from Secrets name files (`tokenFile`, `client-certificate`, `client-key`, `certificate-authority`). Off: such a path could hand the operator''s own token or files to a server of the Secret writer''s choice')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;operator;manifests' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The operator''s image: this binary on a `scratch` base (see `Containerfile`)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the operator''s Deployment, ServiceAccount and Leases (not kyma-installer: the last undeploy removes that one)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Single-cluster mode: the modules the operator may install into the cluster it runs in. Its ClusterRole is derived from what they render (each kind with the verbs kyma uses). Without it, the control-plane profile: the operator reads its `Kyma` objects and the Secrets they name and installs only into the clusters those Secrets reach')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Single-cluster mode: the modules the operator may install into the cluster it runs in. Its ClusterRole is derived from what they render (each kind with the verbs kyma uses). Without it, the control-plane profile: the operator reads its `Kyma` objects and the Secrets they name and installs only into the clusters those Secrets reach')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;operator;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this cluster, or into the cluster of the kubeconfig Secret they name')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the operator''s CRD, RBAC and Deployment (apply them with kubectl)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kyma;operator;help;run' {
            break
        }
        'kyma;operator;help;manifests' {
            break
        }
        'kyma;operator;help;help' {
            break
        }
        'kyma;completion' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;version' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the final result')
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'Add or override modules from a directory or an http(s) .tar.gz (`URL#sha256=HEX` pins it). Repeatable; later catalogs win')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Fetch release assets from here instead of https://github.com/: a server or a directory laid out like GitHub''s release-download URLs (`kyma mirror` fills one)')
            [CompletionResult]::new('--max-download-size', '--max-download-size', [CompletionResultType]::ParameterName, 'The most one download (catalog, release asset, mirror file) may be, and the most a catalog archive may unpack to: `256MiB`, `10MB`, `1048576`')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network for catalogs or manifests: use the download cache (and a mirror directory) only')
            [CompletionResult]::new('--accept-new-digests', '--accept-new-digests', [CompletionResultType]::ParameterName, 'Accept release assets whose content changed since they were first downloaded (and record the new digests). Without it such a change is an error')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail in progress output: every object''s retry on its own line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kyma;help' {
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Render, apply and wait for modules on the cluster your kubeconfig selects')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Render modules to YAML locally; no cluster needed')
            [CompletionResult]::new('modules', 'modules', [CompletionResultType]::ParameterValue, 'List and inspect the modules of the catalog')
            [CompletionResult]::new('mirror', 'mirror', [CompletionResultType]::ParameterValue, 'Copy modules'' release assets into a directory for air-gapped use (`--mirror DIR` reads it)')
            [CompletionResult]::new('undeploy', 'undeploy', [CompletionResultType]::ParameterValue, 'Remove modules kyma deployed: only what it recorded, custom resources first, CRDs last')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what a deploy would change: a diff per object and what would be pruned')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show installed modules: version, deploy time, health now, drift')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Break the cluster lock of a run that is gone')
            [CompletionResult]::new('operator', 'operator', [CompletionResultType]::ParameterValue, 'Run the deploy pipeline as a controller of `Kyma` objects, or print what installs it')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print version, commit, build target and the built-in catalog''s module versions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kyma;help;deploy' {
            break
        }
        'kyma;help;render' {
            break
        }
        'kyma;help;modules' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List modules: name, versions, default version, dependsOn, source')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one module: its default values and value schema')
            break
        }
        'kyma;help;modules;list' {
            break
        }
        'kyma;help;modules;show' {
            break
        }
        'kyma;help;mirror' {
            break
        }
        'kyma;help;undeploy' {
            break
        }
        'kyma;help;diff' {
            break
        }
        'kyma;help;status' {
            break
        }
        'kyma;help;unlock' {
            break
        }
        'kyma;help;operator' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Watch `Kyma` objects (installer.kyma-project.io/v1alpha1) and deploy what they ask for: into this cluster, or into the cluster of the kubeconfig Secret they name')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the operator''s CRD, RBAC and Deployment (apply them with kubectl)')
            break
        }
        'kyma;help;operator;run' {
            break
        }
        'kyma;help;operator;manifests' {
            break
        }
        'kyma;help;completion' {
            break
        }
        'kyma;help;version' {
            break
        }
        'kyma;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}

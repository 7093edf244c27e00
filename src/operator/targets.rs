//! Where a `Kyma` object's modules go, and what the operator reads from its own cluster for that: the
//! kubeconfig Secret an object names (checked, then used in memory) and the central overrides of
//! `--overrides-from`. Nothing read here is written to a file.

use kube::api::DynamicObject;

use super::Ctx;
use super::api::KymaSpec;
use crate::cli::OverridesSource;
use crate::cluster::{Resource, Target};
use crate::exit::{Exit, Failure};
use crate::object::Fields as _;
use crate::values::Document;

/// The cluster a `Kyma` object's modules go to: this one, or the one its kubeconfig Secret names (the
/// kubeconfig then travels in the target, in memory).
pub(super) async fn target_of(ctx: &Ctx, spec: &KymaSpec, obj: &DynamicObject) -> Result<Target, Failure> {
    let Some(r) = &spec.kubeconfig_secret_ref else {
        return Ok(ctx.home_target.clone());
    };
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let bytes = match ctx.kubeconfigs.get(ns, &r.name, &r.key) {
        Some(bytes) => bytes,
        None => {
            let (bytes, version) = read_key(ctx, &ctx.secrets, ns, &r.name, &r.key).await?;
            ctx.kubeconfigs
                .keep(ns, &r.name, &r.key, version.as_deref(), &bytes);
            bytes
        }
    };
    let allowed = super::untrusted::Allowed {
        exec: ctx.args.insecure_kubeconfig_exec,
        files: ctx.args.insecure_kubeconfig_files,
    };
    let refused = |e: &dyn std::fmt::Display| {
        Failure::bad_input(anyhow::anyhow!(
            "the kubeconfig in Secret {ns}/{} key {:?}: {e}",
            r.name,
            r.key
        ))
    };
    let known = std::str::from_utf8(&bytes).is_ok_and(|t| ctx.connections.made_from(t));
    if !known {
        super::untrusted::check(&bytes, allowed).map_err(|e| refused(&e))?;
    }
    let text = String::from_utf8(bytes).map_err(|e| refused(&e))?;
    Ok(Target {
        kubeconfig: None,
        inline: Some(text),
        context: None,
        label: format!("{ns}/{}", r.name),
        // The operator logs; a wait shows in the reconcile's error and its backoff.
        say_waits: false,
        labels: Default::default(),
    })
}

/// The central overrides for this reconcile: `--overrides FILE` (read by the pipeline, as `kyma deploy
/// --overrides` reads it), or the ConfigMap/Secret of `--overrides-from` read now, as data (so a change
/// reaches every object by its next resync, and concurrent reconciles share nothing).
pub(super) async fn central_overrides(ctx: &Ctx) -> Result<Option<Document>, Failure> {
    let Some(source) = &ctx.args.overrides_from else {
        return Ok(ctx.args.overrides.clone().map(Document::File));
    };
    let ns = ctx.args.operator_namespace.as_str();
    let (kind, name) = match source {
        OverridesSource::ConfigMap(n) => ("ConfigMap", n),
        OverridesSource::Secret(n) => ("Secret", n),
    };
    let r = super::resolve(&ctx.home, "v1", kind).await?;
    let context = |f: Failure| {
        Failure::new(
            f.exit,
            f.error.context("the central overrides (--overrides-from)"),
        )
    };
    let (bytes, _) = read_key(ctx, &r, ns, name, "overrides.yaml")
        .await
        .map_err(context)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        context(Failure::bad_input(anyhow::anyhow!(
            "{kind} {ns}/{name} key \"overrides.yaml\": not UTF-8: {e}"
        )))
    })?;
    Ok(Some(Document::Text {
        origin: format!("{kind} {ns}/{name} key overrides.yaml"),
        text,
    }))
}

/// One key of a ConfigMap or Secret of the watched cluster (a Secret's value decoded from base64): the
/// kubeconfig a `Kyma` object names, the central overrides. With the object's `resourceVersion`.
async fn read_key(
    ctx: &Ctx,
    r: &Resource,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<(Vec<u8>, Option<String>), Failure> {
    let kind = r.kind.as_str();
    let object = ctx
        .home
        .get(r, Some(ns), name)
        .await
        .map_err(|e| {
            Failure::new(
                Exit::Unreachable,
                anyhow::anyhow!("cannot read {kind} {ns}/{name}: {e}"),
            )
        })?
        .ok_or_else(|| Failure::bad_input(anyhow::anyhow!("{kind} {ns}/{name} does not exist")))?;
    let field = object
        .str_at(&["data", key])
        .ok_or_else(|| Failure::bad_input(anyhow::anyhow!("{kind} {ns}/{name} has no key {key:?}")))?;
    let version = object
        .str_at(&["metadata", "resourceVersion"])
        .map(str::to_string);
    if kind != "Secret" {
        return Ok((field.as_bytes().to_vec(), version));
    }
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(field)
        .map_err(|e| {
            Failure::bad_input(anyhow::anyhow!("{kind} {ns}/{name} key {key:?}: not base64: {e}"))
        })?;
    Ok((bytes, version))
}

//! `kyma mirror`: copy the release assets of modules into a directory laid out like GitHub's
//! release-download URLs, plus the list of container images their manifests reference, so that an
//! air-gapped cluster can be served with `--mirror DIR` (or the directory behind any web server).

use serde_json::json;

use crate::cli::{GlobalArgs, MirrorArgs, OutputFormat};
use crate::exit::Failure;
use crate::fetch::{FetchError, confined, mirror_path, write_in};
use crate::report::table::Table;

pub fn exec(global: &GlobalArgs, args: &MirrorArgs) -> anyhow::Result<()> {
    let catalog = crate::pipeline::load_catalog(&crate::front::requests::fetch(global))?;
    let fetcher = crate::front::requests::fetch(global).fetcher();
    let modules = crate::pipeline::select(&catalog, &args.modules)?;
    let mut rows = Vec::new();
    let mut images = std::collections::BTreeSet::new();
    let images_path = args.to.join("images.txt");
    // A link at images.txt that leads out of the mirror is not read (and `write_in` refuses it).
    if let Ok(old) = confined(&args.to, "images.txt").map(std::fs::read_to_string)
        && let Ok(old) = old
    {
        images.extend(
            old.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    for m in modules {
        let urls: Vec<(String, Option<String>)> = match &m.release {
            Some(r) => r.urls().into_iter().map(|u| (u.to_string(), None)).collect(),
            None => m
                .manifest_urls
                .iter()
                .map(|r| (r.url().to_string(), r.sha256().map(str::to_string)))
                .collect(),
        };
        for (url, pin) in urls {
            let asset_failure = |e: FetchError| {
                crate::exit::Failure::from(crate::pipeline::catalog_error(
                    crate::catalog::CatalogError::Asset {
                        module: m.id(),
                        source: e,
                    },
                ))
            };
            let Some(rest) = mirror_path(&url).map_err(asset_failure)? else {
                rows.push((m.id(), url, "skipped: not a GitHub release asset".to_string()));
                continue;
            };
            let bytes = fetcher.get_asset(&url, pin.as_deref()).map_err(asset_failure)?;
            let path = write_in(&args.to, rest, &bytes).map_err(|e| {
                Failure::bad_input(crate::catalog::CatalogError::Asset {
                    module: m.id(),
                    source: e,
                })
            })?;
            if let Ok(text) = std::str::from_utf8(&bytes)
                && let Ok(docs) = crate::yaml::parse_all(text)
            {
                let docs: Vec<_> = docs.into_iter().map(|(_, d)| d).collect();
                images.extend(crate::catalog::release::images(&docs));
            }
            rows.push((m.id(), url, format!("{} ({} bytes)", path.display(), bytes.len())));
        }
    }
    let mut list = String::from(
        "# Container images the mirrored manifests reference; copy them to your registry too.\n",
    );
    for i in &images {
        list.push_str(i);
        list.push('\n');
    }
    write_in(&args.to, "images.txt", list.as_bytes()).map_err(Failure::bad_input)?;
    match global.output {
        OutputFormat::Json => {
            let files: Vec<_> = rows
                .iter()
                .map(|(m, u, p)| json!({"module": m, "url": u, "written": p}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"mirror": args.to, "files": files, "images": images}))?
            );
        }
        OutputFormat::Table => {
            let mut t = Table::new(&["MODULE", "ASSET", "WRITTEN"]);
            for (m, u, p) in rows {
                t.row(vec![m, u, p]);
            }
            print!("{}", t.render());
            println!("{} images listed in {}", images.len(), images_path.display());
            println!("use it: kyma deploy --mirror {} --modules …", args.to.display());
        }
    }
    Ok(())
}

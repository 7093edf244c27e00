//! One file per command: each wires the pipeline stages and holds no logic of its own.

mod completion;
pub(crate) mod deploy;
mod diff;
pub(crate) mod fleet;
mod mirror;
mod modules;
mod render;
mod status;
mod undeploy;
mod unlock;
mod version;

use crate::cli::{Cli, Command};
use crate::exit::{Exit, exit_code_of};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    crate::tls::install_crypto_provider();
    let global = cli.global.clone();
    let result: anyhow::Result<Exit> = match cli.command {
        Command::Render(args) => render::exec(&global, &args).map(|_| Exit::Success),
        Command::Modules(cmd) => modules::exec(&global, &cmd).map(|_| Exit::Success),
        Command::Mirror(args) => mirror::exec(&global, &args).map(|_| Exit::Success),
        Command::Version => version::exec(&global).map(|_| Exit::Success),
        Command::Completion { shell } => completion::exec(shell).map(|_| Exit::Success),
        Command::Deploy(args) => with_runtime(deploy::exec(global, args)),
        Command::Undeploy(args) => with_runtime(undeploy::exec(global, args)),
        Command::Diff(args) => with_runtime(diff::exec(global, args)),
        Command::Status(args) => with_runtime(status::exec(global, args)),
        Command::Unlock(args) => with_runtime(unlock::exec(global, args)),
        Command::Operator(crate::cli::OperatorCommand::Run(args)) => {
            with_runtime(crate::operator::run(global, *args))
        }
        Command::Operator(crate::cli::OperatorCommand::Manifests(args)) => {
            crate::operator::manifests::print(&global, &args).map(|_| Exit::Success)
        }
    };
    match result {
        Ok(exit) => exit.code(),
        Err(e) => {
            let exit = exit_code_of(&e);
            eprintln!("{} {:#}", crate::report::style::error_prefix(), e);
            exit.code()
        }
    }
}

fn with_runtime<F: std::future::Future<Output = anyhow::Result<Exit>>>(f: F) -> anyhow::Result<Exit> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // Every cluster connection of this process lives on this one runtime: they may share pools.
    crate::cluster::share_pools();
    rt.block_on(f)
}

//! `kyma completion SHELL`.

use clap::CommandFactory;

pub fn exec(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(shell, &mut cmd, "kyma", &mut std::io::stdout());
    Ok(())
}

//! `kyma completion SHELL`: the command line's completions, with the built-in catalog's module names
//! offered wherever a module is named (`--modules`, `modules show`). The flags themselves (`cli`) know
//! nothing of the catalog; the names are added here, to the command that is only printed, never parsed.

use clap::CommandFactory;

/// The arguments that name modules, in every subcommand.
const MODULE_ARGS: [&str; 2] = ["modules", "module"];

pub fn exec(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let names: Vec<String> = crate::catalog::source::builtin()
        .names()
        .map(str::to_string)
        .collect();
    let mut cmd = offer_module_names(crate::cli::Cli::command(), &names);
    clap_complete::generate(shell, &mut cmd, "kyma", &mut std::io::stdout());
    Ok(())
}

fn offer_module_names(cmd: clap::Command, names: &[String]) -> clap::Command {
    // `mut_args`/`mut_subcommands` keep the order (`mut_arg` would move the arg to the end).
    cmd.mut_args(|a| {
        if MODULE_ARGS.contains(&a.get_id().as_str()) {
            a.value_parser(clap::builder::PossibleValuesParser::new(names))
                .hide_possible_values(true)
        } else {
            a
        }
    })
    .mut_subcommands(|s| offer_module_names(s, names))
}

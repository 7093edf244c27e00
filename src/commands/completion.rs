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
    let args: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| MODULE_ARGS.contains(&a.get_id().as_str()))
        .map(|a| a.get_id().clone())
        .collect();
    let mut cmd = cmd;
    for id in args {
        let names = names.to_vec();
        cmd = cmd.mut_arg(id, |a| {
            a.value_parser(clap::builder::PossibleValuesParser::new(names))
                .hide_possible_values(true)
        });
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, |s| offer_module_names(s, names));
    }
    cmd
}

use clap::Parser;

fn main() {
    let cli = kyma::cli::Cli::parse();
    let code = kyma::commands::run(cli);
    std::process::exit(code);
}

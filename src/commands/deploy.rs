pub async fn exec(_g: crate::cli::GlobalArgs, _a: crate::cli::DeployArgs) -> anyhow::Result<crate::exit::Exit> { todo!() }

//! placeholder
pub async fn run(_args: &crate::cli::Args, _r: &crate::cli::ReplayArgs) -> u8 {
    2
}

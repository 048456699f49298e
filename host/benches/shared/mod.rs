//! What the benches share: the runtime they run on, and sizes read from
//! the environment.

/// Runs `run` to its end on a two-thread runtime: two cores, like the
/// machine the figures are taken on.
pub fn on_two_threads(run: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run)
}

/// The number in variable `name`, or `default` when it is unset or not
/// a number.
#[allow(dead_code, reason = "not every bench reads sizes from the environment")]
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

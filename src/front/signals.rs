//! Ctrl-C and SIGTERM (what CI runners and `timeout` send) both mean "stop cleanly": the engine stops
//! dispatching, what was applied is recorded, the cluster lock is released.

use tokio_util::sync::CancellationToken;

/// A token cancelled by the first SIGINT or SIGTERM.
pub fn cancel_on_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                let _ = tokio::signal::ctrl_c().await;
                on_signal.cancel();
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    cancel
}

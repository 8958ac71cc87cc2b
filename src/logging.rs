//! Where the server's log goes: always stderr, so that a command's output
//! on stdout (`confab user list > users.tsv`) holds only its rows. Text for
//! people, with colour only when stderr is a terminal (and `NO_COLOR` is
//! unset), or one JSON object per line for log collectors.
//!
//! Imports only `config`.

use crate::config::{Config, LogFormat};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber for the `confab` binary (once per
/// process; the library never calls it).
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).init();
        }
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

/// Reports the error that ends the process, once: as a plain line on a
/// text log, as a log record on a JSON log (collectors read only JSON).
pub fn fatal(config_format: LogFormat, error: &dyn std::fmt::Display) {
    match config_format {
        LogFormat::Text => eprintln!("confab: {error}"),
        LogFormat::Json => tracing::error!(error = %error, "confab stopped"),
    }
}

//! Colour and terminal detection in one place: `NO_COLOR` and non-TTY streams get plain text.

use std::io::IsTerminal;

pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// The terminal's width when stdout is one; `None` for pipes and files, which get full text.
pub fn stdout_width() -> Option<usize> {
    let term = console::Term::stdout();
    term.is_term()
        .then(|| term.size_checked().map(|(_, w)| w as usize))
        .flatten()
}

pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stderr_is_tty()
}

fn paint(text: &str, style: console::Style) -> String {
    if color_enabled() {
        style.force_styling(true).apply_to(text).to_string()
    } else {
        text.to_string()
    }
}

pub fn error_prefix() -> String {
    paint("error:", console::Style::new().red().bold())
}

pub fn warning_prefix() -> String {
    paint("warning:", console::Style::new().yellow().bold())
}

pub fn warn(message: &str) {
    eprintln!("{} {message}", warning_prefix());
}

/// Colour a module state word for the final table.
pub fn state(word: &str) -> String {
    let style = match word {
        "Ready" | "Applied" => console::Style::new().green(),
        "Failed" | "TimedOut" => console::Style::new().red(),
        "Interrupted" | "Skipped" => console::Style::new().yellow(),
        _ => console::Style::new(),
    };
    if color_enabled() {
        style.force_styling(true).apply_to(word).to_string()
    } else {
        word.to_string()
    }
}

//! Terminal setup and teardown: raw mode, the alternate screen and mouse capture on the way
//! in; all three undone on the way out, whether the UI ends normally, by Ctrl-C, by an error
//! or by a panic.
//!
//! The panic hook restores the terminal before the panic message is printed (otherwise the
//! message lands on the alternate screen, in raw mode, and the shell is left unusable). Only
//! a panic on the UI thread does that: a background thread's panic is caught where it runs
//! and reported to the UI as an event, so the screen stays intact.

use std::io::{self, Stdout};
use std::panic;
use std::thread::{self, ThreadId};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard {
    _private: (),
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Undoes [`setup`]; harmless when the terminal is already restored.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Installs the panic hook, then takes over the terminal. The guard restores it.
pub fn setup() -> io::Result<(Tui, Guard)> {
    install_panic_hook(thread::current().id());
    let guard = Guard { _private: () };
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((term, guard))
}

fn install_panic_hook(ui: ThreadId) {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if thread::current().id() == ui {
            restore();
            previous(info);
        }
        // Other threads: `catch` below turns the panic into an event for the UI.
    }));
}

/// Runs `f`, turning a panic into its message.
pub fn catch<F: FnOnce()>(f: F) -> Result<(), String> {
    panic::catch_unwind(panic::AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a background thread panicked".into())
    })
}

//! All user-facing output: results on stdout, summaries, progress and errors on stderr, and
//! colour in one place. Commands and the Docker layer write through a [`Printer`] and never
//! to the process' streams or with escape codes of their own. A long step's progress bar
//! (indicatif) is drawn on a terminal only; every other line is printed above it.

use std::cell::RefCell;
use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};

/// What a piece of text is, for colouring it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A file header in a diff.
    Header,
    Added,
    Removed,
    /// A hunk's `@@` line.
    Hunk,
    Error,
    Warning,
    Note,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Self::Header => "\x1b[1m",
            Self::Added => "\x1b[32m",
            Self::Removed => "\x1b[31m",
            Self::Hunk => "\x1b[36m",
            Self::Error => "\x1b[1;31m",
            Self::Warning => "\x1b[1;33m",
            Self::Note => "\x1b[1;36m",
        }
    }
}

const RESET: &str = "\x1b[0m";

/// Where a command writes. Its methods take `&self`, so that progress can be shown from
/// several tasks of one command at once.
pub struct Printer<'a> {
    out: RefCell<&'a mut dyn Write>,
    err: RefCell<&'a mut dyn Write>,
    color: bool,
    quiet: bool,
    progress: bool,
    /// The bar of the long step under way, when one is drawn.
    bar: RefCell<Option<ProgressBar>>,
}

/// A long step's progress: on a terminal, a bar with the steps done, the time spent and the
/// time left at the pace so far; elsewhere nothing (the step's own lines say what happens).
/// The bar goes when this does.
pub struct Steps<'p, 'a> {
    printer: &'p Printer<'a>,
    bar: Option<ProgressBar>,
}

impl Steps<'_, '_> {
    /// One more step done; `next` says what comes now.
    pub fn done(&self, next: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(next.to_string());
        }
    }

    /// What the current step waits for.
    pub fn doing(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }
}

impl Drop for Steps<'_, '_> {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            self.printer.bar.borrow_mut().take();
        }
    }
}

impl<'a> Printer<'a> {
    /// `color`: paint output; `quiet`: only errors and results; `progress`: show live
    /// progress (a terminal that is not quiet).
    pub fn new(
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        color: bool,
        quiet: bool,
        progress: bool,
    ) -> Self {
        Self {
            out: RefCell::new(out),
            err: RefCell::new(err),
            color,
            quiet,
            progress: progress && !quiet,
            bar: RefCell::new(None),
        }
    }

    /// A long step of `total` steps named `what`, shown as a bar while progress is on.
    pub fn steps(&self, what: &str, total: u64) -> Steps<'_, 'a> {
        let bar = self.progress.then(|| {
            let style = ProgressStyle::with_template(
                "  {spinner} {prefix} {pos}/{len} · {elapsed} spent, ~{eta} left · {wide_msg}",
            )
            .expect("the template is valid");
            let bar = ProgressBar::new(total).with_style(style);
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        *self.bar.borrow_mut() = bar.clone();
        Steps { printer: self, bar }
    }

    pub fn color(&self) -> bool {
        self.color
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// `text` in `style` when colour is on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{RESET}", style.code())
        } else {
            text.to_string()
        }
    }

    /// A command's result on stdout: a diff, findings, a table, a schema.
    pub fn print(&self, text: &str) -> Result<()> {
        self.out
            .borrow_mut()
            .write_all(text.as_bytes())
            .map_err(Error::io("<stdout>"))
    }

    /// A one-line summary on stderr, unless `--quiet`.
    pub fn note(&self, line: &str) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        self.line(line)
    }

    /// An error line on stderr, shown even with `--quiet`.
    pub fn error(&self, message: &str) -> Result<()> {
        let label = self.paint(Style::Error, "error");
        self.line(&format!("{label}: {message}"))
    }

    /// One cause of an error, under it; shown even with `--quiet`.
    pub fn caused_by(&self, cause: &str) -> Result<()> {
        self.line(&format!("caused by: {cause}"))
    }

    /// A line of live progress on stderr, only when progress is on.
    pub fn progress(&self, line: &str) {
        if self.progress {
            let _ = self.line(&format!("  {line}"));
        }
    }

    pub fn flush(&self) {
        let _ = self.out.borrow_mut().flush();
        let _ = self.err.borrow_mut().flush();
    }

    fn line(&self, line: &str) -> Result<()> {
        let write = || writeln!(self.err.borrow_mut(), "{line}").map_err(Error::io("<stderr>"));
        match &*self.bar.borrow() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// `1 file`, `2 files`.
pub fn plural(count: usize, word: &str) -> String {
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_quiet_and_progress_are_decided_here() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        {
            let printer = Printer::new(&mut out, &mut err, false, true, true);
            printer.note("summary").unwrap();
            printer.progress("waiting");
            printer.error("broken").unwrap();
            printer.print("result\n").unwrap();
            assert_eq!(printer.paint(Style::Added, "+x"), "+x");
        }
        assert_eq!(String::from_utf8(err).unwrap(), "error: broken\n");
        assert_eq!(String::from_utf8(out).unwrap(), "result\n");

        let (mut out, mut err) = (Vec::new(), Vec::new());
        {
            let printer = Printer::new(&mut out, &mut err, true, false, true);
            printer.progress("waiting");
            assert_eq!(printer.paint(Style::Added, "+x"), "\x1b[32m+x\x1b[0m");
        }
        assert_eq!(String::from_utf8(err).unwrap(), "  waiting\n");

        // Off a terminal, a long step draws nothing and its lines print as they come.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        {
            let printer = Printer::new(&mut out, &mut err, false, false, false);
            let steps = printer.steps("alerts", 3);
            steps.doing("RedisDown");
            printer.note("alerts: RedisDown fired after 12s.").unwrap();
            steps.done("RedisExporterDown");
            drop(steps);
            assert!(printer.bar.borrow().is_none());
        }
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "alerts: RedisDown fired after 12s.\n"
        );
    }
}

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use stackgen::cli::Cli;
use stackgen::{EXIT_ERROR, Error, Printer};

fn main() -> ExitCode {
    let (options, command) = Cli::parse().into_parts();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let progress = std::io::stderr().is_terminal();
    let printer = Printer::new(
        &mut stdout,
        &mut stderr,
        options.color,
        options.quiet,
        progress,
    );
    let result = stackgen::run(&options, &command, &printer);
    printer.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // A closed pipe (`stackgen diff | head`) is not a failure.
        Err(Error::Io { error, .. }) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(Error::Input(diagnostics)) => {
            for diagnostic in diagnostics {
                let _ = printer.error(&diagnostic.to_string());
            }
            ExitCode::from(EXIT_ERROR)
        }
        Err(Error::Several(errors)) => {
            for error in errors {
                let _ = printer.error(&error.to_string());
            }
            ExitCode::from(EXIT_ERROR)
        }
        Err(error) => {
            let _ = printer.error(&error.to_string());
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                let _ = printer.caused_by(&cause.to_string());
                source = cause.source();
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

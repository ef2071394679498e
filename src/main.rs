use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use stackgen::cli::Cli;
use stackgen::{EXIT_ERROR, Error, Printer};

fn main() -> ExitCode {
    let (options, command) = Cli::parse().into_parts();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut printer = Printer {
        out: &mut stdout,
        err: &mut stderr,
        color: options.color,
        quiet: options.quiet,
    };
    let result = stackgen::run(&options, &command, &mut printer);
    let _ = stdout.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // A closed pipe (`stackgen diff | head`) is not a failure.
        Err(Error::Io { error, .. }) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(Error::Input(diagnostics)) => {
            for diagnostic in diagnostics {
                let _ = writeln!(stderr, "error: {diagnostic}");
            }
            ExitCode::from(EXIT_ERROR)
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                let _ = writeln!(stderr, "caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

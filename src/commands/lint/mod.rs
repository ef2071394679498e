//! `stackgen lint`: findings of one profile, sorted by place, as text, JSON, GitHub Actions'
//! workflow commands or SARIF.

mod formats;

use super::Options;
use crate::diagnostic::{Code, Severity};
use crate::error::{Error, Outcome, Result};
use crate::lint::{self, Finding, LintOptions};
use crate::printer::{Printer, Style};
use crate::project::Project;

/// How the findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintFormat {
    Human,
    Json,
    Github,
    Sarif,
}

#[derive(Debug, Clone)]
pub struct LintArgs {
    pub format: LintFormat,
    pub deny_warnings: bool,
    pub strict: bool,
    pub live: bool,
    pub explain: Option<String>,
}

pub(crate) fn run(options: &Options, args: &LintArgs, printer: &Printer<'_>) -> Result<Outcome> {
    if let Some(code) = &args.explain {
        let code = Code::parse(code).ok_or_else(|| Error::Usage {
            option: "--explain",
            message: format!(
                "no rule `{code}`; the rules are SG001 to {}",
                Code::ALL.last().map_or("", |c| c.as_str())
            ),
        })?;
        let text = format!("{code}: {}\n\n{}\n", code.title(), code.explanation());
        printer.print(&text)?;
        return Ok(Outcome::Clean);
    }
    let project = match Project::load(&options.file) {
        Ok(project) => project,
        // A file that does not even load is the first thing lint reports.
        Err(Error::Input(diagnostics)) => {
            return report(&diagnostics, args, printer, None, options);
        }
        Err(other) => return Err(other),
    };
    let profile = project.active_profile(options.profile.as_deref())?;
    let findings = lint::lint(
        &project,
        &profile,
        &LintOptions {
            strict: args.strict,
            live: args.live,
        },
    )?;
    report(&findings, args, printer, Some(&profile), options)
}

fn report(
    findings: &[Finding],
    args: &LintArgs,
    printer: &Printer<'_>,
    profile: Option<&str>,
    options: &Options,
) -> Result<Outcome> {
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    // --quiet: errors only, in either format; warnings still count for --deny-warnings.
    let shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| !printer.quiet() || f.severity == Severity::Error)
        .collect();
    let project = options.file.parent().unwrap_or(std::path::Path::new(""));
    let text = match args.format {
        LintFormat::Json => {
            let mut json = serde_json::to_string_pretty(&shown).expect("findings serialize");
            json.push('\n');
            json
        }
        LintFormat::Github => formats::github(&shown, project),
        LintFormat::Sarif => formats::sarif(&shown, project),
        LintFormat::Human => shown.iter().map(|f| human(f, printer)).collect(),
    };
    printer.print(&text)?;
    let profile = profile
        .map(|p| format!("profile {p}: "))
        .unwrap_or_default();
    printer.note(&format!(
        "{profile}{}, {}.",
        crate::printer::plural(errors, "error"),
        crate::printer::plural(warnings, "warning")
    ))?;
    let fails = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if fails {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

fn human(finding: &Finding, printer: &Printer<'_>) -> String {
    let (name, style) = match finding.severity {
        Severity::Error => ("error", Style::Error),
        Severity::Warning => ("warning", Style::Warning),
        Severity::Note => ("note", Style::Note),
    };
    let label = printer.paint(style, &format!("{name}[{}]", finding.code));
    format!(
        "{}: {label}: {}\n    hint: {}\n",
        finding.location, finding.message, finding.hint
    )
}

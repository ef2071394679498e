//! The findings as CI reads them: GitHub Actions' workflow commands (`::error file=…::…`,
//! shown on the pull request's lines) and SARIF 2.1.0 (code scanning). A finding's file is
//! named from where the tool runs: the folder of `-f` before it; one in a built-in profile has
//! no file to point at, and is reported without one.

use std::path::Path;

use serde_json::{Value, json};

use crate::diagnostic::{Code, Severity};
use crate::lint::Finding;

/// The path of a finding's file from the working folder, if it is a file of the project.
fn path(finding: &Finding, project: &Path) -> Option<String> {
    let file = &finding.location.file;
    if file.starts_with('<') {
        return None;
    }
    let joined = match project.as_os_str().is_empty() || project == Path::new(".") {
        true => file.clone(),
        false => project.join(file).display().to_string(),
    };
    Some(joined.replace('\\', "/"))
}

/// A workflow command's message: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error|warning|notice file=…,line=…,col=…,title=…::message` line per finding.
pub(super) fn github(findings: &[&Finding], project: &Path) -> String {
    let mut text = String::new();
    for finding in findings {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut properties = Vec::new();
        if let Some(file) = path(finding, project) {
            properties.push(format!("file={}", property(&file)));
            properties.push(format!("line={}", finding.location.line));
            properties.push(format!("col={}", finding.location.column));
        }
        let title = format!("{} {}", finding.code, finding.code.title());
        properties.push(format!("title={}", property(&title)));
        let message = format!("{}\nhint: {}", finding.message, finding.hint);
        text.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            data(&message)
        ));
    }
    text
}

/// A SARIF 2.1.0 log: one run of stackgen, its rules (every code, with its explanation), and a
/// result per finding.
pub(super) fn sarif(findings: &[&Finding], project: &Path) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "shortDescription": { "text": code.title() },
                "fullDescription": { "text": code.explanation() },
                "help": { "text": format!("stackgen lint --explain {code}") },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let level = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let mut result = json!({
                "ruleId": finding.code.as_str(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == finding.code),
                "level": level,
                "message": { "text": format!("{} (hint: {})", finding.message, finding.hint) },
            });
            if let Some(file) = path(finding, project) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file },
                        "region": {
                            "startLine": finding.location.line.max(1),
                            "startColumn": finding.location.column.max(1),
                        },
                    },
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "stackgen",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a SARIF log serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Location};

    fn finding(file: &str, message: &str) -> Finding {
        Diagnostic {
            location: Location {
                file: file.into(),
                line: 3,
                column: 7,
            },
            code: Code::UnpinnedImage,
            severity: Severity::Warning,
            message: message.into(),
            hint: "pin it".into(),
        }
    }

    #[test]
    fn workflow_commands_escape_their_data_and_properties() {
        let a = finding("stack.toml", "100% of it,\nreally: yes");
        let b = finding("<built-in>/profiles/prod.toml", "x");
        let text = github(&[&a, &b], Path::new("deploy"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "::warning file=deploy/stack.toml,line=3,col=7,title=SG105 an image is not \
             pinned::100%25 of it,%0Areally: yes%0Ahint: pin it"
        );
        assert_eq!(
            lines[1],
            "::warning title=SG105 an image is not pinned::x%0Ahint: pin it"
        );
    }
}

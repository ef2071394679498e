//! The stack's secrets on their way into containers. A value is read from its file or
//! environment variable once per `up`, by the one rule [`read`] keeps; it reaches a container
//! only as a runtime copy under `.stackgen/<profile>/secrets/<service>/`, readable by that
//! container's user alone, mounted at `/run/secrets/<name>`. Text that came out of a container
//! is redacted here before anyone shows it. Nothing here prints a value or puts one in a label,
//! an argument, the environment or under `generated/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::spec::{ContainerSpec, SecretSource, StackSpec};
use crate::error::{Error, Result};

/// What replaces a secret's value in text that is shown.
const REDACTED: &str = "[secret]";

/// The values of the secrets the stack's containers mount, by secret name.
pub struct Secrets {
    values: BTreeMap<String, Vec<u8>>,
    /// Values that no container mounts as such but that text may hold (the passwords inside
    /// the exporter's password map), for redaction.
    hidden: Vec<Vec<u8>>,
}

impl Secrets {
    /// Reads every secret a container mounts: the values of those that can be read (the
    /// others are empty), and a problem for each of the others, all at once, so that `up`
    /// reports them together before anything changes. `keys`: secret name → where
    /// `stack.toml` declares it; `given`: secrets whose value `up` made itself, and the values
    /// inside them.
    pub fn read_all(
        spec: &StackSpec,
        keys: &BTreeMap<String, String>,
        given: BTreeMap<String, (Vec<u8>, Vec<Vec<u8>>)>,
    ) -> (Self, Vec<Error>) {
        let mut values = BTreeMap::new();
        let mut hidden = Vec::new();
        for (name, (value, inside)) in given {
            values.insert(name, value);
            hidden.extend(inside);
        }
        let mut problems = Vec::new();
        for name in spec.containers.iter().flat_map(|c| &c.secrets) {
            if values.contains_key(name) {
                continue;
            }
            let value = read(&spec.secrets[name]).map_or_else(
                |why| {
                    problems.push(Error::Secret {
                        name: name.clone(),
                        key: keys.get(name).cloned().unwrap_or_default(),
                        why,
                    });
                    Vec::new()
                },
                String::into_bytes,
            );
            values.insert(name.clone(), value);
        }
        (Self { values, hidden }, problems)
    }

    /// The value of a secret that [`Secrets::read_all`] read: one a container mounts.
    pub fn get(&self, name: &str) -> &[u8] {
        &self.values[name]
    }

    /// `text` from a container (logs, health-check output) with every value replaced.
    pub fn redact(&self, text: &str) -> String {
        let values = self.values.values().chain(&self.hidden);
        redact(text, values.map(Vec::as_slice))
    }
}

/// The most a secret may hold: far more than any password or webhook URL, little enough to
/// read whole.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// A secret's value, by stackgen's one rule for secrets (the containers' start scripts follow
/// it too, in `render::secret_shell`): UTF-8 text of at most [`MAX_SECRET_BYTES`], without the
/// CRs and LFs that end it, neither empty nor holding a line break or a NUL byte. A file must
/// be a regular file: a FIFO, a folder or a device is refused before it is opened, as reading
/// one could wait forever. Lint, `up --dry-run` and `up` all read a secret here; no message
/// shows the value.
pub fn read(source: &SecretSource) -> std::result::Result<String, String> {
    let bytes = match source {
        SecretSource::File(path) => read_file(path)?,
        SecretSource::Env(variable) => {
            use std::os::unix::ffi::OsStringExt;
            let value = std::env::var_os(variable)
                .ok_or_else(|| format!("environment variable `{variable}` is not set"))?;
            if value.len() as u64 > MAX_SECRET_BYTES {
                return Err(format!(
                    "environment variable `{variable}` holds more than {} KiB; a secret is \
                     at most that",
                    MAX_SECRET_BYTES / 1024
                ));
            }
            value.into_vec()
        }
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| "it is not UTF-8 text (value not shown)".to_string())?;
    one_line(text)
}

/// A secret file's bytes, after its metadata says it is a regular file small enough to read.
fn read_file(path: &Path) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let shown = path.display();
    let unreadable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => format!("its file does not exist (`{shown}`)"),
        kind => format!("cannot read its file `{shown}` ({kind})"),
    };
    let is_usable = |meta: &std::fs::Metadata| {
        if !meta.is_file() {
            return Err(format!(
                "its file `{shown}` is {}, not a regular file",
                kind_of(&meta.file_type())
            ));
        }
        if meta.len() > MAX_SECRET_BYTES {
            return Err(too_big(path));
        }
        Ok(())
    };
    is_usable(&std::fs::metadata(path).map_err(unreadable)?)?;
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // Looked at again once open, in case it was replaced in between. (A FIFO swapped in just
    // then would still hold up the open itself: that race needs O_NONBLOCK, beyond std.)
    is_usable(&file.metadata().map_err(unreadable)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(too_big(path));
    }
    Ok(bytes)
}

fn too_big(path: &Path) -> String {
    format!(
        "its file `{}` holds more than {} KiB; a secret is at most that",
        path.display(),
        MAX_SECRET_BYTES / 1024
    )
}

/// What a file that is not a regular file is, for a message.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

/// The value without the CRs and LFs that end it; one line, not empty, no NUL byte.
fn one_line(mut value: String) -> std::result::Result<String, String> {
    let kept = value.trim_end_matches(['\r', '\n']).len();
    value.truncate(kept);
    if value.contains(['\n', '\r']) {
        return Err("it holds a line break; a secret is one line (value not shown)".into());
    }
    if value.contains('\0') {
        return Err("it holds a NUL byte (value not shown)".into());
    }
    if value.is_empty() {
        return Err("it is empty".into());
    }
    Ok(value)
}

/// A secret's value for a probe, by secret name; `None` when it cannot be read.
pub fn value(spec: &StackSpec, name: &str) -> Option<String> {
    read(spec.secrets.get(name)?).ok()
}

fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut text = text.to_string();
    for secret in secrets {
        let secret = String::from_utf8_lossy(secret);
        if !secret.is_empty() {
            text = text.replace(secret.as_ref(), REDACTED);
        }
    }
    text
}

/// The runtime copies of one profile's secrets, a folder per service.
pub struct Copies {
    root: PathBuf,
}

impl Copies {
    /// The copies under `runtime_dir` (`.stackgen/<profile>`).
    pub fn new(runtime_dir: &Path) -> Self {
        Self {
            root: runtime_dir.join("secrets"),
        }
    }

    /// The folder a service's copies are in, which its container mounts them from.
    pub fn dir(&self, service: &str) -> PathBuf {
        self.root.join(service)
    }

    /// The secrets of `container` whose copies are missing or differ from their values.
    pub fn stale(&self, container: &ContainerSpec, secrets: &Secrets) -> Vec<String> {
        let dir = self.dir(&container.service);
        container
            .secrets
            .iter()
            .filter(|name| std::fs::read(dir.join(name)).ok().as_deref() != Some(secrets.get(name)))
            .cloned()
            .collect()
    }

    /// (Re)writes the copies of `names` for a service whose container runs as `user`.
    pub fn write(
        &self,
        service: &str,
        names: &[String],
        secrets: &Secrets,
        user: &str,
    ) -> Result<()> {
        let dir = self.dir(service);
        private_dir(&dir)?;
        for name in names {
            write_copy(&dir.join(name), secrets.get(name), uid_of(user))?;
        }
        Ok(())
    }

    /// Removes a service's copies, when its container goes.
    pub fn remove(&self, service: &str) {
        let _ = std::fs::remove_dir_all(self.dir(service));
    }
}

/// The uid a container runs as, from `user` (`nobody`, `472`, `59000:59000`); root when empty.
fn uid_of(user: &str) -> Option<u32> {
    let name = user.split(':').next().unwrap_or_default();
    match name {
        "" | "root" => Some(0),
        "nobody" => Some(65534),
        other => other.parse().ok(),
    }
}

/// Writes a private file readable only by a container's `user`.
pub fn write_file(path: &Path, value: &[u8], user: &str) -> Result<()> {
    write_copy(path, value, uid_of(user))
}

/// Creates a folder only its owner can enter: the runtime folder holds secret copies, and
/// what they were (`applied.json`).
pub fn private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !path.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(Error::io(path))?;
    }
    Ok(())
}

/// Writes a secret's runtime copy, readable only by the container's user. The old copy is
/// removed first (it may belong to that user now); the container is restarted or created
/// afterwards, which mounts the new file.
fn write_copy(path: &Path, value: &[u8], uid: Option<u32>) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(path)(e)),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(path))?;
    file.write_all(value).map_err(Error::io(path))?;
    let mode = match uid.map(|uid| std::os::unix::fs::chown(path, Some(uid), None)) {
        Some(Ok(())) => 0o400,
        // Not root, or an unknown user: readable in the container, still inside a 0700 folder.
        _ => 0o444,
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_one_line_and_not_empty() {
        let line_break = Err("it holds a line break; a secret is one line (value not shown)");
        type Expected = std::result::Result<&'static str, &'static str>;
        let cases: [(&str, Expected); 10] = [
            ("pw", Ok("pw")),
            ("pw\n", Ok("pw")),
            ("pw\r\n\n", Ok("pw")),
            ("pw\r\r\n\r\n\r", Ok("pw")),
            (" p\tw ", Ok(" p\tw ")),
            ("p\nw", line_break),
            ("p\rw\n", line_break),
            ("\npw", line_break),
            ("p\0w", Err("it holds a NUL byte (value not shown)")),
            ("\r\n", Err("it is empty")),
        ];
        for (value, expected) in cases {
            let got = one_line(value.to_string());
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                expected,
                "{value:?}"
            );
        }
        let unset = SecretSource::Env("STACKGEN_TEST_SURELY_UNSET".into());
        assert_eq!(
            read(&unset).unwrap_err(),
            "environment variable `STACKGEN_TEST_SURELY_UNSET` is not set"
        );
    }

    /// Files that are not a secret's text are refused from their metadata alone: a FIFO is
    /// never opened (reading it would wait for a writer), a huge file never read.
    #[test]
    fn only_a_small_regular_utf8_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let fifo = path("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let sparse = std::fs::File::create(path("sparse")).unwrap();
        sparse.set_len(300 << 20).unwrap();
        std::fs::write(path("latin1"), b"caf\xe9\n").unwrap();
        std::fs::write(path("limit"), "x".repeat(MAX_SECRET_BYTES as usize)).unwrap();
        let over = "x".repeat(MAX_SECRET_BYTES as usize - 1) + "\r\n";
        std::fs::write(path("over"), over).unwrap();
        let shown = |name: &str| path(name).display().to_string();
        let cases = [
            (
                "fifo",
                format!("its file `{}` is a FIFO, not a regular file", shown("fifo")),
            ),
            (
                ".",
                format!("its file `{}` is a folder, not a regular file", shown(".")),
            ),
            (
                "sparse",
                format!(
                    "its file `{}` holds more than 64 KiB; a secret is at most that",
                    shown("sparse")
                ),
            ),
            (
                "over",
                format!(
                    "its file `{}` holds more than 64 KiB; a secret is at most that",
                    shown("over")
                ),
            ),
            (
                "latin1",
                "it is not UTF-8 text (value not shown)".to_string(),
            ),
            (
                "missing",
                format!("its file does not exist (`{}`)", shown("missing")),
            ),
        ];
        // A FIFO that blocked would hang the test: read on a thread, waited for with a limit.
        let (sender, receiver) = std::sync::mpsc::channel();
        let sources: Vec<_> = cases
            .iter()
            .map(|(name, _)| SecretSource::File(path(name)))
            .collect();
        std::thread::spawn(move || {
            for source in sources {
                sender.send(read(&source)).unwrap();
            }
        });
        for (name, expected) in cases {
            let got = receiver
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("reading `{name}` did not return"));
            assert_eq!(got, Err(expected), "{name}");
        }
        let limit = read(&SecretSource::File(path("limit"))).unwrap();
        assert_eq!(limit.len() as u64, MAX_SECRET_BYTES);
    }

    #[test]
    fn redaction_hides_every_value() {
        let secrets: [&[u8]; 3] = [b"hunter2", b"", b"s3cret"];
        let cases = [
            ("auth failed for hunter2", "auth failed for [secret]"),
            (
                "hunter2 and s3cret, hunter2",
                "[secret] and [secret], [secret]",
            ),
            ("nothing to hide", "nothing to hide"),
        ];
        for (text, expected) in cases {
            assert_eq!(redact(text, secrets), expected);
        }
    }

    #[test]
    fn users_map_to_uids() {
        let cases = [
            ("", Some(0)),
            ("root", Some(0)),
            ("nobody", Some(65534)),
            ("472", Some(472)),
            ("59000:59000", Some(59000)),
            ("grafana", None),
        ];
        for (user, uid) in cases {
            assert_eq!(uid_of(user), uid, "{user}");
        }
    }

    #[test]
    fn copies_are_private_and_rewritten_when_stale() {
        use std::os::unix::fs::MetadataExt;
        let runtime = tempfile::tempdir().unwrap();
        let mut container = ContainerSpec::bare("redis", "p-redis", "redis:7.0");
        container.secrets = vec!["a".into(), "b".into()];
        let values = |a: &str, b: &str| Secrets {
            values: BTreeMap::from([("a".into(), a.into()), ("b".into(), b.into())]),
            hidden: Vec::new(),
        };
        let copies = Copies::new(runtime.path());
        let secrets = values("one", "two");
        assert_eq!(copies.stale(&container, &secrets), ["a", "b"]);

        copies
            .write("redis", &container.secrets, &secrets, "")
            .unwrap();
        assert!(copies.stale(&container, &secrets).is_empty());
        let dir = std::fs::metadata(copies.dir("redis")).unwrap();
        assert_eq!(dir.mode() & 0o777, 0o700);
        let copy = std::fs::metadata(copies.dir("redis").join("a")).unwrap();
        assert!([0o400, 0o444].contains(&(copy.mode() & 0o777)));

        let changed = values("one", "three");
        assert_eq!(copies.stale(&container, &changed), ["b"]);
        copies.remove("redis");
        assert!(!copies.dir("redis").exists());
    }
}

//! The one piece of shell that handles a secret inside a container: the Redis start script and
//! health check (compose and Kubernetes) and the exporter's init container (Kubernetes) define
//! these functions and nothing else reads or escapes a password. They read a secret by the rule
//! `docker::secrets::read` keeps, and escape it for the exporter's JSON map and for redis.conf.
//! The Redis image promises only `sh`, `redis-server` and `redis-cli`, so this is POSIX sh in
//! builtins alone (`read`, `printf`, `case`, parameter expansion), for dash and busybox ash
//! alike; it must not call another program.

use serde::Serialize;

/// The functions, each named `sg_*`, as a script defines them before it uses them:
/// `sg_secret FILE` (the value in `$sg_value`, or the script ends with a message that never
/// shows it), `sg_map ADDRESS FILE…` (the exporter's password map on stdout), `sg_json TEXT`
/// (a JSON string on stdout) and `sg_conf TEXT` (the inside of a redis.conf `"…"` string in
/// `$sg_conf`).
///
/// What a shell cannot do the same as stackgen: it never sees a NUL byte (dash and busybox drop
/// one as they read) and it copies bytes from 0x80 up as they are, valid UTF-8 or not; stackgen
/// refuses both before `up`, and Redis and the map still get the same value. Shell strings make
/// the escaping quadratic in the value's length: milliseconds for a password, seconds near the
/// 64 KiB limit.
pub(crate) const SNIPPET: &str = r##"# Secrets by stackgen's rule (src/render/secret_shell.rs),
# in sh builtins alone.
sg_cr=$(printf '\r')
sg_ctl=$(printf '\1\2\3\4\5\6\7\10\11\12\13\14\15\16\17')
sg_ctl=$sg_ctl$(printf '\20\21\22\23\24\25\26\27\30\31\32\33\34\35\36\37\177')
sg_refuse() {
  printf 'stackgen: the secret in %s %s\n' "$1" "$2" >&2
  exit 1
}
# sg_secret FILE: the first line of FILE without the CRs that end it, in $sg_value. A further
# line that is not empty (CRs aside), a CR left inside, or no value at all is refused.
sg_secret() {
  sg_value= sg_more=
  {
    IFS= read -r sg_value || :
    while sg_line=; IFS= read -r sg_line || case $sg_line in '') false ;; esac; do
      sg_more=$sg_more${sg_line%"${sg_line##*[!$sg_cr]}"}
    done
  } < "$1" || sg_refuse "$1" 'cannot be read'
  sg_value=${sg_value%"${sg_value##*[!$sg_cr]}"}
  case $sg_more in
    ?*) sg_refuse "$1" 'holds a line break; a secret is one line (value not shown)' ;;
  esac
  case $sg_value in
    '') sg_refuse "$1" 'is empty' ;;
    *"$sg_cr"*) sg_refuse "$1" 'holds a line break; a secret is one line (value not shown)' ;;
  esac
}
# sg_json TEXT: TEXT as a JSON string (RFC 8259) on stdout: `"` and `\` escaped, every control
# character (0x00 to 0x1F, 0x7F) as \u00XX, every other byte as it is.
sg_json() {
  sg_rest=$1
  printf '"'
  while :; do
    sg_plain=${sg_rest%%[\"\\$sg_ctl]*}
    printf '%s' "$sg_plain"
    sg_rest=${sg_rest#"$sg_plain"}
    case $sg_rest in '') break ;; esac
    sg_tail=${sg_rest#?}
    sg_char=${sg_rest%"$sg_tail"}
    sg_rest=$sg_tail
    case $sg_char in
      \" | \\) printf '\\%s' "$sg_char" ;;
      *)
        # A control character's code is its place in $sg_ctl: 1 to 31, then 127.
        sg_before=${sg_ctl%%"$sg_char"*}
        case ${#sg_before} in
          31) printf '\\u007f' ;;
          *) printf '\\u%04x' $((${#sg_before} + 1)) ;;
        esac
        ;;
    esac
  done
  printf '"'
}
# sg_map ADDRESS FILE [ADDRESS FILE]...: the exporter's password map on stdout,
# {"ADDRESS":"password",...}, each password read by sg_secret. Every one is read before
# anything is written, so that a refused one leaves no half map.
sg_map() {
  (
    while :; do
      case $# in 0 | 1) break ;; esac
      sg_secret "$2"
      shift 2
    done
  ) || exit 1
  printf '{'
  sg_sep=
  while :; do
    case $# in 0 | 1) break ;; esac
    sg_secret "$2"
    printf '%s' "$sg_sep"
    sg_json "$1"
    printf ':'
    sg_json "$sg_value"
    sg_sep=,
    shift 2
  done
  printf '}\n'
}
# sg_conf TEXT: TEXT for the inside of a double-quoted redis.conf string, in $sg_conf. Redis
# (sdssplitargs) reads `\\` and `\"` back as `\` and `"`, and every other byte as it is but a
# line break, which a secret does not hold.
sg_conf() {
  sg_rest=$1 sg_conf=
  while :; do
    sg_plain=${sg_rest%%[\"\\]*}
    sg_conf=$sg_conf$sg_plain
    sg_rest=${sg_rest#"$sg_plain"}
    case $sg_rest in '') break ;; esac
    sg_tail=${sg_rest#?}
    sg_conf=$sg_conf\\${sg_rest%"$sg_tail"}
    sg_rest=$sg_tail
  done
}"##;

/// What the managed topology's containers add to the snippet: `sg_cli ARG…` (redis-cli, logged
/// in with `$sg_value` when it is set, never through argv or the script's environment) and
/// `sg_primary SELF SENTINEL…`: the primary the first Sentinel that answers reports now in
/// `$sg_primary` (`redis`, the rendered one, when none does), and in `$sg_replicaof` the
/// redis.conf line that makes SELF its replica, empty when SELF is it. A node restarted after a
/// failover so rejoins as what Sentinel made it.
pub(crate) const TOPOLOGY: &str = r##"# The current primary, as the Sentinels see it.
sg_nl='
'
sg_cli() {
  if [ -n "${sg_value-}" ]; then
    REDISCLI_AUTH=$sg_value redis-cli "$@"
  else
    redis-cli "$@"
  fi
}
sg_primary() {
  sg_self=$1 sg_primary=redis
  shift
  for sg_sentinel in "$@"; do
    case $sg_sentinel in "$sg_self") continue ;; esac
    if sg_reply=$(sg_cli -e -h "$sg_sentinel" -p 26379 --raw \
      SENTINEL get-master-addr-by-name redis 2>/dev/null) && [ -n "$sg_reply" ]; then
      sg_primary=${sg_reply%%"$sg_nl"*}
      break
    fi
  done
  case $sg_primary in
    "$sg_self") sg_replicaof= ;;
    *) sg_replicaof="replicaof $sg_primary 6379" ;;
  esac
}"##;

/// The snippets as templates take them (`secret_shell.sh`, `secret_shell.compose`,
/// `secret_shell.topology`): as they are for a container's `sh -c`, and with every `$` doubled
/// for compose.yaml, where `$` starts a variable. Each goes into a block scalar through
/// `indent`.
#[derive(Debug, Serialize)]
pub(crate) struct Forms {
    sh: &'static str,
    compose: String,
    topology: String,
}

pub(crate) fn forms() -> Forms {
    Forms {
        sh: SNIPPET,
        compose: SNIPPET.replace('$', "$$"),
        topology: TOPOLOGY.replace('$', "$$"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::docker::secrets;
    use crate::docker::spec::SecretSource;

    /// The shells the snippet must run in: dash (Debian's `sh`, and the Debian-based Redis
    /// image's), and busybox ash (the Alpine-based ones) when it is installed.
    fn shells() -> Vec<Vec<&'static str>> {
        let mut shells = vec![vec!["/bin/sh"]];
        let busybox = Command::new("busybox").arg("true").status();
        if busybox.is_ok_and(|s| s.success()) {
            shells.push(vec!["busybox", "sh"]);
        } else if std::env::var("STACKGEN_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
            panic!("STACKGEN_REQUIRE_DOCKER=1 but busybox is not installed");
        } else {
            eprintln!("not testing the secret snippet under busybox ash: busybox is not installed");
        }
        shells
    }

    /// `script` after the snippet, in `shell`, with `args` as $1…: status, stdout, stderr.
    fn run(shell: &[&str], script: &str, args: &[&Path]) -> (bool, Vec<u8>, String) {
        let output = Command::new(shell[0])
            .args(&shell[1..])
            .arg("-c")
            .arg(format!("set -eu\n{SNIPPET}\n{script}"))
            .arg("sh")
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), output.stdout, stderr)
    }

    /// Secret files as users write them: the tricky bytes of JSON, redis.conf, the shell and
    /// Go templates, line endings, Unicode line separators, a long value.
    fn cases() -> Vec<(&'static str, Vec<u8>)> {
        let mut controls: Vec<u8> = (1..=31).filter(|b| ![b'\n', b'\r'].contains(b)).collect();
        controls.push(0x7f);
        vec![
            ("tab", b"pass\tword\n".to_vec()),
            ("crlf", b"crlf-password\r\n".to_vec()),
            ("crs and blank lines", b"pw\r\r\n\r\n\n\r".to_vec()),
            ("no line ending", b"last".to_vec()),
            ("quotes", br#"a"b'c"#.to_vec()),
            ("backslashes", br#"\\a\"b\x41\n\"#.to_vec()),
            ("dollar", b"$x ${HOME} $(id) $$".to_vec()),
            ("backticks", b"`id` `".to_vec()),
            ("go template", b"{{ .x }} {{".to_vec()),
            ("spaces kept", b"  two sides \t".to_vec()),
            ("shell and glob", b"*?[a]#;|&<>~!%".to_vec()),
            ("control characters", controls),
            ("unicode", "é\u{85}\u{2028}\u{2029}😀".as_bytes().to_vec()),
            ("long", "aB3$\"\\\t{".repeat(25).into_bytes()),
        ]
    }

    /// Files every reader refuses.
    fn refused() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("inner line break", b"CANARY-1\nCANARY-2\n".to_vec()),
            ("line break first", b"\nCANARY".to_vec()),
            ("cr inside", b"CANARY\rCANARY\n".to_vec()),
            ("cr inside crlf", b"CANARY\rCANARY\r\n".to_vec()),
            ("empty", Vec::new()),
            ("line endings only", b"\r\n\r\n".to_vec()),
        ]
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name.replace(' ', "-"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn the_map_holds_what_stackgen_reads() {
        let dir = tempfile::tempdir().unwrap();
        for shell in shells() {
            for (name, bytes) in cases() {
                let path = write(dir.path(), name, &bytes);
                let expected = secrets::read(&SecretSource::File(path.clone()))
                    .unwrap_or_else(|why| panic!("{name}: stackgen refuses it: {why}"));
                let (ok, stdout, stderr) = run(&shell, r#"sg_map "$2" "$1""#, &[&path, &path]);
                assert!(ok, "{shell:?} {name}: {stderr}");
                let map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&stdout).unwrap_or_else(|e| {
                        panic!(
                            "{shell:?} {name}: {e}: {}",
                            String::from_utf8_lossy(&stdout)
                        )
                    });
                let key = path.display().to_string();
                assert_eq!(map.len(), 1, "{shell:?} {name}");
                assert_eq!(map[&key], expected, "{shell:?} {name}");
                // RFC 8259: no raw control character, the map is one line.
                let text = String::from_utf8(stdout).unwrap();
                assert!(
                    !text
                        .trim_end_matches('\n')
                        .contains(|c: char| c.is_ascii_control()),
                    "{shell:?} {name}: {text:?}"
                );
            }
        }
    }

    #[test]
    fn line_breaks_and_empty_secrets_are_refused_by_the_shell_as_by_stackgen() {
        let dir = tempfile::tempdir().unwrap();
        for shell in shells() {
            for (name, bytes) in refused() {
                let path = write(dir.path(), name, &bytes);
                let why = secrets::read(&SecretSource::File(path.clone())).unwrap_err();
                // Read alone, and as the second entry of a map: nothing of the map is written.
                let good = write(dir.path(), "good", b"good\n");
                for script in ["sg_secret \"$1\"", "sg_map a \"$2\" b \"$1\""] {
                    let (ok, stdout, stderr) = run(&shell, script, &[&path, &good]);
                    assert!(!ok, "{shell:?} {name}: the shell took it ({why})");
                    assert!(stdout.is_empty(), "{shell:?} {name}: {stdout:?}");
                    assert!(
                        stderr.contains(&path.display().to_string()),
                        "{shell:?} {name}: {stderr}"
                    );
                    assert!(!stderr.contains("CANARY"), "{shell:?} {name}: {stderr}");
                    let same = if why.contains("line break") {
                        "holds a line break"
                    } else {
                        "is empty"
                    };
                    assert!(stderr.contains(same), "{shell:?} {name}: {stderr} ({why})");
                }
            }
        }
    }

    /// JSON escaping of what a secret never holds but the function must still get right.
    #[test]
    fn every_control_character_is_escaped_in_json() {
        let all: String = (1..=0x7f_u8).map(char::from).collect();
        for shell in shells() {
            let script = format!("sg_json '{}'", all.replace('\'', r"'\''"));
            let (ok, stdout, stderr) = run(&shell, &script, &[]);
            assert!(ok, "{shell:?}: {stderr}");
            let text = String::from_utf8(stdout).unwrap();
            assert_eq!(serde_json::from_str::<String>(&text).unwrap(), all);
            assert!(
                text.contains(r"\u000a\u000b") && text.contains(r"\u007f"),
                "{text}"
            );
        }
    }

    /// The conf escaping, checked here by its text; the integration tests give it to a real
    /// redis-server.
    #[test]
    fn conf_strings_escape_backslashes_and_quotes_only() {
        for shell in shells() {
            let script = r#"sg_conf "$(printf 'a"b\\c\td$x')"; printf '%s' "$sg_conf""#;
            let (ok, stdout, stderr) = run(&shell, script, &[]);
            assert!(ok, "{shell:?}: {stderr}");
            assert_eq!(
                String::from_utf8(stdout).unwrap(),
                "a\\\"b\\\\c\td$x",
                "{shell:?}"
            );
        }
    }

    #[test]
    fn compose_gets_every_dollar_doubled() {
        let forms = forms();
        assert_eq!(forms.compose.replace("$$", "$"), SNIPPET);
        assert_eq!(
            forms.compose.matches('$').count(),
            2 * SNIPPET.matches('$').count()
        );
    }
}

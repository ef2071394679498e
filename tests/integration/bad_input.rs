//! Bad `stack.toml` files: each exits 2 with its message at `stack.toml:line:col`, never echoes
//! a secret, and leaves `generated/` exactly as it was (bytes and modification times).

use crate::support::*;

const BASE: &str = "[stack]\nname = \"t\"\n";

/// (what is wrong, the stack.toml, the message expected, where).
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "unknown top-level table",
        "[stack]\nname = \"t\"\n[redsi]\nport = 1\n",
        "unknown key `redsi`: did you mean `redis`?",
        "stack.toml:3:2",
    ),
    (
        "unknown key in [stack]",
        "[stack]\nname = \"t\"\nprofle = \"dev\"\n",
        "unknown key `profle`: did you mean `profile`?",
        "stack.toml:3:1",
    ),
    (
        "unknown key in [redis]",
        "[stack]\nname = \"t\"\n[redis]\nmaxmem = \"1GiB\"\n",
        "unknown key `maxmem`: did you mean `maxmemory`?",
        "stack.toml:4:1",
    ),
    (
        "a password inside a target's address (never echoed)",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\naddress = \"redis://u:CANARY@a:6379\"\n",
        "`address` must not hold a user or password (value not shown)",
        "stack.toml:5:1",
    ),
    (
        "a target without an address",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\n",
        "target `a` has no `address`",
        "stack.toml:3:1",
    ),
    (
        "an unknown key in a target",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\naddres = \"redis://a\"\n",
        "unknown key `addres`: did you mean `address`?",
        "stack.toml:5:1",
    ),
    (
        "no managed Redis and no target",
        "[stack]\nname = \"t\"\n[redis]\nenabled = false\n",
        "there is nothing to monitor",
        "stack.toml:4:1",
    ),
    (
        "unknown key in [alertmanager.slack]",
        "[stack]\nname = \"t\"\n[alertmanager.slack]\nchanel = \"#x\"\n",
        "unknown key `chanel`: did you mean `channel`?",
        "stack.toml:4:1",
    ),
    (
        "unknown key in an alert",
        "[stack]\nname = \"t\"\n[alerts.redis_down]\nthreshold_ms = 5\n",
        "unknown key `threshold_ms`: this table takes `enabled`, `for`, `severity`",
        "stack.toml:4:1",
    ),
    (
        "unknown alert",
        "[stack]\nname = \"t\"\n[alerts.redis_dwn]\nfor = \"1m\"\n",
        "unknown key `redis_dwn`: did you mean `redis_down`?",
        "stack.toml:3:9",
    ),
    (
        "unknown key in a secret",
        "[stack]\nname = \"t\"\n[redis]\npassword = { path = \"p\" }\n",
        "unknown key `path` in a secret",
        "stack.toml:4:12",
    ),
    (
        "port as a string",
        "[stack]\nname = \"t\"\n[redis]\nport = \"6379\"\n",
        "`port` must be a port number from 1 to 65535, not \"6379\" (in quotes): e.g. `port = 6379`",
        "stack.toml:4:8",
    ),
    (
        "port out of range",
        "[stack]\nname = \"t\"\n[prometheus]\nport = 70000\n",
        "`port` must be a port number from 1 to 65535, not 70000",
        "stack.toml:4:8",
    ),
    (
        "boolean as a string",
        "[stack]\nname = \"t\"\n[redis]\nappendonly = \"yes\"\n",
        "`appendonly` is true or false, not \"yes\" (in quotes)",
        "stack.toml:4:14",
    ),
    (
        "non-IEC size",
        "[stack]\nname = \"t\"\n[redis]\nmemory_limit = \"2gb\"\n",
        "did you mean `2GiB`?",
        "stack.toml:4:16",
    ),
    (
        "fractional duration",
        "[stack]\nname = \"t\"\n[prometheus]\nretention_time = \"1.5h\"\n",
        "invalid duration `1.5h`",
        "stack.toml:4:18",
    ),
    (
        "zero retention",
        "[stack]\nname = \"t\"\n[prometheus]\nretention_time = \"0\"\n",
        "`retention_time` must be above zero",
        "stack.toml:4:1",
    ),
    (
        "maxmemory not below memory_limit",
        "[stack]\nname = \"t\"\n[redis]\nmemory_limit = \"1GiB\"\nmaxmemory = \"1GiB\"\n",
        "`maxmemory` (1GiB) must be below `memory_limit` (1GiB)",
        "stack.toml:5:1",
    ),
    (
        "two services on one host port",
        "[stack]\nname = \"t\"\n[redis_exporter]\nbind = \"0.0.0.0\"\nport = 6379\n",
        "host port 6379 is already published by `redis`",
        "stack.toml:5:1",
    ),
    (
        "threshold above 100 %",
        "[stack]\nname = \"t\"\n[alerts.memory_pressure]\nthreshold_percent = 120\n",
        "`threshold_percent` must be between 0 and 100, exclusive, not 120",
        "stack.toml:4:1",
    ),
    (
        "negative latency threshold",
        "[stack]\nname = \"t\"\n[alerts.high_latency]\nthreshold_ms = -5\n",
        "`threshold_ms` must be between 0 and 3600000, exclusive, not -5",
        "stack.toml:4:1",
    ),
    (
        "literal webhook URL",
        "[stack]\nname = \"t\"\n[alertmanager.slack]\nwebhook_url = \"https://hooks.slack.com/services/T0/B0/CANARY-WEBHOOK\"\n",
        "a literal string is not allowed here (value not shown)",
        "stack.toml:4:15",
    ),
    (
        "literal Redis password",
        "[stack]\nname = \"t\"\n[redis]\npassword = \"CANARY-PASSWORD\"\n",
        "a literal string is not allowed here (value not shown)",
        "stack.toml:4:12",
    ),
    (
        "numeric Grafana password",
        "[stack]\nname = \"t\"\n[grafana]\nadmin_password = 424242\n",
        "a literal number is not allowed here (value not shown)",
        "stack.toml:4:18",
    ),
    (
        "unknown maxmemory policy",
        "[stack]\nname = \"t\"\n[redis]\nmaxmemory_policy = \"lru\"\n",
        "unknown variant `lru`, expected one of `allkeys-lru`",
        "stack.toml:4:20",
    ),
    (
        "unknown severity",
        "[stack]\nname = \"t\"\n[alerts.redis_down]\nseverity = \"page\"\n",
        "unknown variant `page`, expected one of `critical`, `warning`, `info`",
        "stack.toml:4:12",
    ),
    (
        "bind that is not an address",
        "[stack]\nname = \"t\"\n[grafana]\nbind = \"localhost\"\n",
        "`bind` must be an IP address",
        "stack.toml:4:1",
    ),
    (
        "missing project name",
        "[stack]\nprofile = \"dev\"\n",
        "missing key `stack.name`",
        "stack.toml:1:2",
    ),
    (
        "invalid project name",
        "[stack]\nname = \"Blue Sky\"\n",
        "invalid project name `Blue Sky`",
        "stack.toml:2:1",
    ),
    (
        "TOML syntax error",
        "[stack]\nname = \"t\"\n[redis\nport = 1\n",
        "unclosed table, expected `]`",
        "stack.toml:3:7",
    ),
    (
        "duplicate key",
        "[stack]\nname = \"t\"\n[redis]\nport = 1\nport = 2\n",
        "duplicate key",
        "stack.toml:5:1",
    ),
    (
        "scrape timeout above the interval",
        "[stack]\nname = \"t\"\n[prometheus]\nscrape_timeout = \"20s\"\n",
        "`scrape_timeout` (20s) must not be above `scrape_interval` (15s)",
        "stack.toml:4:1",
    ),
    (
        "two services on one port, set in the first",
        "[stack]\nname = \"t\"\n[redis]\nport = 9090\n",
        "host port 9090 is already published by `redis`",
        "stack.toml:4:1",
    ),
    (
        "absolute secret path",
        "[stack]\nname = \"t\"\n[redis]\npassword = { file = \"/etc/redis-secret\" }\n",
        "secret files are relative to the folder of stack.toml",
        "stack.toml:4:14",
    ),
    (
        "webhook URL pasted as a file",
        "[stack]\nname = \"t\"\n[alertmanager.slack]\nwebhook_url = { file = \"https://hooks.slack.com/services/CANARY\" }\n",
        "`file` does not look like a path (value not shown)",
        "stack.toml:4:17",
    ),
    (
        "webhook URL pasted as a variable",
        "[stack]\nname = \"t\"\n[alertmanager.slack]\nwebhook_url = { env = \"https://hooks.slack.com/services/CANARY\" }\n",
        "`env` must name an environment variable",
        "stack.toml:4:17",
    ),
    (
        "size as a bare number",
        "[stack]\nname = \"t\"\n[redis]\nmemory_limit = 2147483648\n",
        "`memory_limit` is a size with an IEC unit, written as a string, not 2147483648: \
         e.g. `memory_limit = \"2GiB\"`",
        "stack.toml:4:16",
    ),
    (
        "unknown default profile",
        "[stack]\nname = \"t\"\nprofile = \"staging\"\n",
        "unknown profile `staging`",
        "stack.toml:3:1",
    ),
    (
        "more replicas than the topology runs",
        "[stack]\nname = \"t\"\n[redis]\nreplicas = 6\n",
        "`replicas` must be from 0 to 5, not 6",
        "stack.toml:4:1",
    ),
    (
        "Sentinel with no replica to promote",
        "[stack]\nname = \"t\"\n[redis.sentinel]\nenabled = true\n",
        "Sentinel promotes a replica when the primary fails",
        "stack.toml:4:1",
    ),
    (
        "a quorum more than the Sentinels that run",
        "[stack]\nname = \"t\"\n[redis]\nreplicas = 1\n[redis.sentinel]\nenabled = true\nquorum = 4\n",
        "`quorum` must be from 1 to 3",
        "stack.toml:7:1",
    ),
    (
        "a Sentinel timeout of part of a second",
        "[stack]\nname = \"t\"\n[redis]\nreplicas = 1\n[redis.sentinel]\nenabled = true\ndown_after = \"1500ms\"\n",
        "`down_after` must be whole seconds",
        "stack.toml:7:1",
    ),
    (
        "a replica's port published by another service",
        "[stack]\nname = \"t\"\n[redis]\nreplicas = 1\n[redis_exporter]\nport = 6380\n",
        "`redis-replica-1` publishes host port 6380, which `redis_exporter` publishes already",
        "stack.toml:4:1",
    ),
    (
        "a Sentinel target without its replication group",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"s\"\nkind = \"sentinel\"\naddress = \"redis://s:26379\"\n",
        "a Sentinel target needs `labels.replication_group`",
        "stack.toml:3:1",
    ),
    (
        "a target in the managed topology's replication group",
        "[stack]\nname = \"t\"\n[redis]\nreplicas = 1\n[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\nlabels = { replication_group = \"redis\" }\n",
        "replication group `redis` is the managed Redis and its replicas",
        "stack.toml:8:12",
    ),
    (
        "an unknown target kind",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\nkind = \"proxy\"\naddress = \"redis://a:6379\"\n",
        "unknown variant `proxy`, expected one of `redis`, `sentinel`, `cluster`",
        "stack.toml:5:8",
    ),
    (
        "replicas and Sentinel on the Kubernetes target",
        "[stack]\nname = \"t\"\ntarget = \"kubernetes\"\n[redis]\nreplicas = 1\n[redis.sentinel]\nenabled = true\n",
        "the Kubernetes target runs one Redis: run replicas and Sentinel with a Redis operator",
        "stack.toml:5:1",
    ),
    (
        "a cluster with an address",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"c\"\nkind = \"cluster\"\naddress = \"redis://a:6379\"\nseeds = [\"redis://a:6379\"]\n",
        "a cluster has `seeds`, not `address`",
        "stack.toml:6:1",
    ),
    (
        "a cluster without seeds",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"c\"\nkind = \"cluster\"\n",
        "cluster `c` has no `seeds`",
        "stack.toml:3:1",
    ),
    (
        "a TLS seed",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"c\"\nkind = \"cluster\"\nseeds = [\"rediss://a:6379\"]\n",
        "stackgen asks a cluster's seeds for its nodes without TLS",
        "stack.toml:6:1",
    ),
    (
        "seeds on a Redis target",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\nseeds = [\"redis://a:6379\"]\n",
        "`seeds` are for `kind = \"cluster\"`",
        "stack.toml:6:1",
    ),
    (
        "a cluster named as a target",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"redis\"\nkind = \"cluster\"\nseeds = [\"redis://a:6379\"]\n",
        "a target or cluster named `redis` exists already",
        "stack.toml:4:1",
    ),
    (
        "a label named cluster",
        "[stack]\nname = \"t\"\n[[targets]]\nname = \"a\"\naddress = \"redis://a:6379\"\nlabels = { cluster = \"x\" }\n",
        "label `cluster` is set by stackgen",
        "stack.toml:6:12",
    ),
    (
        "an SLO objective of 100 %",
        "[stack]\nname = \"t\"\n[[slo]]\nname = \"a\"\nobjective = 100\nsli = \"availability\"\n",
        "`objective` must be above 50 and at most 99.99 (percent), not 100",
        "stack.toml:5:1",
    ),
    (
        "an SLO window shorter than the alerts' longest",
        "[stack]\nname = \"t\"\n[[slo]]\nname = \"a\"\nobjective = 99\nwindow = \"1d\"\nsli = \"errors\"\n",
        "`window` must be at least 72h, the longest window of the burn-rate alerts, not 24h",
        "stack.toml:6:1",
    ),
    (
        "a latency SLO without a threshold",
        "[stack]\nname = \"t\"\n[[slo]]\nname = \"a\"\nobjective = 99\nsli = \"latency\"\n",
        "SLO `a` has `sli = \"latency\"` and needs a `latency_threshold`",
        "stack.toml:3:1",
    ),
    (
        "two SLOs with one name",
        "[stack]\nname = \"t\"\n[[slo]]\nname = \"a\"\nobjective = 99\nsli = \"errors\"\n[[slo]]\nname = \"a\"\nobjective = 99\nsli = \"availability\"\n",
        "two SLOs are named `a`",
        "stack.toml:8:1",
    ),
    (
        "an SLO name with a quote",
        "[stack]\nname = \"t\"\n[[slo]]\nname = \"a\\\"b\"\nobjective = 99\nsli = \"errors\"\n",
        "SLO name `a\\\"b` is not usable",
        "stack.toml:4:1",
    ),
    (
        "an SLO per replication group without one",
        "[stack]\nname = \"t\"\n[[slo]]\nname = \"a\"\nobjective = 99\nsli = \"errors\"\nper = \"replication_group\"\n",
        "SLO `a` is per replication group, and no target has a `replication_group` label",
        "stack.toml:7:1",
    ),
];

#[test]
fn every_bad_input_exits_2_at_its_place_and_changes_nothing() {
    assert!(CASES.len() >= 20);
    let mut failures = Vec::new();
    for (what, stack, message, place) in CASES {
        let project = Project::new(BASE);
        let dir = project.path();
        // A project with generated files from a good stack.toml, then the bad edit.
        project.run(["render"]).success();
        let before = snapshot(dir);
        project.file("stack.toml", stack);
        let before_edit = snapshot(&dir.join("generated"));

        let Run {
            code,
            stdout,
            stderr,
            ..
        } = project.run(["render"]);
        let expected_line = format!("error: {place}: ");
        let found = stderr
            .lines()
            .any(|l| l.starts_with(&expected_line) && l.contains(message));
        if code != 2 || !found {
            failures.push(format!(
                "{what}: exit {code}, expected `{place}: …{message}…`, got:\n{stderr}"
            ));
        }
        if stderr.contains("CANARY") || stdout.contains("CANARY") {
            failures.push(format!("{what}: a secret value was echoed:\n{stderr}"));
        }
        if snapshot(&dir.join("generated")) != before_edit {
            failures.push(format!("{what}: generated/ changed"));
        }
        assert_eq!(before.len(), snapshot(dir).len(), "{what}: files appeared");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

/// What a user can trigger speaks the product's language: no library type names or advice.
#[test]
fn no_library_jargon_reaches_the_user() {
    const JARGON: [&str; 5] = [
        "u16",
        "invalid type:",
        "invalid value:",
        "DuplicateKeyPolicy",
        "Options",
    ];
    let mut said = Vec::new();
    for (_, stack, _, _) in CASES {
        let project = Project::new(BASE);
        project.file("stack.toml", stack);
        said.push(project.run(["render"]).code(2).stderr);
    }
    let project = Project::new(BASE);
    project.file(
        "templates/prometheus/prometheus.yml",
        "global:\n  scrape_interval: 15s\n  scrape_interval: 10s\n",
    );
    let run = project
        .run(["render"])
        .code(2)
        .stderr_has("line 3 column 3: the key `scrape_interval` appears twice in one mapping");
    said.push(run.stderr);
    for text in &said {
        for word in JARGON {
            assert!(!text.contains(word), "{word:?} reaches the user:\n{text}");
        }
    }
}

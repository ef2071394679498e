//! The lint rules: a stable code, a name, what each checks and why. `--explain` prints these.

pub struct Rule {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        code: "SG001",
        title: "a file does not follow the schema of stack.toml or of a profile",
        explanation: "A TOML syntax error, an unknown key, a value of the wrong type, a size without an IEC unit, a duration outside Prometheus' grammar, or a secret written as a literal. stackgen refuses to guess: a typo in a key would otherwise silently fall back to a default.",
    },
    Rule {
        code: "SG002",
        title: "maxmemory is not below memory_limit",
        explanation: "Redis' maxmemory counts only the dataset. Forks for AOF rewrites and RDB saves, client buffers and fragmentation come on top; at or above the container's memory limit the kernel kills Redis instead of Redis evicting or refusing writes.",
    },
    Rule {
        code: "SG003",
        title: "maxmemory is above 80 % of memory_limit",
        explanation: "A fork for persistence can briefly need as much memory again as the pages written meanwhile, and client output buffers grow under load. Leaving 20 % of the container's limit free keeps the kernel's OOM killer away.",
    },
    Rule {
        code: "SG004",
        title: "scrape_timeout is above a scrape interval",
        explanation: "Prometheus refuses a configuration whose scrape timeout is longer than a job's scrape interval.",
    },
    Rule {
        code: "SG005",
        title: "an interval or `for` is shorter than the scrape interval",
        explanation: "Evaluating rules more often than samples arrive, or asking a condition to hold for less than one scrape, only re-reads the same sample: the alert behaves as if `for` were one scrape interval.",
    },
    Rule {
        code: "SG006",
        title: "a rate window holds fewer than 4 scrapes",
        explanation: "rate() and increase() need at least two samples in their window and are only steady with four or more. The alert rules use 5m windows, so the exporter's scrape interval must be at most 75s.",
    },
    Rule {
        code: "SG007",
        title: "two services publish the same host port",
        explanation: "Only one socket can listen on a host address and port; the second container would fail to start.",
    },
    Rule {
        code: "SG008",
        title: "a threshold is outside its domain",
        explanation: "Latency, throughput and error-rate thresholds must be above zero; a memory threshold is a percentage strictly between 0 and 100.",
    },
    Rule {
        code: "SG009",
        title: "RedisBufferOverflow watches evictions under noeviction",
        explanation: "With maxmemory-policy noeviction Redis never evicts: it rejects writes with OOM errors. An alert on evicted keys can then never fire; it must watch OOM error replies. The built-in rules follow the policy; this catches a template override that does not.",
    },
    Rule {
        code: "SG010",
        title: "a duration or size must be above zero",
        explanation: "A zero retention, interval or size either disables what it bounds or is refused by the tool that reads it.",
    },
    Rule {
        code: "SG011",
        title: "an invalid value",
        explanation: "A project name compose cannot use, a bind that is not an IP address, port 0, an empty image or user name, an environment variable name that cannot exist, or an unknown profile.",
    },
    Rule {
        code: "SG101",
        title: "a service publishes on every interface",
        explanation: "A bind of 0.0.0.0 or :: publishes the port on every network the host is on, firewall permitting. In prod bind to 127.0.0.1 and reach the services through a reverse proxy, a VPN or an SSH tunnel.",
    },
    Rule {
        code: "SG102",
        title: "Redis has no password",
        explanation: "Without `redis.password` anyone who reaches the port can read, change and delete the buffer, and run CONFIG.",
    },
    Rule {
        code: "SG103",
        title: "Grafana keeps its default credentials",
        explanation: "Without `grafana.admin_password` Grafana starts with admin/admin, the first thing anyone tries.",
    },
    Rule {
        code: "SG104",
        title: "Grafana lets visitors in",
        explanation: "Sign-up lets anyone create an account; anonymous access shows dashboards without one.",
    },
    Rule {
        code: "SG105",
        title: "an image is not pinned",
        explanation: "An image without a tag, or with `:latest`, changes under you: two `up`s of the same stack.toml can run different software. Pin a version tag or a digest.",
    },
    Rule {
        code: "SG106",
        title: "no Slack webhook",
        explanation: "Without `alertmanager.slack.webhook_url` alerts fire into Alertmanager and no one is told.",
    },
    Rule {
        code: "SG107",
        title: "retention is not bounded by size",
        explanation: "A time-only retention lets a burst of series fill the disk. Set `prometheus.retention_size` as well.",
    },
    Rule {
        code: "SG201",
        title: "a secret is not there yet",
        explanation: "The file a secret names does not exist, or its environment variable is not set. A fresh clone has no secrets, so lint only warns; `--strict` (and `up`) make it an error.",
    },
    Rule {
        code: "SG202",
        title: "a secret file is not usable",
        explanation: "A secret file must be a non-empty regular file inside the project folder, named by a relative path, and a secret one line: anything else either fails at start-up or ends up in the generated files.",
    },
    Rule {
        code: "SG203",
        title: "a secret file is readable by others",
        explanation: "A secret file that group or others can read is a secret shared with every account on the host.",
    },
    Rule {
        code: "SG204",
        title: "the Grafana admin password is `admin`",
        explanation: "`admin` is Grafana's default password and the first one anyone tries.",
    },
    Rule {
        code: "SG205",
        title: "the webhook does not look like a Slack webhook",
        explanation: "Slack incoming webhooks are https://hooks.slack.com/… URLs. Anything else is probably a paste error, and plain http would send alerts in clear text.",
    },
    Rule {
        code: "SG301",
        title: "a generated file is invalid",
        explanation: "A generated file does not parse back, breaks its format's schema, or holds a PromQL expression that does not parse. Usually a template override is at fault.",
    },
    Rule {
        code: "SG302",
        title: "promtool check config fails",
        explanation: "Prometheus would refuse to start with the generated prometheus.yml.",
    },
    Rule {
        code: "SG303",
        title: "promtool check rules fails",
        explanation: "Prometheus would refuse the generated alert rules.",
    },
    Rule {
        code: "SG304",
        title: "promtool test rules fails",
        explanation: "An alert does not fire past its threshold and `for`, or fires short of them, in the generated unit tests.",
    },
    Rule {
        code: "SG305",
        title: "amtool check-config fails",
        explanation: "Alertmanager would refuse to start with the generated alertmanager.yml.",
    },
    Rule {
        code: "SG306",
        title: "a checking tool is missing",
        explanation: "promtool or amtool is not on PATH, so the generated files were not checked by them. Install Debian's prometheus and prometheus-alertmanager packages; `--strict` makes their absence an error.",
    },
];

pub fn find(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

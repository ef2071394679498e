//! The config-hash against values measured with compose v2.40.3, and each form it reads.

use serde_json::json;

use super::*;

/// `redis-exporter` of the example's `generated/dev/compose.yaml`, checked against
/// `docker-compose config --hash` (v2.40.3) when it was measured.
fn redis_exporter() -> Value {
    json!({
        "image": "oliver006/redis_exporter:v1.62.0",
        "container_name": "bluesky-redis-exporter",
        "restart": "unless-stopped",
        "command": [
            "--redis.addr=redis://redis:6379",
            "--redis.password-file=/run/redis-exporter-auth/password-map.json",
            "--web.listen-address=:9121"
        ],
        "ports": ["0.0.0.0:9121:9121"],
        "volumes": ["redis-exporter-auth:/run/redis-exporter-auth:ro"],
        "secrets": ["redis_password"],
        "depends_on": {"redis": {"condition": "service_healthy"}},
        "labels": {"io.stackgen.project": "bluesky", "io.stackgen.service": "redis-exporter"}
    })
}

#[test]
fn the_measured_example_hashes_as_compose_did() {
    let dir = Path::new("/anywhere");
    let text = service_json(&redis_exporter(), dir).unwrap();
    assert!(text.starts_with(r#"{"command":["--redis.addr"#), "{text}");
    assert!(text.contains(r#""entrypoint":null,"image""#), "{text}");
    let ports = r#"{"mode":"ingress","host_ip":"0.0.0.0","target":9121,"published":"9121","protocol":"tcp"}"#;
    assert!(
        text.contains(&format!(
            r#""networks":{{"default":null}},"ports":[{ports}]"#
        )),
        "{text}"
    );
    assert_eq!(
        service_hash(&redis_exporter(), dir).unwrap(),
        "ae0191e8ef6fe641ac733f1cf4d16c7abf15562d20836103cf382da523bf1e2b"
    );
}

#[test]
fn the_default_network_hash() {
    assert_eq!(
        network_hash("bluesky"),
        "689596d6398f46be545f40b42617818ad38c5207189da8b4e38195a3aec94e02"
    );
}

#[test]
fn durations_print_as_go_prints_them() {
    let cases = [
        ("90s", "1m30s"),
        ("1h", "1h0m0s"),
        ("1m", "1m0s"),
        ("500ms", "500ms"),
        ("1.5s", "1.5s"),
        ("1h2m3.5s", "1h2m3.5s"),
        ("1500us", "1.5ms"),
        ("2\u{3bc}s", "2\u{b5}s"),
        ("7ns", "7ns"),
        ("0s", "0s"),
        ("0", "0s"),
        (".5m", "30s"),
    ];
    for (input, printed) in cases {
        assert_eq!(
            go_duration(parse_duration(input).unwrap()),
            printed,
            "{input}"
        );
    }
    for bad in ["", "5", "-1s", "1d", "s", "1.s5"] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn strings_escape_as_go_escapes_them() {
    let s = "a<b>&\"\\\n\r\t\u{8}\u{c}\u{1}\u{2028}\u{2029}é\u{7f}/";
    assert_eq!(
        Go::Str(s.into()).to_json(),
        format!(
            r#""a\u003cb\u003e\u0026\"\\\n\r\t\b\f\u0001\u2028\u2029é{}/""#,
            '\u{7f}'
        )
    );
}

#[test]
fn unknown_keys_and_unresolvable_values_are_errors() {
    let mut service = redis_exporter();
    service["networks"] = json!(["default"]);
    let err = service_hash(&service, Path::new("/p")).unwrap_err();
    assert!(err.contains("`networks`"), "{err}");
    let with = |key: &str, value: Value| {
        let mut service = redis_exporter();
        service[key] = value;
        service_hash(&service, Path::new("/p"))
    };
    assert!(with("x-note", json!("ignored")).is_ok());
    assert!(with("healthcheck", json!({"test": "true", "timeoutt": "1s"})).is_err());
    assert!(with("environment", json!(["FROM_THE_SHELL"])).is_err());
    assert!(with("environment", json!({"A": null})).is_err());
    assert!(with("image", json!("redis:${TAG}")).is_err());
    assert!(with("command", json!("echo a | tee b")).is_err());
    assert!(with("ports", json!(["8000-8001:80"])).is_err());
    assert!(with("volumes", json!(["data:/data:z"])).is_err());
    assert!(with("secrets", json!([{"source": "s"}])).is_err());
    assert!(service_hash(&redis_exporter(), Path::new("relative")).is_err());
}

#[test]
fn short_forms_become_compose_long_forms() {
    let service = json!({
        "image": "x",
        "command": "echo '' \"a b\" c'd'e $$HOME",
        "environment": ["B=2", "A=1", "EMPTY="],
        "labels": ["k=v"],
        "healthcheck": {"test": "true", "interval": "90s", "retries": 0, "disable": true},
        "mem_limit": "1.5g",
        "ports": ["8080:80", 3000, "[::1]:9122:9122/udp"],
        "volumes": ["./a/../b/:/b/:ro", "/abs/./x:/x:rw", "data:/data:nocopy,ro"],
    });
    let text = service_json(&service, Path::new("/srv/app/")).unwrap();
    let expected = concat!(
        r#"{"command":["echo","","a b","cde","$HOME"],"entrypoint":null,"#,
        r#""environment":{"A":"1","B":"2","EMPTY":""},"#,
        r#""healthcheck":{"test":["CMD-SHELL","true"],"interval":"1m30s","retries":0,"disable":true},"#,
        r#""image":"x","labels":{"k":"v"},"mem_limit":"1610612736","networks":{"default":null},"#,
        r#""ports":[{"mode":"ingress","target":80,"published":"8080","protocol":"tcp"},"#,
        r#"{"mode":"ingress","target":3000,"protocol":"tcp"},"#,
        r#"{"mode":"ingress","host_ip":"::1","target":9122,"published":"9122","protocol":"udp"}],"#,
        r#""volumes":[{"type":"bind","source":"/srv/app/b","target":"/b","read_only":true,"bind":{"create_host_path":true}},"#,
        r#"{"type":"bind","source":"/abs/./x","target":"/x","bind":{"create_host_path":true}},"#,
        r#"{"type":"volume","source":"data","target":"/data","read_only":true,"volume":{"nocopy":true}}]}"#,
    );
    assert_eq!(text, expected);
}

#[test]
fn sizes_are_binary_multiples() {
    let cases = [
        ("2g", 2 << 30),
        ("512m", 512 << 20),
        ("1073741824b", 1 << 30),
        ("64 KiB", 64 << 10),
    ];
    for (size, bytes) in cases {
        assert_eq!(ram_in_bytes(size).unwrap(), bytes, "{size}");
    }
    for bad in ["", "g", "1.2.3g", "-1g", "2x"] {
        assert!(ram_in_bytes(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn float32_prints_as_go_prints_it() {
    let cases = [
        (0.1, "0.1"),
        (0.3, "0.3"),
        (1.5, "1.5"),
        (2.0, "2"),
        (-1.0, "-1"),
        (16_777_217.0, "16777216"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-10, "1.5e-10"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
    ];
    for (x, printed) in cases {
        assert_eq!(go::go_float32(x), printed, "{x}");
    }
}

/// The JSON compose hashes for `image: x` plus one `key: value` line of YAML.
fn with_yaml(key: &str, value: &str) -> Result<String, String> {
    let service: Value = crate::yaml::from_str(&format!("image: x\n{key}: {value}\n")).unwrap();
    service_json(&service, Path::new("/p"))
}

/// Each `value` of `key` gives `"key":hashed` in the JSON, or leaves the key out (`None`).
fn assert_hashed_as(key: &str, cases: &[(&str, Option<&str>)]) {
    let base = with_yaml("x-none", "0").unwrap();
    for (value, hashed) in cases {
        let text = with_yaml(key, value).unwrap_or_else(|e| panic!("{key}: {value}: {e}"));
        match hashed {
            None => assert_eq!(text, base, "{key}: {value}"),
            Some(hashed) => {
                let field = format!(r#""{key}":{hashed}"#);
                assert!(text.contains(&field), "{key}: {value} gave {text}");
            }
        }
    }
}

#[test]
fn cpus_is_a_go_float32() {
    assert_hashed_as(
        "cpus",
        &[
            ("0.5", Some("0.5")),
            ("0.1", Some("0.1")),
            ("\"1.5\"", Some("1.5")),
            ("2", Some("2")),
            ("\"+.5\"", Some("0.5")),
            ("16777217", Some("16777216")),
            ("0.0000001", Some("1e-7")),
            ("0", None),
            ("\"0\"", None),
            // A number is narrowed from float64, a string parsed straight to float32.
            ("1.00000017881393432617187499", Some("1.0000002")),
            ("\"1.00000017881393432617187499\"", Some("1.0000001")),
        ],
    );
    for bad in [
        "\"0x1p-1\"",
        "\"1_0\"",
        "\" 1\"",
        "half",
        "true",
        "1e300",
        "[1]",
    ] {
        assert!(with_yaml("cpus", bad).is_err(), "{bad}");
    }
}

#[test]
fn pids_limit_read_only_and_lists_of_strings() {
    assert_hashed_as(
        "pids_limit",
        &[
            ("256", Some("256")),
            ("\"256\"", Some("256")),
            ("\"+7\"", Some("7")),
            ("-1", Some("-1")),
            ("0", None),
        ],
    );
    assert_hashed_as("read_only", &[("true", Some("true")), ("false", None)]);
    assert_hashed_as(
        "cap_add",
        &[
            (
                "[CHOWN, chown, CAP_CHOWN, CHOWN]",
                Some(r#"["CHOWN","chown","CAP_CHOWN"]"#),
            ),
            ("[]", None),
        ],
    );
    assert_hashed_as(
        "security_opt",
        &[(
            r#"["no-new-privileges:true", label=disable]"#,
            Some(r#"["no-new-privileges:true","label=disable"]"#),
        )],
    );
    assert_hashed_as(
        "tmpfs",
        &[
            ("/tmp", Some(r#"["/tmp"]"#)),
            (
                r#"["/tmp:size=16m,mode=1777", /run, "/tmp:size=16m,mode=1777"]"#,
                Some(r#"["/tmp:size=16m,mode=1777","/run"]"#),
            ),
            ("[/tmp/, rel]", Some(r#"["/tmp/","rel"]"#)),
            ("[]", None),
        ],
    );
    let bad = [
        ("pids_limit", "1.5"),
        ("pids_limit", "\"1.5\""),
        ("read_only", "\"true\""),
        ("read_only", "1"),
        ("cap_add", "CHOWN"),
        ("cap_drop", "[ALL, 1]"),
        ("security_opt", "[a, a]"),
        ("tmpfs", "[/tmp, \"/tmp/:size=1k\"]"),
        ("tmpfs", "[\"/tmp:uid=$UID\"]"),
    ];
    for (key, value) in bad {
        assert!(with_yaml(key, value).is_err(), "{key}: {value}");
    }
}

#[test]
fn hardening_keys_sit_in_struct_order() {
    let service = json!({
        "user": "1000",
        "tmpfs": ["/tmp"],
        "security_opt": ["no-new-privileges:true"],
        "secrets": ["s"],
        "restart": "always",
        "read_only": true,
        "ports": ["80:80"],
        "pids_limit": 256,
        "mem_limit": "512m",
        "image": "x",
        "cpus": 0.5,
        "cap_drop": ["ALL"],
        "cap_add": ["CHOWN", "SETUID"],
    });
    let text = service_json(&service, Path::new("/p")).unwrap();
    let expected = concat!(
        r#"{"cap_add":["CHOWN","SETUID"],"cap_drop":["ALL"],"cpus":0.5,"command":null,"#,
        r#""entrypoint":null,"image":"x","mem_limit":"536870912","networks":{"default":null},"#,
        r#""pids_limit":256,"ports":[{"mode":"ingress","target":80,"published":"80","protocol":"tcp"}],"#,
        r#""read_only":true,"restart":"always","secrets":[{"source":"s","target":"/run/secrets/s"}],"#,
        r#""security_opt":["no-new-privileges:true"],"tmpfs":["/tmp"],"user":"1000"}"#,
    );
    assert_eq!(text, expected);
}

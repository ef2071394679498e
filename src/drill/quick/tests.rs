use super::*;

const RENDERED: &str = r#"groups:
  - name: redis
    rules:
      - alert: "RedisDown"
        expr: "redis_up == 0"
        for: "1m"
        labels:
          severity: "critical"
      - alert: "RedisHighLatency"
        expr: "rate(x[5m]) > 10"
        for: "5m"
        labels:
          severity: "warning"
      - alert: "RedisLowThroughput"
        expr: "rate(y[5m]) < 1 and max_over_time(rate(y[5m])[1h:1m]) >= 1"
        for: "10m"
      - alert: "RedisSlowlogGrowing"
        expr: "rate(z[5m]) > 5"
        for: "10m"
"#;

#[test]
fn the_drill_rules_shorten_the_induced_alerts_only() {
    let text = super::rules_with(RENDERED, "redis", 15.0, Vec::new()).unwrap();
    let rules: Value = crate::yaml::from_str(&text).unwrap();
    let group = &rules["groups"][0];
    assert_eq!(group["name"], "stackgen-drill-quick-redis");
    let rule = |i: usize| &group["rules"][i];
    assert_eq!(rule(0)["expr"], "redis_up{target=\"redis\"} == 0");
    assert_eq!(rule(0)["for"], "0s");
    assert_eq!(rule(0)["labels"]["severity"], "critical");
    assert_eq!(rule(1)["labels"]["drill"], "quick");
    // Induced: the window divided by 15, no `for`.
    assert_eq!(rule(1)["expr"], "rate(x{target=\"redis\"}[20s]) > 10");
    assert_eq!(rule(1)["for"], "0s");
    // A subquery's hour and step stay: the busy hour it looks back over.
    assert_eq!(
        rule(2)["expr"],
        "rate(y{target=\"redis\"}[20s]) < 1 and max_over_time(rate(y{target=\"redis\"}[20s])[1h:1m]) >= 1"
    );
    // Not induced: its window and `for` as rendered.
    assert_eq!(rule(3)["expr"], "rate(z{target=\"redis\"}[5m]) > 5");
    assert_eq!(rule(3)["for"], "10m");
    assert_eq!(
        rendered_fors(RENDERED).unwrap(),
        [
            ("RedisDown".into(), 60.0),
            ("RedisHighLatency".into(), 300.0),
            ("RedisLowThroughput".into(), 600.0),
            ("RedisSlowlogGrowing".into(), 600.0)
        ]
    );
}

/// The rendered rules of a stack with the managed Redis and two more targets, in one
/// replication group.
fn fleet_rules() -> String {
    let mut text = String::from("[stack]\nname = \"t\"\n");
    for name in ["fleet-01", "fleet-02"] {
        text.push_str(&format!(
            "[[targets]]\nname = \"{name}\"\naddress = \"redis://{name}:6379\"\n\
             labels = {{ replication_group = \"g1\" }}\n"
        ));
    }
    let (_, tree) = super::super::site::tests::stack_and_tree(&text);
    tree[super::RENDERED].clone()
}

use promql_parser::parser::LabelModifier;

/// Every selector of `expr`.
fn selectors(expr: &Expr) -> Vec<&promql_parser::parser::VectorSelector> {
    match expr {
        Expr::VectorSelector(selector) => vec![selector],
        Expr::MatrixSelector(matrix) => vec![&matrix.vs],
        Expr::Aggregate(a) => selectors(&a.expr),
        Expr::Binary(b) => [selectors(&b.lhs), selectors(&b.rhs)].concat(),
        Expr::Unary(u) => selectors(&u.expr),
        Expr::Paren(p) => selectors(&p.expr),
        Expr::Subquery(s) => selectors(&s.expr),
        Expr::Call(c) => c.args.args.iter().flat_map(|a| selectors(a)).collect(),
        _ => Vec::new(),
    }
}

fn value_of<'a>(selector: &'a promql_parser::parser::VectorSelector, label: &str) -> Vec<&'a str> {
    selector
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name == label && m.op == MatchOp::Equal)
        .map(|m| m.value.as_str())
        .collect()
}

#[test]
fn the_quick_copies_of_a_fleet_stack_watch_the_drill_target_only() {
    let rendered = fleet_rules();
    let copies: Value =
        crate::yaml::from_str(&rules_with(&rendered, "redis", 15.0, Vec::new()).unwrap()).unwrap();
    let copies: Vec<&Value> = copies["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(copies.len(), rendered_fors(&rendered).unwrap().len());
    let mut seen = Vec::new();
    for copy in copies {
        let alert = copy["alert"].as_str().unwrap();
        let expr = parse(copy["expr"].as_str().unwrap()).unwrap();
        let subject = subject(alert).unwrap();
        seen.push(subject);
        match subject {
            Subject::Redis | Subject::Command | Subject::Sentinel => {
                for selector in selectors(&expr) {
                    let targets = value_of(selector, TARGET_LABEL);
                    assert_eq!(targets, ["redis"], "{alert}: {selector}");
                }
            }
            // The stack's own jobs: series about no target of the fleet.
            Subject::Job(_) => {
                for selector in selectors(&expr) {
                    let jobs = value_of(selector, "job");
                    assert!(
                        !jobs.is_empty() && !jobs.contains(&"redis"),
                        "{alert}: {expr}"
                    );
                }
            }
            Subject::Group
            | Subject::SentinelGroup(_)
            | Subject::Cluster
            | Subject::ClusterNode => {
                let Expr::Binary(and) = &expr else {
                    panic!("{alert}: {expr}")
                };
                let on = and.modifier.as_ref().and_then(|m| m.matching.as_ref());
                let Some(LabelModifier::Include(on)) = on else {
                    panic!("{alert}: {expr}")
                };
                assert_eq!(on.labels, [GROUP_LABEL], "{alert}: {expr}");
                let Expr::VectorSelector(target) = &*and.rhs else {
                    panic!("{alert}: {expr}")
                };
                assert_eq!(value_of(target, TARGET_LABEL), ["redis"], "{alert}: {expr}");
            }
        }
    }
    for subject in [Subject::Redis, Subject::Group] {
        assert!(seen.contains(&subject), "{subject:?}");
    }
    assert!(seen.iter().any(|s| matches!(s, Subject::Job(_))));
}

/// A `promtool test rules` file that proves the drill's copies (`quick.yml`, from
/// [`rules_with`] on the managed target) fire where the rendered rules
/// (`redis-alerts.yml`) fire, and stay silent where they do: the catalogue's scenarios of every
/// alert the drill induces, sampled at the exporter's scrape interval, for both.
fn equivalence(stack: &crate::model::Stack) -> Result<String> {
    let induced: Vec<AlertKind> = (AlertKind::ALL.iter().copied())
        .filter(|kind| super::super::order::induced(*kind))
        .collect();
    let step = stack.redis_exporter.scrape_interval.millis();
    let files = ["redis-alerts.yml", "quick.yml"].map(String::from).to_vec();
    let replay = crate::render::rules::replay::replay(stack, &induced, step, LABEL, files)
        .map_err(Error::QuickRules)?;
    let text = crate::yaml::to_string(&replay).map_err(Error::QuickRules)?;
    Ok(format!(
        "# The drill's quick copies fire where the rendered rules fire.\n\
     # Run with: promtool test rules <this file>\n{text}"
    ))
}

/// The drill's copies, proven to fire where the rendered rules fire by promtool on the
/// catalogue's scenarios sampled at the scrape interval: on the example stack, on one that
/// rejects writes and scrapes every 5 s, and on one with long `for`s and a 15 s scrape. A
/// copy whose threshold drifted fails it.
#[test]
fn the_quick_copies_fire_where_the_rendered_rules_fire() {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stack.toml"),
    )
    .unwrap();
    let stacks = [
        example,
        "[stack]\nname = \"t\"\n[redis]\nmaxmemory_policy = \"noeviction\"\n\
         [redis_exporter]\nscrape_interval = \"5s\"\n"
            .into(),
        "[stack]\nname = \"t\"\n[redis_exporter]\nscrape_interval = \"15s\"\n\
         [alerts.memory_pressure]\nfor = \"20m\"\n[alerts.high_error_rate]\nfor = \"15m\"\n"
            .into(),
    ];
    for text in &stacks {
        let (stack, tree) = super::super::site::tests::stack_and_tree(text);
        let rendered = &tree[super::RENDERED];
        let scale = super::super::timing::Timing::new(&stack, true).scale();
        let copies = rules_with(rendered, "redis", scale, Vec::new()).unwrap();
        let test = equivalence(&stack).unwrap();
        assert!(
            test.contains("RedisLowThroughput: the copy fires"),
            "{test}"
        );
        let run = |copies: &str| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("redis-alerts.yml"), rendered).unwrap();
            std::fs::write(dir.path().join("quick.yml"), copies).unwrap();
            std::fs::write(dir.path().join("equivalence.test.yml"), &test).unwrap();
            std::process::Command::new("promtool")
                .args(["test", "rules", "equivalence.test.yml"])
                .current_dir(dir.path())
                .output()
                .expect("promtool runs (apt-get install prometheus)")
        };
        let passed = run(&copies);
        assert!(passed.status.success(), "{passed:?}\n{test}");
        // The copy of RedisHighErrorRate with a threshold ten times higher: it no longer
        // fires where the rule does, and promtool says so.
        let drifted: Vec<String> = (copies.lines())
            .map(|line| match line.contains("redis_total_error_replies") {
                true => line.replace(") > 1", ") > 10"),
                false => line.to_string(),
            })
            .collect();
        let drifted = drifted.join("\n");
        assert_ne!(drifted, copies);
        let failed = run(&drifted);
        assert!(!failed.status.success(), "{failed:?}");
        let said = [failed.stdout, failed.stderr].concat();
        let said = String::from_utf8_lossy(&said);
        assert!(said.contains("RedisHighErrorRate"), "{said}");
    }
}

/// Prometheus' own checker reads the drill's rule file.
#[test]
fn promtool_accepts_the_quick_copies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quick.yml");
    std::fs::write(
        &path,
        rules_with(&fleet_rules(), "fleet-01", 7.5, Vec::new()).unwrap(),
    )
    .unwrap();
    let checked = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .expect("promtool runs (apt-get install prometheus)");
    assert!(checked.status.success(), "{checked:?}");
}

#[test]
fn the_target_name_is_escaped_for_promql() {
    let name = "we\"ird\\name\n";
    let text = only_target("rate(redis_x[5m]) > 1", Subject::Redis, name).unwrap();
    let expr = parse(&text).unwrap();
    let all = selectors(&expr);
    assert_eq!(value_of(all[0], TARGET_LABEL), [name], "{text}");
    let text = only_target("count(redis_up)", Subject::Group, name).unwrap();
    assert!(parse(&text).is_ok(), "{text}");
    let or = only_target("redis_up{a=\"1\" or b=\"2\"}", Subject::Redis, "r").unwrap();
    assert_eq!(
        or,
        "redis_up{a=\"1\", target=\"r\" or b=\"2\", target=\"r\"}"
    );
}

#[test]
fn the_archive_is_one_tar_stream_that_tar_reads() {
    let archive = tar(&[("drill/", None), ("drill/quick.yml", Some(b"groups: []\n"))]);
    assert_eq!(archive.len() % 512, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar");
    std::fs::write(&path, &archive).unwrap();
    let listed = std::process::Command::new("tar")
        .args(["-tvf"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("drill/quick.yml"), "{text}");
    assert!(text.contains("-rw-r--r--"), "{text}");
}

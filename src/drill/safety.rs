//! The drill's safety rules that can refuse a run: a profile whose policy is prod's is refused
//! without `--allow-prod`, before the drill connects to anything; a Redis that holds keys that
//! are not the drill's is not filled without `--allow-eviction`, since filling could evict
//! them. (That only drill keys are written, all of them removed and everything changed restored
//! is the journal's and the runner's part.)

use super::{Error, Result, Scenario, load};
use crate::model::Stack;
use crate::model::raw::PolicyLevel;

/// Refuses a profile whose policy is prod's, unless `--allow-prod` says to run anyway.
pub(crate) fn prod_policy(stack: &Stack, allow_prod: bool) -> Result<()> {
    if stack.policy.level == PolicyLevel::Error && !allow_prod {
        return Err(Error::refused(
            "its policy is prod's (`level = \"error\"`): a drill loads Redis and writes keys; \
             pass --allow-prod to run it anyway",
        ));
    }
    Ok(())
}

/// Refuses `failover` on a stack without Sentinel (there is no failover to drill), and
/// anywhere but last (the scenarios after it would load the node it demoted).
pub(crate) fn failover(stack: &Stack, scenarios: &[Scenario]) -> Result<()> {
    let Some(at) = scenarios.iter().position(|s| *s == Scenario::Failover) else {
        return Ok(());
    };
    if stack.redis.sentinel.is_none() {
        return Err(Error::refused(
            "`failover` needs the managed Redis watched by Sentinel (`[redis] replicas` and \
             `[redis.sentinel] enabled = true`): this stack has no failover to drill",
        ));
    }
    if at + 1 != scenarios.len() {
        return Err(Error::refused(
            "`failover` changes which node is the primary: name it last",
        ));
    }
    Ok(())
}

/// Whether the scenarios may fill Redis. Unless `--allow-eviction` accepts it, a Redis that
/// holds other keys (or cannot say) is not filled: a scenario that fills it refuses the whole
/// run; `alerts` alone runs without evictions, and gets why (`Some`).
pub(crate) async fn eviction_guard(
    client: &redis::Client,
    scenarios: &[Scenario],
    allow_eviction: bool,
) -> Result<Option<Error>> {
    let fills = scenarios.iter().any(|s| s.fills());
    if allow_eviction || !(fills || scenarios.contains(&Scenario::Alerts)) {
        return Ok(None);
    }
    match no_other_keys(client).await {
        Ok(()) => Ok(None),
        Err(why) if fills => Err(why),
        Err(why) => Ok(Some(why)),
    }
}

/// Filling Redis could evict keys that are not the drill's: there must be none.
async fn no_other_keys(client: &redis::Client) -> Result<()> {
    let others = load::other_keys(client)
        .await
        .map_err(Error::redis("Redis"))?;
    if others > 0 {
        let others = crate::printer::plural(usize::try_from(others).unwrap_or(usize::MAX), "key");
        return Err(Error::refused(format!(
            "Redis holds {others} that are not the drill's, which filling it could evict; \
             pass --allow-eviction to fill it anyway"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_needs_sentinel_and_comes_last() {
        let plain = crate::model::resolve::tests::from_text("[stack]\nname = \"t\"\n").unwrap();
        let watched = crate::model::resolve::tests::from_text(
            "[stack]\nname = \"t\"\n[redis]\nreplicas = 1\n[redis.sentinel]\nenabled = true\n",
        )
        .unwrap();
        let (last, first) = (
            [Scenario::Baseline, Scenario::Failover],
            [Scenario::Failover, Scenario::Baseline],
        );
        assert!(failover(&plain, Scenario::ALL).is_ok());
        let refused = failover(&plain, &[Scenario::Failover])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("has no failover to drill"), "{refused}");
        assert!(failover(&watched, &last).is_ok());
        let refused = failover(&watched, &first).unwrap_err().to_string();
        assert!(refused.contains("name it last"), "{refused}");
    }

    #[test]
    fn a_prod_policy_profile_needs_allow_prod() {
        let dir = tempfile::tempdir().unwrap();
        let (mut stack, _) =
            super::super::site::tests::rendered("[stack]\nname = \"t\"\n", dir.path());
        assert!(prod_policy(&stack, false).is_ok());
        stack.policy.level = PolicyLevel::Error;
        let refused = prod_policy(&stack, false).unwrap_err();
        assert!(
            refused
                .to_string()
                .ends_with("pass --allow-prod to run it anyway")
        );
        assert!(prod_policy(&stack, true).is_ok());
    }
}

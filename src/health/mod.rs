//! Health: what each service of a running stack answers, asked from this machine the way an
//! operator would, by `up` (to decide when a service is ready and wired), `status` (to show
//! it) and `drill` (to watch Prometheus and Alertmanager). It reaches services at their
//! published ports only; it never asks the engine anything: the caller says where each
//! service listens and when its container started. Async, time-limited calls; a password used
//! to log in never appears in what a check reports.
//!
//! - [`http`]: the HTTP client (hyper's), with basic auth and a whole-request time limit.
//! - [`redis`]: a Redis client, and `PING` with and without the password.
//! - [`checks`]: what each service must answer to be ready and wired.
//! - [`targets`]: Prometheus' targets judged up, down or pending.
//! - [`fleet`]: each Redis target as the exporter reports it, and why one is down.

pub(crate) mod checks;
pub(crate) mod cluster;
pub(crate) mod fleet;
pub(crate) mod http;
pub(crate) mod redis;
pub(crate) mod roles;
pub(crate) mod targets;

pub(crate) use checks::Checks;
pub(crate) use fleet::TargetStatus;
pub(crate) use targets::{PendingTarget, Started};

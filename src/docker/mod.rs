//! The Docker layer: `up` (observe → plan → execute), `down` and `status`, through the
//! engine's API (bollard). It runs what `generated/<profile>/compose.yaml` says; secrets reach
//! containers as read-only files copied into a private runtime folder, never as argv or
//! environment text. Nothing here renders or parses `stack.toml`: the commands hand it a
//! [`StackSpec`](spec::StackSpec) and a [`Context`].
//!
//! Where things live, each part pure where it can be and tested beside its code:
//!
//! - [`spec`]: the stack as the engine should run it (plain records);
//!   [`compose`] reads it from `compose.yaml`.
//! - [`compose_hash`]: compose's `config-hash` of a service, computed without compose.
//! - [`engine`]: connecting, the API version check, engine errors.
//! - [`images`]: image ids and users; pulls.
//! - [`secrets`]: secret values, their runtime copies, redaction.
//! - [`fingerprints`]: the spec, config, secret and mount hashes that decide what changes.
//! - [`applied`]: `applied.json`, what each container last ran with.
//! - [`labels`]: Docker Compose's labels, so that compose and stackgen each take over what
//!   the other started.
//! - [`observe`]: the project's containers, networks and volumes, by label.
//! - [`plan`]: what to create, recreate, restart, reload, keep or remove; no I/O.
//! - [`container`]: a container's create body.
//! - [`execute`]: carrying out a plan, wave by wave; [`ready`]: when a container is ready.
//! - [`up`]: the phases of `up`, in order; [`down`]: `down`, and removing a container.
//! - [`status`]: `status`, each container's state beside what its service answers (the
//!   checks themselves are [`crate::health`]'s; they never ask the engine).
//! - [`password_map`]: the exporter's password map, assembled from the targets' secrets.

pub(crate) mod applied;
pub mod compose;
pub mod compose_hash;
pub(crate) mod container;
pub(crate) mod down;
pub(crate) mod engine;
pub(crate) mod execute;
pub(crate) mod fingerprints;
pub(crate) mod images;
pub(crate) mod impact;
pub(crate) mod labels;
pub(crate) mod observe;
pub(crate) mod password_map;
pub(crate) mod plan;
pub(crate) mod ready;
pub(crate) mod reload;
pub mod secrets;
pub mod spec;
pub(crate) mod status;
pub(crate) mod up;

pub(crate) use down::down;
pub(crate) use engine::Engine;
pub(crate) use execute::UpReport;
pub(crate) use up::{Context, PasswordMapPlan, UpOptions, up};

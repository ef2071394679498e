//! The one integration test binary: every module runs the real `stackgen` binary, and the
//! real tools that read its output.

// A test binary exposes nothing: its helpers are `pub` for the modules beside them.
#![allow(unreachable_pub)]

mod support;

mod bad_input;
mod cli;
mod cluster;
mod compose_hash;
mod day_one;
mod diff;
mod drill;
mod drill_alerts;
mod e2e;
mod first_hour;
mod fleet;
mod golden;
mod heartbeat;
mod injection;
mod interop;
mod kubernetes;
mod lint;
mod long_for;
mod password_map;
mod real_tools;
mod roundtrip;
mod secrets;
mod security;
mod topology;

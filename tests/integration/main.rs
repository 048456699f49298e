//! Integration tests: the real `versus` binary and the real plugins, built
//! from source by `host/build.rs`. One test binary, one module per area.

mod alertmanager;
mod api_more;
mod cli;
mod common;
mod deploy;
mod docs;
mod escalation;
mod faults;
mod gateway;
mod harden_rig;
mod incidents;
mod ingest_auth;
mod limits;
mod log_secrets;
mod metrics;
mod observability;
mod oncall;
mod oncall_more;
mod oncall_race;
mod oncall_rig;
mod polyglot;
mod prometheus;
mod prometheus_e2e;
mod redis_tls;
mod reload;
mod sandbox;
mod shutdown;
mod slack_emulator;
mod ssm_emulator;
mod ssrf;

//! Integration tests: the real `versus` binary and the real plugins, built
//! from source by `host/build.rs`. One test binary, one module per area.

mod alertmanager;
mod api_more;
mod chat_channels;
mod chat_emulator;
mod chat_rig;
mod cli;
mod common;
mod email;
mod escalation;
mod gateway;
mod incidents;
mod metrics;
mod oncall;
mod oncall_more;
mod oncall_race;
mod oncall_rig;
mod redis_tls;
mod reload;
mod sandbox;
mod slack_emulator;
mod smtp_server;
mod ssm_emulator;
mod telegram;

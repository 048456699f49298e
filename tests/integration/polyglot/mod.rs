//! Channel plugins written in JavaScript and Python, built from source by
//! `scripts/build-polyglot-plugins`, loaded by the real `versus` binary from
//! `plugins.dir` through a `channels:` entry.

mod build;
mod receiver;
mod tests;

//! Channel plugins (and an on-call escalator) written in JavaScript and Python, built from source by
//! `scripts/build-polyglot-plugins`, loaded by the real `versus` binary from
//! `plugins.dir` through a `channels:` entry.

mod build;
mod escalator;
mod receiver;
mod tests;

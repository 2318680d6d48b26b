//! Server-level integration tests: each test starts a real platform on a free port and talks to
//! it over HTTP. One test binary (modules below) keeps link time down.

// The platform's closures return `Result<_, ApiError>` (see the allow in server/src/lib.rs).
#![allow(clippy::result_large_err)]

mod common;

mod access_rules;
mod ai;
mod auth;
mod auth_hardening;
mod cache;
mod cleanup;
mod cli;
mod collections;
mod connections;
mod custom_public;
mod dashboard;
mod db;
mod db_isolation;
mod db_limits;
mod db_stream;
mod durability;
mod error_bodies;
mod gateway;
mod gateway_wallet;
mod hooks_rpc;
mod idempotency;
mod isolation;
mod misc;
mod openapi;
mod persistence;
mod private_objects;
mod queue;
mod ratelimit;
mod realtime;
mod realtime_compat;
mod realtime_limits;
mod search;
mod sql_guard;
mod sqlite_memory;
mod storage;

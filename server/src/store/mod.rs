//! SQLite storage: the control database (platform tables, every row keyed by project) and one
//! database per project for the user's own SQL.

pub mod cache;
pub mod collections;
pub mod control;
pub mod dev_vars;
pub mod gateway;
pub mod job_writer;
pub mod jobs;
pub mod memory;
pub mod objects;
pub mod outbox;
pub mod pool;
pub mod project_db;
pub mod rules;
pub mod search;
pub mod sql_error;
pub mod sql_guard;
pub mod users;

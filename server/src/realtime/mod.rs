//! Realtime: the `/api/realtime` WebSocket (subscriptions, publish, presence, db changes) and
//! `POST /v1/realtime/emit`. The protocol is documented in docs/realtime.md.

pub mod db_changes;
pub mod emit;
pub mod filter;
pub mod frames;
pub mod hub;
pub mod presence;
pub mod socket;
pub mod store;
pub mod topics;

pub use hub::Hub;

//! ActivityPub objects: wire structs (what peers send and we emit) and the
//! database rows behind them.

pub mod group;
pub mod note;
pub mod person;

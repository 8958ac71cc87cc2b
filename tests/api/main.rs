//! Integration tests of the REST API against a real Confab server on port 0,
//! each on its own SQLite file and, when PostgreSQL answers (always in CI),
//! again on its own PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(dead_code)] // shared with federation-tests, which uses `federation`
mod doc_examples;
mod ws_client;

mod abuse;
mod accounts;
mod apub;
mod auth;
mod chat;
mod docs;
mod errors;
mod formatting;
mod history;
mod ip_rules;
mod limits;
mod media;
mod mentions;
mod operations;
mod ordering;
mod pins;
mod previews;
mod reactions;
mod receipts;
mod remote_media;
mod reports;
mod roles;
mod search;
mod signatures;
mod stickers;
mod users;
mod web;

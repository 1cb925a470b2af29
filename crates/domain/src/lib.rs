//! The rules of Casework: services as definition files, cases, their workflow, events, the
//! shared plan, messages, the working-day calendar for SLAs and outbound webhooks.
//!
//! This crate is pure. It must not depend on I/O, async, HTTP, SQL or a clock: callers pass
//! `now` and data in, and get decisions back (a changed case, the events to append, the jobs to
//! schedule). That keeps every rule testable with plain unit and property tests.

pub mod calendar;
pub mod case;
pub mod inbound;
pub mod message;
pub mod open311;
pub mod plan;
pub mod service;
pub mod webhook;

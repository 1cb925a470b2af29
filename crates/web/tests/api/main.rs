//! The JSON API, end to end: the real server on a random port, on SQLite and on PostgreSQL.

mod helpers;

mod cases_change;
mod cases_create;
mod cases_list;
mod messages;
mod openapi;
mod plan;
mod services;
mod webhooks;

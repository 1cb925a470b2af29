//! The staff pages, end to end: the real server on a random port, on SQLite and on PostgreSQL,
//! signed in through the sign-in page, read as HTML.

mod helpers;

mod admin;
mod assets;
mod bulk;
mod case;
mod roles;
mod teams;
mod worktray;

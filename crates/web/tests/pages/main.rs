//! The staff pages and the resident pages, end to end: the real server on a random port, on
//! SQLite and on PostgreSQL, read as HTML (staff signed in through the sign-in page).

mod helpers;

mod admin;
mod assets;
mod bulk;
mod case;
mod intake;
mod messages;
mod plan;
mod plan_editor;
mod replies;
mod resident_plan;
mod roles;
mod teams;
mod webhooks;
mod worktray;

//! Open311 GeoReport v2, end to end: the real server on a random port, on SQLite and on
//! PostgreSQL, in JSON and in XML.

mod helpers;

mod conformance;
mod errors;
mod requests;
mod services;
mod updates;

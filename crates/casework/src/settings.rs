//! `casework config`: every setting, its value and where the value came from, with secrets
//! masked; and the variable to blame when clap refuses a value.

use std::error::Error as _;
use std::ffi::OsStr;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use crate::config::Config;
use crate::senders::Channels;

/// What `casework config` prints in place of a secret.
const MASK: &str = "********";

/// One line per setting that can come from a variable: the variable, the effective value
/// and its source.
pub fn describe(
    root: &Command,
    subcommand: &str,
    matches: &ArgMatches,
    config: &Config,
    channels: &Channels,
) -> String {
    // The secrets that may come from a file: (argument, file, value read from it).
    let files = [
        (
            "database_url",
            &config.database_url_file,
            Some(&config.database_url),
        ),
        (
            "notify_api_key",
            &channels.notify_api_key_file,
            channels.notify_api_key.as_ref(),
        ),
    ];
    let arguments = root.get_arguments().chain(
        root.find_subcommand(subcommand)
            .into_iter()
            .flat_map(Command::get_arguments),
    );
    let mut rows = Vec::new();
    for argument in arguments {
        let Some(variable) = argument.get_env().and_then(OsStr::to_str) else {
            continue;
        };
        let id = argument.get_id().as_str();
        let from_file = files.iter().find_map(|(name, file, value)| {
            let file = file.as_ref().filter(|_| *name == id)?;
            Some((value.cloned().unwrap_or_default(), file))
        });
        let (value, source) = if let Some((value, file)) = from_file {
            (
                value,
                format!("file in {variable}_FILE ({})", file.display()),
            )
        } else {
            let value = matches.get_raw(id).map_or_else(
                || "(not set)".to_owned(),
                |values| {
                    values
                        .map(|v| v.to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join(",")
                },
            );
            let source = match matches.value_source(id) {
                Some(ValueSource::DefaultValue) => "default",
                Some(ValueSource::EnvVariable) => "environment",
                Some(ValueSource::CommandLine) => "command line",
                _ => "default",
            };
            (value, source.to_owned())
        };
        rows.push((variable.to_owned(), mask(variable, &value), source));
    }
    let (log_filter, log_source) = match std::env::var("RUST_LOG") {
        Ok(filter) => (filter, "environment"),
        Err(_) => (crate::telemetry::DEFAULT_LOG_FILTER.to_owned(), "default"),
    };
    rows.push(("RUST_LOG".into(), log_filter, log_source.into()));
    let width = rows.iter().map(|(name, ..)| name.len()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|(_, value, _)| value.len())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(name, value, source)| format!("{name:<width$}  {value:<value_width$}  ({source})\n"))
        .collect()
}

/// The value, or as much of it as may be shown: a URL without its password, nothing of a key.
fn mask(variable: &str, value: &str) -> String {
    if variable.ends_with("_URL") || variable.ends_with("_ENDPOINT") {
        return mask_url(value);
    }
    let secret = ["KEY", "SECRET", "PASSWORD", "TOKEN"]
        .iter()
        .any(|word| variable.contains(word));
    if secret && value != "(not set)" {
        MASK.to_owned()
    } else {
        value.to_owned()
    }
}

/// A URL with the password in its user part and any `password=` parameter masked.
fn mask_url(url: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let mut masked = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let authority = match authority.rsplit_once('@') {
                Some((user_info, host)) => match user_info.split_once(':') {
                    Some((user, _)) => format!("{user}:{MASK}@{host}"),
                    None => format!("{user_info}@{host}"),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                    format!("{name}={MASK}")
                }
                _ => pair.to_owned(),
            })
            .collect();
        masked = format!("{masked}?{}", pairs.join("&"));
    }
    masked
}

/// clap names a refused value by its flag (`--listen <LISTEN>`), though operators set the
/// variable. This names the variable too.
pub fn explain(error: &clap::Error, root: &Command) -> Option<String> {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(flag)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = flag.strip_prefix("--")?.split(' ').next()?;
    let variable = std::iter::once(root)
        .chain(root.get_subcommands())
        .flat_map(Command::get_arguments)
        .find(|argument| argument.get_long() == Some(long))?
        .get_env()?
        .to_str()?
        .to_owned();
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    let reason = match (error.source(), error.get(ContextKind::ValidValue)) {
        (Some(source), _) => source.to_string(),
        (None, Some(ContextValue::Strings(valid))) => format!("use one of {}", valid.join(", ")),
        (None, _) => "not a valid value".to_owned(),
    };
    Some(format!(
        "{variable} (or --{long}) is not right: {value:?}: {reason}"
    ))
}

#[cfg(test)]
mod tests {
    use super::{mask, mask_url};

    #[test]
    fn masks_passwords_in_urls() {
        assert_eq!(
            mask_url("postgres://casework:s3cret@db:5432/casework?sslmode=require"),
            "postgres://casework:********@db:5432/casework?sslmode=require"
        );
        assert_eq!(
            mask_url("postgres://casework@db/casework?password=s3cret&max_connections=9"),
            "postgres://casework@db/casework?password=********&max_connections=9"
        );
        assert_eq!(mask_url("sqlite:casework.db"), "sqlite:casework.db");
        assert_eq!(
            mask_url("postgres://u:p@ss@db/x"),
            "postgres://u:********@db/x"
        );
    }

    #[test]
    fn masks_keys_whole() {
        assert_eq!(mask("CASEWORK_NOTIFY_API_KEY", "abc"), "********");
        assert_eq!(mask("CASEWORK_LISTEN", "0.0.0.0:8080"), "0.0.0.0:8080");
        assert_eq!(mask("CASEWORK_SMTP_PASSWORD", "(not set)"), "(not set)");
        assert_eq!(
            mask(
                "CASEWORK_OTEL_ENDPOINT",
                "https://casework:s3cret@otel.example"
            ),
            "https://casework:********@otel.example"
        );
    }
}

//! Loading the service definition files and the council's closure days from disk.

use std::path::Path;

use casework_domain::calendar::{CalendarError, WorkingCalendar, parse_closure_days};
use casework_domain::service::{Problem, ServiceCatalogue};

/// Reads every `*.toml` file in `dir` (in name order), and returns the catalogue or every
/// problem found in every file.
pub fn load_services(dir: &Path) -> Result<ServiceCatalogue, Vec<Problem>> {
    let dir_name = dir.display().to_string();
    let unreadable = |message: String| {
        vec![Problem {
            file: dir_name.clone(),
            line: 0,
            message,
        }]
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| unreadable(format!("cannot read the services folder: {e}")))?;
    let mut paths: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(unreadable(
            "no service definitions (*.toml) in the services folder".into(),
        ));
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((file, text)),
            Err(e) => problems.push(Problem {
                file,
                line: 0,
                message: format!("cannot read the file: {e}"),
            }),
        }
    }
    let catalogue =
        ServiceCatalogue::from_files(files.iter().map(|(f, t)| (f.as_str(), t.as_str())));
    match catalogue {
        Ok(catalogue) if problems.is_empty() => Ok(catalogue),
        Ok(_) => Err(problems),
        Err(found) => {
            problems.extend(found);
            Err(problems)
        }
    }
}

/// The England and Wales calendar, plus the council's closure days from `closure_days` if given.
pub fn load_calendar(closure_days: Option<&Path>) -> Result<WorkingCalendar, String> {
    let calendar = WorkingCalendar::england_and_wales();
    let Some(path) = closure_days else {
        return Ok(calendar);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the closure days: {e}", path.display()))?;
    let days = parse_closure_days(&text).map_err(|CalendarError::BadLine { line, message }| {
        format!("{}:{line}: {message}", path.display())
    })?;
    Ok(calendar.with_closure_days(days))
}

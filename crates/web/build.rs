//! Builds the pages' front-end assets: installs govuk-frontend and @ministryofjustice/frontend
//! from npm (`frontend/package.json` and its lock file), copies their compiled CSS, JavaScript,
//! fonts and images with our own few files into `$OUT_DIR/assets`, where rust-embed embeds them,
//! and names the set by a hash of its content so that browsers may cache it for ever.
//!
//! Node.js and npm are needed to build, never to run: `casework serve` serves what is embedded.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Files copied from `frontend/node_modules`: (source, name under `assets/`).
const PACKAGE_FILES: &[(&str, &str)] = &[
    (
        "govuk-frontend/dist/govuk/govuk-frontend.min.css",
        "govuk-frontend.min.css",
    ),
    (
        "govuk-frontend/dist/govuk/govuk-frontend.min.js",
        "govuk-frontend.min.js",
    ),
    (
        "@ministryofjustice/frontend/moj/moj-frontend.min.css",
        "moj-frontend.min.css",
    ),
    (
        "@ministryofjustice/frontend/moj/moj-frontend.min.js",
        "moj-frontend.min.js",
    ),
];

/// Folders copied whole: (source, folder under `assets/`). MOJ's images go beside GOV.UK's
/// because both stylesheets ask for `/assets/images/...`; their names do not overlap (checked
/// below).
const PACKAGE_FOLDERS: &[(&str, &str)] = &[
    ("govuk-frontend/dist/govuk/assets/fonts", "fonts"),
    ("govuk-frontend/dist/govuk/assets/images", "images"),
    ("@ministryofjustice/frontend/moj/assets/images", "images"),
];

/// Written into `node_modules` after a successful `npm ci`: a copy of the lock file it installed.
const STAMP: &str = ".casework-installed-lock.json";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let frontend = manifest_dir.join("../../frontend");
    let own_assets = manifest_dir.join("assets");
    let lock = frontend.join("package-lock.json");
    println!(
        "cargo::rerun-if-changed={}",
        frontend.join("package.json").display()
    );
    println!("cargo::rerun-if-changed={}", lock.display());
    println!("cargo::rerun-if-changed={}", own_assets.display());

    let node_modules = frontend.join("node_modules");
    install(&frontend, &node_modules, &lock);

    let out = PathBuf::from(env("OUT_DIR")).join("assets");
    if out.exists() {
        fs::remove_dir_all(&out).unwrap_or_else(|e| panic!("clearing {}: {e}", out.display()));
    }
    for (source, name) in PACKAGE_FILES {
        copy(&node_modules.join(source), &out.join(name));
    }
    for (source, folder) in PACKAGE_FOLDERS {
        for entry in read_dir(&node_modules.join(source)) {
            let target = out.join(folder).join(entry.file_name());
            assert!(
                !target.exists(),
                "two packages ship {}: pick one in crates/web/build.rs",
                target.display()
            );
            copy(&entry.path(), &target);
        }
    }
    for entry in read_dir(&own_assets) {
        copy(&entry.path(), &out.join(entry.file_name()));
    }
    for stylesheet in ["govuk-frontend.min.css", "moj-frontend.min.css"] {
        relative_urls(&out.join(stylesheet));
    }
    println!("cargo::rustc-env=CASEWORK_ASSETS_VERSION={}", version(&out));
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}

/// Runs `npm ci` unless `node_modules` already holds what the lock file names.
fn install(frontend: &Path, node_modules: &Path, lock: &Path) {
    let wanted = fs::read(lock).unwrap_or_else(|e| panic!("reading {}: {e}", lock.display()));
    if fs::read(node_modules.join(STAMP)).is_ok_and(|installed| installed == wanted) {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(frontend)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "Casework's pages are built from npm packages, so building needs Node.js and npm \
                 on the PATH (on Debian: apt-get install nodejs npm). Running `npm ci` in {} \
                 failed: {e}",
                frontend.display()
            )
        });
    assert!(
        status.success(),
        "`npm ci` in {} failed ({status}); its output is above",
        frontend.display()
    );
    fs::write(node_modules.join(STAMP), wanted).expect("writing the npm install stamp");
}

fn read_dir(dir: &Path) -> Vec<fs::DirEntry> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry"))
        .filter(|entry| entry.path().is_file())
        .collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    entries
}

fn copy(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    fs::copy(from, to).unwrap_or_else(|e| {
        panic!(
            "copying {} to {}: {e} (is frontend/package.json's version the one whose paths \
             crates/web/build.rs names?)",
            from.display(),
            to.display()
        )
    });
}

/// The compiled stylesheets ask for `url(/assets/fonts/..)` and `url(/assets/images/..)`. The
/// assets are served under a versioned folder instead, so those become relative to the
/// stylesheet, which sits in that folder.
fn relative_urls(stylesheet: &Path) {
    let css = fs::read_to_string(stylesheet)
        .unwrap_or_else(|e| panic!("reading {}: {e}", stylesheet.display()));
    assert!(
        css.contains("url(/assets/"),
        "{} no longer asks for /assets/: check how it finds its fonts and images",
        stylesheet.display()
    );
    fs::write(stylesheet, css.replace("url(/assets/", "url("))
        .unwrap_or_else(|e| panic!("writing {}: {e}", stylesheet.display()));
}

/// A hash of every file's path and content, so that any change gives a new version.
fn version(dir: &Path) -> String {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    for (name, path) in files {
        let content = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update((content.len() as u64).to_le_bytes());
        hash.update(content);
    }
    hash.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let name = path.strip_prefix(root).expect("under the root");
            files.push((name.to_string_lossy().replace('\\', "/"), path));
        }
    }
}

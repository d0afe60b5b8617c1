//! Where a file the user exports goes when they name no path: their Downloads folder, else
//! their home.

use std::path::PathBuf;

use crate::error::CommandError;

/// The user's Downloads folder, else home; `code` names the failure when there is neither.
pub fn default_export_dir(code: &'static str) -> Result<PathBuf, CommandError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let downloads = home
        .as_ref()
        .map(|h| h.join("Downloads"))
        .filter(|d| d.is_dir());
    downloads
        .or(home)
        .ok_or_else(|| CommandError::new(code, "no folder to save the file in; choose one"))
}

//! Read the system clipboard with whatever tool the desktop provides.

use std::process::Command;

use crate::error::{Error, ErrorKind, Result};

/// (program, arguments) in order of preference: Wayland, X11, macOS.
const READERS: &[(&str, &[&str])] = &[
    ("wl-paste", &["--no-newline"]),
    ("xclip", &["-selection", "clipboard", "-out"]),
    ("xsel", &["--clipboard", "--output"]),
    ("pbpaste", &[]),
];

pub fn read() -> Result<String> {
    let mut tried = Vec::new();
    for (program, args) in READERS {
        match Command::new(program).args(*args).output() {
            Ok(out) if out.status.success() => {
                return String::from_utf8(out.stdout)
                    .map_err(|_| Error::new(ErrorKind::Io, "the clipboard does not hold text"))
            }
            Ok(out) => tried.push(format!(
                "{program}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(_) => {}
        }
    }
    let detail = if tried.is_empty() {
        "no clipboard tool found (install wl-clipboard, xclip or xsel; or use from_stdin / from_file)".to_string()
    } else {
        format!("cannot read the clipboard ({})", tried.join("; "))
    };
    Err(Error::new(ErrorKind::Io, detail))
}

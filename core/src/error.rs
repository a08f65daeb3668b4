//! One error type for all of oatk. Each binding maps [`ErrorKind`] exhaustively
//! (C status, Python exception class, JS `err.code`); the message is made here, once.

use std::fmt;

/// What went wrong, as a stable category. Bindings match on this, never on text.
/// Deliberately not `#[non_exhaustive]`: every binding matches it exhaustively,
/// so a new kind fails their builds until it is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument was missing or unusable (bad JSON text, unknown algorithm name...).
    InvalidArgument,
    /// A file could not be read or written.
    Io,
    /// A key could not be parsed, or is of the wrong type for the operation.
    Key,
    /// A JWK or JWKS document could not be used.
    Jwks,
    /// The token is not a well-formed compact JWS (RFC 7515 7.1).
    Malformed,
    /// The token's `alg` is not allowed for the key (RFC 8725 3.1), or unsupported.
    UnsupportedAlgorithm,
    /// No key in the set matches the token's `kid`.
    UnknownKey,
    /// The signature does not verify.
    InvalidSignature,
    /// `exp` is in the past (RFC 7519 4.1.4).
    Expired,
    /// `nbf` is in the future (RFC 7519 4.1.5).
    NotYetValid,
    /// `aud` does not name this client (RFC 7519 4.1.3).
    InvalidAudience,
    /// `iss` is not the configured issuer (RFC 7519 4.1.1).
    InvalidIssuer,
    /// A claim the validator requires (such as `exp`) is absent.
    MissingClaim,
    /// The token is valid but its claims do not satisfy what the route requires.
    Claims,
    /// A provider could not be reached or answered with something unusable.
    Network,
    /// The fake server could not start or failed while running.
    Server,
}

impl ErrorKind {
    /// Every kind, in declaration order: each binding's mapping and its tests
    /// iterate this list instead of typing the kinds again.
    pub const ALL: [ErrorKind; 16] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Io,
        ErrorKind::Key,
        ErrorKind::Jwks,
        ErrorKind::Malformed,
        ErrorKind::UnsupportedAlgorithm,
        ErrorKind::UnknownKey,
        ErrorKind::InvalidSignature,
        ErrorKind::Expired,
        ErrorKind::NotYetValid,
        ErrorKind::InvalidAudience,
        ErrorKind::InvalidIssuer,
        ErrorKind::MissingClaim,
        ErrorKind::Claims,
        ErrorKind::Network,
        ErrorKind::Server,
    ];

    /// The kind with this [`code`](ErrorKind::code), if any.
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// One line saying what the kind means, for generated docs and type files.
    pub fn summary(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "an argument was missing or unusable",
            ErrorKind::Io => "a file could not be read or written",
            ErrorKind::Key => "a key could not be parsed, or does not fit the operation",
            ErrorKind::Jwks => "a JWK or JWKS document could not be used",
            ErrorKind::Malformed => "the token is not a well-formed compact JWS",
            ErrorKind::UnsupportedAlgorithm => "the token's alg is not allowed for the key",
            ErrorKind::UnknownKey => "no key matches the token's kid",
            ErrorKind::InvalidSignature => "the signature does not verify",
            ErrorKind::Expired => "the token has expired",
            ErrorKind::NotYetValid => "the token is not valid yet",
            ErrorKind::InvalidAudience => "aud does not name this client",
            ErrorKind::InvalidIssuer => "iss is not the expected issuer",
            ErrorKind::MissingClaim => "a required claim is absent",
            ErrorKind::Claims => "the claims do not satisfy the route",
            ErrorKind::Network => "a provider could not be reached or answered badly",
            ErrorKind::Server => "the fake server could not start, failed, or is stopped",
        }
    }

    /// Stable machine-readable code, the same in every language.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::Io => "IO",
            ErrorKind::Key => "KEY",
            ErrorKind::Jwks => "JWKS",
            ErrorKind::Malformed => "MALFORMED",
            ErrorKind::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            ErrorKind::UnknownKey => "UNKNOWN_KEY",
            ErrorKind::InvalidSignature => "SIGNATURE",
            ErrorKind::Expired => "EXPIRED",
            ErrorKind::NotYetValid => "NOT_YET_VALID",
            ErrorKind::InvalidAudience => "AUDIENCE",
            ErrorKind::InvalidIssuer => "ISSUER",
            ErrorKind::MissingClaim => "MISSING_CLAIM",
            ErrorKind::Claims => "CLAIMS",
            ErrorKind::Network => "NETWORK",
            ErrorKind::Server => "SERVER",
        }
    }

    /// True for the kinds that mean "this token must not be accepted" (HTTP 401),
    /// as opposed to a valid token lacking required claims (403) or a setup error.
    pub fn is_invalid_token(self) -> bool {
        matches!(
            self,
            ErrorKind::Malformed
                | ErrorKind::UnsupportedAlgorithm
                | ErrorKind::UnknownKey
                | ErrorKind::InvalidSignature
                | ErrorKind::Expired
                | ErrorKind::NotYetValid
                | ErrorKind::InvalidAudience
                | ErrorKind::InvalidIssuer
                | ErrorKind::MissingClaim
        )
    }
}

/// An oatk failure: a kind and a message that names what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// An `Io` error because the file does not exist (Python's `MissingFileError`).
    missing_file: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            missing_file: false,
        }
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// True when a file oatk was asked to read does not exist.
    pub fn is_missing_file(&self) -> bool {
        self.missing_file
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub(crate) fn key(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Key, message)
    }
    pub(crate) fn jwks(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Jwks, message)
    }
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Malformed, message)
    }
    pub(crate) fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, message)
    }
    pub(crate) fn server(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Server, message)
    }
    /// A file operation failed; the message names the file.
    pub(crate) fn io(action: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        let reason = match err.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => err.to_string(),
        };
        Error {
            missing_file: err.kind() == std::io::ErrorKind::NotFound,
            ..Self::new(
                ErrorKind::Io,
                format!("cannot {action} {}: {reason}", path.display()),
            )
        }
    }
    /// Prefix the message with where the failure happened (a file, a field).
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// The text of a caught panic, for the error every binding returns instead of
/// unwinding across its boundary (C, Python, JS).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("internal error in oatk (a bug, please report it): {detail}")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_kind_once_with_a_distinct_code() {
        let codes: std::collections::HashSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            // The exhaustive match below fails to compile when a kind is added
            // without being listed in ALL's length.
            match kind {
                ErrorKind::InvalidArgument
                | ErrorKind::Io
                | ErrorKind::Key
                | ErrorKind::Jwks
                | ErrorKind::Malformed
                | ErrorKind::UnsupportedAlgorithm
                | ErrorKind::UnknownKey
                | ErrorKind::InvalidSignature
                | ErrorKind::Expired
                | ErrorKind::NotYetValid
                | ErrorKind::InvalidAudience
                | ErrorKind::InvalidIssuer
                | ErrorKind::MissingClaim
                | ErrorKind::Claims
                | ErrorKind::Network
                | ErrorKind::Server => {}
            }
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
            assert!(!kind.summary().is_empty());
        }
    }

    #[test]
    fn panic_messages() {
        assert!(panic_message(&"boom").ends_with(": boom"));
        assert!(panic_message(&String::from("bang")).ends_with(": bang"));
        assert!(panic_message(&42).ends_with(": no message"));
    }
}

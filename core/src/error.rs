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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
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
        Self::new(
            ErrorKind::Io,
            format!("cannot {action} {}: {reason}", path.display()),
        )
    }
    /// Prefix the message with where the failure happened (a file, a field).
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

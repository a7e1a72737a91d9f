/// Errors of the SDK's own calls (init, cleanup, set_proxy).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The SDK was cleaned up, or never initialised (20000).
    #[error("the SDK is not initialised (20000)")]
    NotInitialised,
    /// Bad init options.
    #[error("invalid init options: {0}")]
    InvalidOptions(String),
    /// The app data directory could not be used.
    #[error("app data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The SDK's runtime could not start.
    #[error("could not start the SDK runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Cleanup while a session is active or a logout has not called back yet.
    #[error("cleanup must wait for the logout callback: a session is still active ({0})")]
    SessionActive(&'static str),
    /// A local database does not open with the given `db_encrypt_key` (or
    /// is encrypted and no key was given).
    #[error("local database {path} does not open {}: {reason}; pass the db_encrypt_key it was written with, or delete the file (the server's sync brings its messages back)", if *.keyed { "with the given db_encrypt_key" } else { "without a db_encrypt_key (it is encrypted)" })]
    DatabaseKey {
        /// The file.
        path: String,
        /// SQLite's answer.
        reason: String,
        /// Whether a key was given.
        keyed: bool,
    },
    /// A proxy setting the SDK does not support.
    #[error("unsupported proxy: {0}")]
    UnsupportedProxy(&'static str),
}

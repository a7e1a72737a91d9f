//! TLS for the client listener (rustls with the ring provider).

use crate::config::TlsConfig;
use anyhow::Context;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Loads the certificate chain and key and builds an acceptor.
pub(crate) fn acceptor(c: &TlsConfig) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(&c.cert_file)
        .with_context(|| format!("reading TLS certificates from {}", c.cert_file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing TLS certificates in {}", c.cert_file.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no certificate", c.cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(&c.key_file)
        .with_context(|| format!("reading the TLS key from {}", c.key_file.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the TLS certificate and key do not fit together")?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

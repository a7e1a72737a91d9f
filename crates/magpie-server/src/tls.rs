//! TLS for the client listener (rustls with the ring provider).

use crate::config::TlsConfig;
use anyhow::Context;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Warns when the leaf certificate has expired, is not valid yet, or expires
/// within 14 days: clients would refuse it, and the server itself would
/// start without a word.
fn warn_if_expiring(leaf: &CertificateDer<'_>, file: &std::path::Path) {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf.as_ref()) else {
        tracing::warn!(file = %file.display(), "the TLS certificate could not be parsed to check its dates");
        return;
    };
    let v = cert.validity();
    let now = x509_parser::time::ASN1Time::now();
    let soon = x509_parser::time::ASN1Time::from_timestamp(now.timestamp() + 14 * 86_400).ok();
    if v.not_after < now {
        tracing::warn!(file = %file.display(), not_after = %v.not_after, "the TLS certificate has EXPIRED: clients will refuse to connect; renew it");
    } else if v.not_before > now {
        tracing::warn!(file = %file.display(), not_before = %v.not_before, "the TLS certificate is not valid yet: clients will refuse to connect; check it and the clock");
    } else if soon.is_some_and(|s| v.not_after < s) {
        tracing::warn!(file = %file.display(), not_after = %v.not_after, "the TLS certificate expires within 14 days; renew it");
    }
}

/// Loads the certificate chain and key and builds an acceptor.
pub(crate) fn acceptor(c: &TlsConfig) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(&c.cert_file)
        .with_context(|| format!("reading TLS certificates from {}", c.cert_file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing TLS certificates in {}", c.cert_file.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no certificate", c.cert_file.display());
    }
    warn_if_expiring(&certs[0], &c.cert_file);
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

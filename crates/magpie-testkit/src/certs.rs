//! Throwaway certificates for TLS tests: a CA and a server certificate for
//! `localhost` and `127.0.0.1`, as PEM files in a temp dir.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::PathBuf;

/// PEM files of a test PKI.
pub struct TestCerts {
    /// Keeps the files.
    pub dir: tempfile::TempDir,
    /// The CA certificate.
    pub ca: PathBuf,
    /// The server certificate.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
}

fn ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("CA key");
    let cert = p.self_signed(&key).expect("CA certificate");
    (cert, Issuer::new(p, key))
}

/// A CA and a server certificate signed by it.
pub fn test_certs() -> TestCerts {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca_cert, issuer) = ca("Magpie test CA");
    let mut p = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    p.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().expect("server key");
    let cert = p.signed_by(&key, &issuer).expect("server certificate");
    let path = |n: &str| dir.path().join(n);
    std::fs::write(path("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(path("server.pem"), cert.pem()).unwrap();
    std::fs::write(path("server.key"), key.serialize_pem()).unwrap();
    TestCerts {
        ca: path("ca.pem"),
        cert: path("server.pem"),
        key: path("server.key"),
        dir,
    }
}

/// A CA that signed nothing the server has (for "wrong CA" tests).
pub fn unrelated_ca(dir: &std::path::Path) -> PathBuf {
    let (cert, _) = ca("Some other CA");
    let p = dir.join("other-ca.pem");
    std::fs::write(&p, cert.pem()).unwrap();
    p
}

//! TLS to the database, as the URL's `sslmode` asks: the public roots and a private CA
//! checked with the host name (`require`, `verify-full`) or without it (`verify-ca`), and for
//! `prefer` against a certificate nobody vouches for, encryption without authentication.

use super::StoreError;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// What a verified TLS connection checks of the database's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// The chain to a trusted authority and the host name (`require`, `verify-full`).
    Full,
    /// The chain only (`verify-ca`: a certificate issued for another name is accepted).
    Chain,
}

/// The URL as the client library reads it (`verify-ca` and `verify-full` become `require`),
/// and what its TLS checks.
pub(super) fn verify_mode(url: &str) -> (String, Check) {
    let mut check = Check::Full;
    let mut out = url.to_owned();
    for (given, mode) in [("verify-ca", Check::Chain), ("verify-full", Check::Full)] {
        let needle = format!("sslmode={given}");
        if out.contains(&needle) {
            out = out.replace(&needle, "sslmode=require");
            check = mode;
        }
    }
    (out, check)
}

/// Checks the chain of a certificate and not its name (`sslmode=verify-ca`).
#[derive(Debug)]
struct ChainOnly(std::sync::Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The TLS client: the public roots, plus the certificate authorities of `ca_file`.
pub(super) fn tls(
    ca_file: Option<&std::path::Path>,
    check: Check,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
            StoreError::Backend(format!("cannot read the CA file `{}`: {e}", path.display()))
        })?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| {
                StoreError::Backend(format!(
                    "the CA file `{}` holds no valid certificate: {e}",
                    path.display()
                ))
            })?;
            roots.add(cert).map_err(|e| {
                StoreError::Backend(format!("a certificate in `{}`: {e}", path.display()))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(StoreError::Backend(format!(
                "the CA file `{}` holds no certificate",
                path.display()
            )));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(backend)?;
    let config = match check {
        Check::Full => builder.with_root_certificates(roots).with_no_client_auth(),
        Check::Chain => {
            let verifier =
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(backend)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(std::sync::Arc::new(ChainOnly(verifier)))
                .with_no_client_auth()
        }
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Whether a connection failed because the server's certificate is not trusted.
pub(super) fn untrusted_certificate(e: &tokio_postgres::Error) -> bool {
    use std::error::Error as _;
    let mut source: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if text.contains("certificate") || text.contains("UnknownIssuer") {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("certificate")
}

/// Accepts any server certificate while still checking the handshake's signatures: the TLS of
/// `sslmode=prefer` against a server whose certificate nobody vouches for.
#[derive(Debug)]
struct AnyCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS client of `sslmode=prefer` for an untrusted certificate: encrypted, unauthenticated.
pub(super) fn unverified_tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(backend)?
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

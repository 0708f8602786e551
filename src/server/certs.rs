//! Serving certificates: a small CA and certificates it signs (`flink-admission certs`,
//! `serve --dev`, tests), and reading a certificate's `notAfter` for the expiry metric.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Server,
    Client,
}

/// A certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A self-signed CA that issues certificates.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(i64::from(days));
}

impl Authority {
    pub fn new(common_name: &str, days: u32) -> Result<Authority, String> {
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params, days);
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(|e| e.to_string())?;
        Ok(Authority { issuer })
    }

    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names` (DNS names or IP addresses), valid for `days`.
    pub fn issue(&self, names: &[String], usage: Usage, days: u32) -> Result<Pair, String> {
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(|e| e.to_string())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![match usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        validity(&mut params, days);
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| e.to_string())?;
        Ok(Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The names a Service is reached by from the API server.
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
        format!("{service}.{namespace}"),
        service.to_string(),
    ]
}

/// What `flink-admission certs` writes: `ca.crt`, `tls.crt`, `tls.key` (mode 0600).
pub fn write_bundle(dir: &Path, names: &[String], days: u32) -> Result<(String, Pair), String> {
    let ca = Authority::new("flink-admission webhook CA", days)?;
    let pair = ca.issue(names, Usage::Server, days)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: &str, private: bool| -> Result<(), String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        #[cfg(not(unix))]
        let _ = private;
        Ok(())
    };
    let ca_pem = ca.cert_pem();
    write("ca.crt", &ca_pem, false)?;
    write("tls.crt", &pair.cert_pem, false)?;
    write("tls.key", &pair.key_pem, true)?;
    Ok((ca_pem, pair))
}

/// The bundle [`write_bundle`] left in `dir`, to use again (`manifests --certs-out`: a second
/// install keeps the CA the API server trusts). `Ok(None)` when none of `ca.crt`, `tls.crt`,
/// `tls.key` is there. An error, never a silent rotation, when only some are there, or when the
/// pair does not serve `names`: `tls.crt` not signed by `ca.crt`, expired, not naming every one of
/// `names`, or `tls.key` not its key. Checked with rustls' own verifier, as a client would.
pub fn read_bundle(dir: &Path, names: &[String]) -> Result<Option<(String, Pair)>, String> {
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    use std::sync::Arc;

    const FILES: [&str; 3] = ["ca.crt", "tls.crt", "tls.key"];
    let present: Vec<&str> = FILES.into_iter().filter(|f| dir.join(f).exists()).collect();
    if present.is_empty() {
        return Ok(None);
    }
    let remedy = format!(
        "remove ca.crt, tls.crt and tls.key from {} to make a new CA (the API server must then be given the new caBundle)",
        dir.display()
    );
    if present.len() < FILES.len() {
        let missing: Vec<&str> = FILES.into_iter().filter(|f| !present.contains(f)).collect();
        return Err(format!(
            "{} has {} but not {}: {remedy}",
            dir.display(),
            present.join(", "),
            missing.join(", ")
        ));
    }
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let (ca_pem, cert_pem, key_pem) = (read("ca.crt")?, read("tls.crt")?, read("tls.key")?);
    let bad =
        |what: &str, e: &dyn std::fmt::Display| format!("{}/{what}: {e}; {remedy}", dir.display());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let c = c.map_err(|e| bad("ca.crt", &e))?;
        roots.add(c).map_err(|e| bad("ca.crt", &e))?;
    }
    if roots.is_empty() {
        return Err(bad("ca.crt", &"no certificate"));
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| bad("tls.crt", &e))?;
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(bad("tls.crt", &"no certificate"));
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| bad("ca.crt", &e))?;
    for name in names {
        let server_name = ServerName::try_from(name.as_str())
            .map_err(|e| format!("'{name}' is not a DNS name or IP address: {e}"))?;
        verifier
            .verify_server_cert(leaf, intermediates, &server_name, &[], UnixTime::now())
            .map_err(|e| {
                bad(
                    "tls.crt",
                    &format!("not valid for {name} under ca.crt ({e})"),
                )
            })?;
    }
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| bad("tls.key", &e))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| bad("tls.key", &e))?;
    let certified = rustls::sign::CertifiedKey::new(chain.clone(), signing);
    certified
        .keys_match()
        .map_err(|e| bad("tls.key", &format!("not the key of tls.crt ({e})")))?;
    Ok(Some((ca_pem, Pair { cert_pem, key_pem })))
}

/// `notAfter` of a DER certificate, in seconds since the Unix epoch (`x509-parser`).
pub fn not_after(der: &[u8]) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn not_after_matches_what_was_issued() {
        let ca = Authority::new("test", 30).unwrap();
        let pair = ca.issue(&["a.b.svc".into()], Usage::Server, 10).unwrap();
        let der = CertificateDer::from_pem_slice(pair.cert_pem.as_bytes()).unwrap();
        let got = not_after(&der).unwrap();
        let want = (OffsetDateTime::now_utc() + Duration::days(10)).unix_timestamp();
        assert!((got - want).abs() < 120, "{got} vs {want}");
        assert_eq!(not_after(b"\x30\x03\x02\x01"), None);
        assert_eq!(not_after(b""), None);
    }
}

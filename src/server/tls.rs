//! TLS (rustls with ring, TLS 1.2 and 1.3) with hot reload: Kubernetes updates a mounted
//! Secret by swapping the `..data` symlink in the directory, so we watch the directories of the
//! files (notify) and also poll; on a change the pair is loaded and, only if it is valid (the
//! key matches the certificate), swapped in. A broken pair keeps the old one serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use notify::{RecursiveMode, Watcher};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;

use super::certs;
use super::metrics::{Metrics, ResultLabels};

/// Where the serving certificate, its key and the optional client CA live.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs.
    pub client_ca: Option<PathBuf>,
}

/// A loaded configuration and what it was loaded from.
pub struct Loaded {
    pub config: Arc<ServerConfig>,
    /// `notAfter` of the leaf certificate (seconds since the epoch).
    pub not_after: Option<i64>,
    source: Vec<u8>,
}

/// Largest certificate, key or CA file read: a PEM chain of a few certificates is a few KiB.
pub const MAX_TLS_FILE: u64 = 1024 * 1024;

/// A certificate file's bytes: a regular file (through links) of at most [`MAX_TLS_FILE`]
/// bytes. A FIFO, device or socket at the path is refused without being opened for reading
/// (a FIFO would block the read for ever, `/dev/zero` would never end).
fn read(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let regular = |m: &std::fs::Metadata| -> Result<(), String> {
        if !m.is_file() {
            return Err(fail(&"not a regular file"));
        }
        if m.len() > MAX_TLS_FILE {
            return Err(fail(&format_args!(
                "larger than {MAX_TLS_FILE} bytes, the most read for a certificate or key"
            )));
        }
        Ok(())
    };
    regular(&std::fs::metadata(path).map_err(|e| fail(&e))?)?;
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    // swapped between the look and the open: look again at what was opened
    regular(&file.metadata().map_err(|e| fail(&e))?)?;
    let mut bytes = Vec::new();
    file.take(MAX_TLS_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&e))?;
    if bytes.len() as u64 > MAX_TLS_FILE {
        return Err(fail(&format_args!(
            "larger than {MAX_TLS_FILE} bytes, the most read for a certificate or key"
        )));
    }
    Ok(bytes)
}

/// The bytes of every file, to tell whether anything changed.
fn snapshot(files: &TlsFiles) -> Result<Vec<u8>, String> {
    let mut all = read(&files.cert)?;
    all.push(0);
    all.extend(read(&files.key)?);
    if let Some(ca) = &files.client_ca {
        all.push(0);
        all.extend(read(ca)?);
    }
    Ok(all)
}

/// Load and check the pair (and client CA) into a rustls server configuration.
pub fn load(files: &TlsFiles) -> Result<Loaded, String> {
    let source = snapshot(files)?;
    let cert_bytes = read(&files.cert)?;
    let key_bytes = read(&files.key)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_bytes)
        .map_err(|e| format!("{}: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&read(ca)?) {
                let c = c.map_err(|e| format!("{}: {e}", ca.display()))?;
                roots.add(c).map_err(|e| format!("{}: {e}", ca.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("{}: no CA certificate", ca.display()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("{}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let not_after = certs.first().and_then(|c| certs::not_after(c));
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("{} / {}: {e}", files.cert.display(), files.key.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Loaded {
        config: Arc::new(config),
        not_after,
        source,
    })
}

/// Keeps the served pair in step with the files.
pub struct Reloader {
    files: TlsFiles,
    rustls: RustlsConfig,
    metrics: Arc<Metrics>,
    last_seen: Vec<u8>,
}

impl Reloader {
    pub fn new(
        files: TlsFiles,
        first: &Loaded,
        rustls: RustlsConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        if let Some(t) = first.not_after {
            metrics.cert_not_after.set(t);
        }
        Reloader {
            files,
            rustls,
            metrics,
            last_seen: first.source.clone(),
        }
    }

    /// Reload if the files changed; `Some(true)` when a new pair went live, `Some(false)` when
    /// the new files were rejected (the old pair keeps serving), `None` when nothing changed.
    pub fn check(&mut self) -> Option<bool> {
        let now = match snapshot(&self.files) {
            Ok(s) => s,
            Err(e) => {
                // Files missing for a moment (mid-swap); the poll will look again.
                tracing::debug!(error = %e, "certificate files not readable");
                return None;
            }
        };
        if now == self.last_seen {
            return None;
        }
        self.last_seen = now;
        match load(&self.files) {
            Ok(loaded) => {
                self.rustls.reload_from_config(loaded.config);
                if let Some(t) = loaded.not_after {
                    self.metrics.cert_not_after.set(t);
                }
                self.metrics
                    .cert_reloads
                    .get_or_create(&ResultLabels { result: "success" })
                    .inc();
                tracing::info!(cert = %self.files.cert.display(), not_after = loaded.not_after, "serving certificate reloaded");
                Some(true)
            }
            Err(e) => {
                self.metrics
                    .cert_reloads
                    .get_or_create(&ResultLabels { result: "error" })
                    .inc();
                tracing::warn!(error = %e, "new certificate files rejected; still serving the previous pair");
                Some(false)
            }
        }
    }

    /// Watch the directories (notify) and poll every `poll`, reloading on change, until the
    /// task is dropped.
    pub async fn run(mut self, poll: Duration) {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let watcher = notify::recommended_watcher(move |_res: notify::Result<notify::Event>| {
            let _ = tx.send(());
        });
        let _watcher = match watcher {
            Ok(mut w) => {
                let mut dirs: Vec<PathBuf> = [
                    Some(&self.files.cert),
                    Some(&self.files.key),
                    self.files.client_ca.as_ref(),
                ]
                .into_iter()
                .flatten()
                .filter_map(|p| p.parent().map(Path::to_path_buf))
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        d
                    }
                })
                .collect();
                dirs.sort();
                dirs.dedup();
                for d in &dirs {
                    if let Err(e) = w.watch(d, RecursiveMode::NonRecursive) {
                        tracing::warn!(dir = %d.display(), error = %e, "cannot watch certificate directory; polling only");
                    }
                }
                Some(w)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no file watcher; polling certificate files only");
                None
            }
        };
        loop {
            tokio::select! {
                got = rx.recv() => {
                    if got.is_none() {
                        tokio::time::sleep(poll).await;
                    } else {
                        // Let a burst of writes settle, then look once.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        while rx.try_recv().is_ok() {}
                    }
                }
                _ = tokio::time::sleep(poll) => {}
            }
            // Reading files may block (a slow volume, a FIFO swapped in after the look):
            // never on the runtime's workers.
            match tokio::task::spawn_blocking(move || {
                let changed = self.check();
                (self, changed)
            })
            .await
            {
                Ok((back, _)) => self = back,
                Err(e) => {
                    tracing::error!(error = %e, "certificate reload failed; no more reloads");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_up_to_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("tls.key");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // refused at once, not opened (opening a FIFO with no writer blocks)
        let e = read(&fifo).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(read(&link).unwrap_err().contains("not a regular file"));
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'a'; MAX_TLS_FILE as usize + 1]).unwrap();
        assert!(read(&big).unwrap_err().contains("larger than"));
        let ok = dir.path().join("ok.pem");
        std::fs::write(&ok, b"pem").unwrap();
        assert_eq!(read(&ok).unwrap(), b"pem");
    }
}

//! Serving certificates laid out as a kubelet lays out a Secret volume: `tls.crt`/`tls.key` are
//! symlinks through `..data`, which is swapped atomically on update (`server` and `faults`).

use std::path::Path;

use flink_admission::server::TlsFiles;
use flink_admission::server::certs;

/// Publish `pair` as generation `generation` of the Secret volume at `root`.
pub fn publish(root: &Path, pair: &certs::Pair, generation: usize) {
    std::fs::create_dir_all(root).unwrap();
    let versioned = root.join(format!("..gen_{generation}"));
    std::fs::create_dir_all(&versioned).unwrap();
    std::fs::write(versioned.join("tls.crt"), &pair.cert_pem).unwrap();
    std::fs::write(versioned.join("tls.key"), &pair.key_pem).unwrap();
    let tmp = root.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..gen_{generation}"), &tmp).unwrap();
    std::fs::rename(&tmp, root.join("..data")).unwrap();
    for f in ["tls.crt", "tls.key"] {
        let link = root.join(f);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{f}"), &link).unwrap();
        }
    }
}

/// The serving files of the Secret volume at `root`, without a client CA.
pub fn files(root: &Path) -> TlsFiles {
    TlsFiles {
        cert: root.join("tls.crt"),
        key: root.join("tls.key"),
        client_ca: None,
    }
}

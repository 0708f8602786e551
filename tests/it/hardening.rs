//! The security review of issue 10, as users and attackers meet it:
//!
//! - `serve --dev` keeps its throwaway CA and key in a private temporary directory and removes
//!   it when it exits on SIGTERM; at the default log level nothing of the objects reviewed
//!   (a password in an env var, a Secret's data) reaches the logs;
//! - `serve --dev --client-ca` refuses a client without a certificate and serves one with a
//!   certificate the CA signed (the flag, end to end through the binary);
//! - the TLS listener refuses a TLS 1.1 ClientHello and a TLS 1.2 ClientHello that offers only
//!   weak suites (RSA key exchange, CBC, 3DES, RC4), and answers the same hello offering
//!   ECDHE with AES-GCM (hand-written ClientHellos on a raw socket: no TLS library here will
//!   offer what rustls refuses);
//! - `manifests --tls self-signed --certs-out DIR` run twice keeps the same CA, and refuses to
//!   reuse a directory that is incomplete or made for another namespace;
//! - `flink-lint.io/ignore` silences an error finding only when the configuration allows it,
//!   in `flink-lint` and in the webhook;
//! - the shipped NetworkPolicy says why the webhook port stays open.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::engine::{Engine, NoContext};
use flink_admission::server::certs::{self, Authority, Usage};
use flink_admission::server::{self, ServeOptions, TlsFiles};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common;
use crate::common::child::{field, read_lines_until};
use crate::common::fixture;

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn admission_bin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("flink-admission"))
}

/// A server child killed if the test fails before it stops it.
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the server is running")
    }
    fn take(&mut self) -> Child {
        self.0.take().expect("the server is running")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn sigterm_and_wait(mut child: Child) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -TERM failed");
    child.wait().expect("wait for the server")
}

fn client(ca_pem: &str, identity: Option<&certs::Pair>) -> reqwest::Client {
    install_provider();
    let mut b = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .no_proxy()
        .pool_max_idle_per_host(0);
    if let Some(id) = identity {
        let pem = format!("{}{}", id.cert_pem, id.key_pem);
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

const SECRET: &str = "hunter2-Sup3r-S3cret-Value";

/// The JobManager Deployment review, with a password in an env var and an annotation.
fn review_with_a_secret() -> Value {
    let mut r = fixture("jobmanager-deployment-update.json");
    let obj = &mut r["request"]["object"];
    obj["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "DB_PASSWORD", "value": SECRET}]);
    obj["metadata"]["annotations"]["example.com/token"] = json!(SECRET);
    r
}

/// A review of a Secret (not a Flink object: allowed untouched, and not logged either).
fn secret_review() -> Value {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(SECRET);
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "5ec2e7a1-0000-4000-8000-000000000001",
            "kind": {"group": "", "version": "v1", "kind": "Secret"},
            "resource": {"group": "", "version": "v1", "resource": "secrets"},
            "namespace": "flink",
            "name": "db",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "flink"},
                       "data": {"password": data}, "stringData": {"password": SECRET}},
            "oldObject": null,
            "dryRun": false
        }
    })
}

#[tokio::test]
async fn dev_mode_removes_its_key_and_ca_on_exit_and_logs_no_object_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let log_path = tmp.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = KillOnDrop(Some(
        admission_bin()
            .args(["serve", "--dev", "--addr", "127.0.0.1:0"])
            .args(["--probe-addr", "127.0.0.1:0", "--shutdown-delay", "0s"])
            .env("TMPDIR", tmp.path())
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    ));
    let lines = read_lines_until(
        server.child(),
        &["dev CA certificate: ", "webhook: https://"],
    );
    let ca_path = PathBuf::from(field(&lines, "dev CA certificate: "));
    let addr: SocketAddr = field(&lines, "webhook: https://").parse().unwrap();
    let dir = ca_path.parent().unwrap().to_path_buf();
    assert!(
        dir.starts_with(tmp.path()),
        "{} not under TMPDIR",
        dir.display()
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "the temporary directory is private");
        assert_eq!(mode(&dir.join("tls.key")), 0o600, "the key is private");
    }
    let ca = std::fs::read_to_string(&ca_path).unwrap();
    let c = client(&ca, None);
    let url = |path: &str| format!("https://localhost:{}{path}", addr.port());
    let jm = review_with_a_secret();
    for path in ["/validate", "/mutate"] {
        let resp = c.post(url(path)).json(&jm).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["response"]["uid"], jm["request"]["uid"]);
    }
    let v: Value = c
        .post(url("/validate"))
        .json(&secret_review())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["response"]["allowed"], true);

    let child = server.take();
    let status = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !dir.exists(),
        "{} (key and CA) is still there after exit",
        dir.display()
    );

    let logs = std::fs::read_to_string(&log_path).unwrap();
    // The reviews were logged at the default level (so the logs were captured) ...
    for uid in [
        jm["request"]["uid"].as_str().unwrap(),
        "5ec2e7a1-0000-4000-8000-000000000001",
    ] {
        assert!(logs.contains(uid), "review {uid} not logged:\n{logs}");
    }
    // ... and none of what the objects hold.
    use base64::Engine as _;
    for leak in [
        SECRET.to_string(),
        base64::engine::general_purpose::STANDARD.encode(SECRET),
        "DB_PASSWORD".to_string(),
    ] {
        assert!(!logs.contains(&leak), "the logs hold {leak}:\n{logs}");
    }
}

#[tokio::test]
async fn dev_mode_with_client_ca_refuses_clients_without_a_signed_certificate() {
    install_provider();
    let tmp = tempfile::tempdir().unwrap();
    let client_ca = Authority::new("api server client CA", 1).unwrap();
    let ca_file = tmp.path().join("client-ca.crt");
    std::fs::write(&ca_file, client_ca.cert_pem()).unwrap();
    let apiserver = client_ca
        .issue(&["kube-apiserver".into()], Usage::Client, 1)
        .unwrap();
    let stranger = Authority::new("stranger", 1)
        .unwrap()
        .issue(&["kube-apiserver".into()], Usage::Client, 1)
        .unwrap();
    let dev_dir = tmp.path().join("dev");
    let mut server = KillOnDrop(Some(
        admission_bin()
            .args(["serve", "--dev", "--addr", "127.0.0.1:0"])
            .args(["--probe-addr", "127.0.0.1:0", "--shutdown-delay", "0s"])
            .arg("--client-ca")
            .arg(&ca_file)
            .arg("--dev-dir")
            .arg(&dev_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let lines = read_lines_until(
        server.child(),
        &["dev CA certificate: ", "webhook: https://"],
    );
    let addr: SocketAddr = field(&lines, "webhook: https://").parse().unwrap();
    let ca = std::fs::read_to_string(field(&lines, "dev CA certificate: ")).unwrap();
    let url = format!("https://localhost:{}/validate", addr.port());
    let body = fixture("scale-update.json");

    let resp = client(&ca, Some(&apiserver))
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("the API server's certificate is accepted");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["response"]["uid"], body["request"]["uid"]);
    for (who, id) in [("no certificate", None), ("a stranger", Some(&stranger))] {
        let r = client(&ca, id).post(&url).json(&body).send().await;
        assert!(r.is_err(), "{who} was served: {r:?}");
    }

    let child = server.take();
    let status = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        dev_dir.join("ca.crt").exists(),
        "--dev-dir is the user's: kept"
    );
}

// ---------------------------------------------------------------- TLS versions and suites

/// A TLS 1.2-or-older ClientHello (no `supported_versions`, so `version` is what it offers)
/// with these cipher suites, for `localhost`, with the extensions an ECDHE handshake needs.
fn client_hello(version: u16, suites: &[u16]) -> Vec<u8> {
    fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend(kind.to_be_bytes());
        out.extend((data.len() as u16).to_be_bytes());
        out.extend(data);
    }
    let mut exts = Vec::new();
    let host = b"localhost";
    let mut sni = Vec::new();
    sni.extend(((host.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend((host.len() as u16).to_be_bytes());
    sni.extend(host);
    ext(&mut exts, 0x0000, &sni);
    ext(&mut exts, 0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]); // x25519, secp256r1
    ext(&mut exts, 0x000b, &[1, 0]); // uncompressed points
    // ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    ext(
        &mut exts,
        0x000d,
        &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01],
    );
    ext(&mut exts, 0xff01, &[0]); // renegotiation_info

    let mut body = Vec::new();
    body.extend(version.to_be_bytes());
    body.extend([0x5a; 32]);
    body.push(0); // no session id
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // null compression
    body.extend((exts.len() as u16).to_be_bytes());
    body.extend(exts);

    let mut hs = vec![0x01];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend((hs.len() as u16).to_be_bytes());
    record.extend(hs);
    record
}

/// What the server answers first: `Ok(version)` for a ServerHello, `Err(alert description)`.
async fn first_answer(addr: SocketAddr, hello: &[u8]) -> Result<u16, u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(hello).await.unwrap();
    let mut buf = [0u8; 11];
    tokio::time::timeout(Duration::from_secs(10), s.read_exact(&mut buf[..7]))
        .await
        .expect("the server answers a ClientHello")
        .expect("the server answers before closing");
    match buf[0] {
        0x15 => {
            assert_eq!(buf[5], 2, "a fatal alert");
            Err(buf[6])
        }
        0x16 => {
            assert_eq!(buf[5], 0x02, "a ServerHello");
            s.read_exact(&mut buf[7..]).await.unwrap();
            Ok(u16::from_be_bytes([buf[9], buf[10]]))
        }
        other => panic!("record type {other:#x}"),
    }
}

const PROTOCOL_VERSION: u8 = 70;
const HANDSHAKE_FAILURE: u8 = 40;

#[tokio::test]
async fn tls_refuses_tls_1_1_and_weak_suites_and_accepts_modern_ones() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("test CA", 1).unwrap();
    let pair = ca.issue(&["localhost".into()], Usage::Server, 1).unwrap();
    std::fs::write(dir.path().join("tls.crt"), &pair.cert_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &pair.key_pem).unwrap();
    let mut opts = ServeOptions::new(TlsFiles {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
        client_ca: None,
    });
    opts.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    opts.probe_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    opts.cluster = false;
    opts.shutdown_delay = Duration::ZERO;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = server::start(opts, None, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let addr = running.addr;

    // ECDHE with AES-GCM (ECDSA and RSA certificates) and ChaCha20-Poly1305.
    let modern = [0xc02b, 0xc02f, 0xcca9];
    // RSA key exchange (no forward secrecy), CBC, 3DES, RC4, export-grade.
    let weak = [
        0x009c, 0x009d, 0x003c, 0x002f, 0x0035, 0xc009, 0xc013, 0xc027, 0x000a, 0x0005, 0xc007,
        0x0003,
    ];
    assert_eq!(
        first_answer(addr, &client_hello(0x0303, &modern)).await,
        Ok(0x0303),
        "the control: a TLS 1.2 hello with modern suites is answered"
    );
    assert_eq!(
        first_answer(addr, &client_hello(0x0303, &weak)).await,
        Err(HANDSHAKE_FAILURE),
        "TLS 1.2 with weak suites only"
    );
    for (name, version) in [("TLS 1.1", 0x0302), ("TLS 1.0", 0x0301)] {
        let all: Vec<u16> = modern.iter().chain(&weak).copied().collect();
        assert_eq!(
            first_answer(addr, &client_hello(version, &all)).await,
            Err(PROTOCOL_VERSION),
            "{name}"
        );
    }
    // And a real client is served.
    let resp = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .no_proxy()
        .tls_info(true)
        .resolve("localhost", addr)
        .build()
        .unwrap()
        .post(format!("https://localhost:{}/validate", addr.port()))
        .json(&fixture("scale-update.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let _ = stop.send(());
    running.wait().await;
}

// ---------------------------------------------------------------- manifests --certs-out

/// `manifests --tls self-signed --certs-out DIR --namespace NS`: (exit code, stdout, stderr).
fn manifests(dir: &Path, namespace: &str) -> (i32, String, String) {
    let out = admission_bin()
        .args([
            "manifests",
            "--tls",
            "self-signed",
            "--namespace",
            namespace,
        ])
        .arg("--certs-out")
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The caBundle of every webhook in the bundle (base64 of the CA's PEM).
fn ca_bundles(yaml: &str) -> Vec<String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap();
    let bundles: Vec<String> = docs
        .iter()
        .filter(|d| {
            d["kind"]
                .as_str()
                .is_some_and(|k| k.ends_with("WebhookConfiguration"))
        })
        .flat_map(|d| d["webhooks"].as_array().cloned().unwrap_or_default())
        .map(|w| w["clientConfig"]["caBundle"].as_str().unwrap().to_string())
        .collect();
    assert!(!bundles.is_empty(), "no webhook in the bundle");
    bundles
}

#[test]
fn manifests_reuse_the_certificates_of_certs_out() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let (code, first, err) = manifests(&dir, "webhooks");
    assert_eq!(code, 0, "{err}");
    let ca = std::fs::read_to_string(dir.join("ca.crt")).unwrap();
    let key = std::fs::read_to_string(dir.join("tls.key")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&ca);
    assert!(ca_bundles(&first).iter().all(|b| *b == b64));

    let (code, second, err) = manifests(&dir, "webhooks");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("using the CA and certificate already in"),
        "{err}"
    );
    assert_eq!(
        ca_bundles(&second),
        ca_bundles(&first),
        "the CA was rotated"
    );
    assert_eq!(std::fs::read_to_string(dir.join("ca.crt")).unwrap(), ca);
    assert_eq!(std::fs::read_to_string(dir.join("tls.key")).unwrap(), key);
    assert_eq!(first, second, "the same certificates give the same bundle");

    // made for another namespace: refused, nothing overwritten
    let (code, out, err) = manifests(&dir, "elsewhere");
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("not valid for flink-admission.elsewhere.svc") && err.contains("remove"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("ca.crt")).unwrap(), ca);

    // a key that is not the certificate's
    let other = Authority::new("other", 1)
        .unwrap()
        .issue(&["x".into()], Usage::Server, 1)
        .unwrap();
    std::fs::write(dir.join("tls.key"), &other.key_pem).unwrap();
    let (code, _, err) = manifests(&dir, "webhooks");
    assert_eq!(code, 2);
    assert!(
        err.contains("tls.key") && err.contains("not the key"),
        "{err}"
    );

    // incomplete
    std::fs::remove_file(dir.join("tls.key")).unwrap();
    let (code, _, err) = manifests(&dir, "webhooks");
    assert_eq!(code, 2);
    assert!(err.contains("but not tls.key"), "{err}");

    // emptied on purpose: a new CA
    for f in ["ca.crt", "tls.crt"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let (code, third, err) = manifests(&dir, "webhooks");
    assert_eq!(code, 0, "{err}");
    assert_ne!(ca_bundles(&third), ca_bundles(&first));
}

#[test]
fn read_bundle_checks_what_write_bundle_wrote() {
    install_provider();
    let tmp = tempfile::tempdir().unwrap();
    let names = certs::service_names("flink-admission", "ns");
    assert!(certs::read_bundle(tmp.path(), &names).unwrap().is_none());
    let (ca, pair) = certs::write_bundle(tmp.path(), &names, 2).unwrap();
    let (ca2, pair2) = certs::read_bundle(tmp.path(), &names).unwrap().unwrap();
    assert_eq!(
        (ca, pair.cert_pem, pair.key_pem),
        (ca2, pair2.cert_pem, pair2.key_pem)
    );
    // a certificate from another CA under this ca.crt
    let stranger = Authority::new("stranger", 1)
        .unwrap()
        .issue(&names, Usage::Server, 1)
        .unwrap();
    std::fs::write(tmp.path().join("tls.crt"), &stranger.cert_pem).unwrap();
    std::fs::write(tmp.path().join("tls.key"), &stranger.key_pem).unwrap();
    let e = certs::read_bundle(tmp.path(), &names).unwrap_err();
    assert!(e.contains("tls.crt") && e.contains("not valid for"), "{e}");
}

// ---------------------------------------------------------------- the ignore annotation

const JM_IGNORING: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: flink-jobmanager
  annotations:
    flink-lint.io/ignore: \"FLK102=we accept a second JobManager, FLK401=sized by the platform team\"
spec:
  template:
    metadata:
      labels: {component: jobmanager}
    spec:
      containers:
      - {name: jobmanager, image: flink:1.20, args: [\"jobmanager\"]}
";

fn lint_json(dir: &Path) -> Value {
    let out = Command::new(assert_cmd::cargo::cargo_bin("flink-lint"))
        .current_dir(dir)
        .args(["--format", "json", "."])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn finding<'a>(v: &'a Value, rule: &str) -> Option<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
}

#[test]
fn the_ignore_annotation_silences_errors_only_when_the_config_allows_it_in_flink_lint() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("jm.yaml"), JM_IGNORING).unwrap();
    let v = lint_json(tmp.path());
    let f = finding(&v, "FLK102").expect("FLK102, an error, is not silenced by default");
    assert_eq!(f["severity"], "error");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("(not silenced: flink-lint.io/ignore silences findings up to warning"),
        "{msg}"
    );
    assert!(finding(&v, "FLK401").is_none(), "the warning is silenced");

    std::fs::write(
        tmp.path().join(".flink-lint.yaml"),
        "suppression:\n  max-severity: error\n",
    )
    .unwrap();
    let v = lint_json(tmp.path());
    assert!(
        finding(&v, "FLK102").is_none(),
        "allowed by the config: {v}"
    );
    assert!(finding(&v, "FLK401").is_none());

    // and `flink-lint explain FLK001` says how
    let explain = Command::new(assert_cmd::cargo::cargo_bin("flink-lint"))
        .args(["explain", "FLK001"])
        .output()
        .unwrap();
    let explain = String::from_utf8_lossy(&explain.stdout);
    assert!(
        explain.contains("suppression: {max-severity: error}") && explain.contains("not silenced"),
        "{explain}"
    );

    // lowering the rule to a warning in the config is the config's choice too
    std::fs::write(
        tmp.path().join(".flink-lint.yaml"),
        "rules:\n  FLK102: warning\n",
    )
    .unwrap();
    assert!(finding(&lint_json(tmp.path()), "FLK102").is_none());
}

#[test]
fn the_ignore_annotation_silences_errors_only_when_the_config_allows_it_in_the_webhook() {
    let object: Value = serde_saphyr::from_str(JM_IGNORING).unwrap();
    let mut review = fixture("jobmanager-deployment-update.json");
    review["request"]["object"] = object;
    review["request"]["operation"] = json!("CREATE");
    review["request"]["oldObject"] = Value::Null;
    let answer = |config: Option<&str>| {
        let engine = match config {
            None => common::engine(),
            Some(text) => {
                Engine::embedded(admission::webhook_settings(Some(text)).unwrap()).unwrap()
            }
        };
        admission::replay_one(
            &engine,
            review.clone(),
            Endpoint::Validate,
            &NoContext,
            &Policy::default(),
        )
        .unwrap()
    };
    let out = answer(None);
    assert_eq!(out["response"]["allowed"], false, "{out}");
    let message = out["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("FLK102") && message.contains("not silenced"),
        "{message}"
    );
    let out = answer(Some("suppression:\n  max-severity: error\n"));
    let rules = out["response"]["auditAnnotations"]["rules"]
        .as_str()
        .unwrap_or("");
    assert!(!rules.contains("FLK102"), "{out}");
}

// ---------------------------------------------------------------- NetworkPolicy

#[test]
fn the_network_policy_says_why_the_webhook_port_stays_open() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base/networkpolicy.yaml"),
    )
    .unwrap();
    let comments: String = text
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for said in ["8443", "API server", "8080", "monitoring"] {
        assert!(comments.contains(said), "the comment does not say {said}");
    }
}

//! Fault drills against the real TLS server (rcgen certificates, rustls on both ends, raw
//! sockets where a well-behaved client library would not misbehave on purpose): slow and idle
//! clients, clients that vanish mid-request, a thousand connections at once, a body one byte
//! over the limit, deep JSON, bytes that are not UTF-8, certificates rotated under load,
//! SIGTERM under load through the real binary, TLS handshakes racing the listener's close, and
//! a cluster API server that is not there at start. What held is written up in
//! docs/reliability.md.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flink_admission::server::certs::{self, Authority, Usage};
use flink_admission::server::{self, ServeOptions, TlsFiles};
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::common::apiserver;
use crate::common::fixture;
use crate::common::secret_volume;

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A CA and the serving files, laid out as a kubelet lays out a Secret volume (`..data`
/// swapped atomically on update).
struct Pki {
    dir: tempfile::TempDir,
    ca: Authority,
}

impl Pki {
    fn new() -> Pki {
        install_provider();
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
            ca: Authority::new("fault drill CA", 30).unwrap(),
        };
        pki.publish(&pki.pair(), 1);
        pki
    }
    fn pair(&self) -> certs::Pair {
        self.ca
            .issue(&["localhost".into(), "127.0.0.1".into()], Usage::Server, 30)
            .unwrap()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn publish(&self, pair: &certs::Pair, generation: usize) {
        secret_volume::publish(&self.path("secret"), pair, generation);
    }
    fn files(&self) -> TlsFiles {
        secret_volume::files(&self.path("secret"))
    }
    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(&self.ca.cert_pem())).unwrap();
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

fn der(pem: &str) -> CertificateDer<'static> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

fn options(pki: &Pki) -> ServeOptions {
    let mut o = ServeOptions::new(pki.files());
    o.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    o.probe_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    o.cluster = false;
    o.shutdown_delay = Duration::ZERO;
    o.cert_poll = Duration::from_millis(100);
    o
}

/// A server started in this process; stopped when dropped.
struct Server {
    addr: SocketAddr,
    probe: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<server::Running>,
}

impl Server {
    async fn start(opts: ServeOptions) -> Server {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = server::start(opts, None, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        Server {
            addr: running.addr,
            probe: running.probe_addr,
            stop: Some(stop),
            running: Some(running),
        }
    }
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(r) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(30), r.wait())
                .await
                .expect("the server stops");
        }
    }
    async fn metrics(&self) -> String {
        let mut s = TcpStream::connect(self.probe).await.unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }
}

async fn tls(connector: &TlsConnector, addr: SocketAddr) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// A POST with `Content-Length`; `close`: ask the server to close after answering.
fn post(path: &str, body: &[u8], close: bool) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// One response: status and body (`Content-Length` framed, as the server answers).
async fn read_response<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
) -> std::io::Result<(u16, Vec<u8>)> {
    read_response_closing(s)
        .await
        .map(|(status, body, _)| (status, body))
}

/// One response, and whether the server said it closes the connection after it.
async fn read_response_closing<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
) -> std::io::Result<(u16, Vec<u8>, bool)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {} bytes of response", buf.len()),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    let close = head.lines().any(|l| l.trim() == "connection: close");
    Ok((status, body, close))
}

/// Connect, send `request`, read the answer.
async fn exchange(
    connector: &TlsConnector,
    addr: SocketAddr,
    request: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = tls(connector, addr).await?;
    s.write_all(request).await?;
    read_response(&mut s).await
}

fn review_bytes() -> Vec<u8> {
    fixture("jobmanager-deployment-update.json")
        .to_string()
        .into_bytes()
}

const UID: &str = "0d9b6c1e-7f43-4f2a-8f9e-2a8c4b1d3e75";

/// A review answered properly: 200 and the request's uid.
fn answered(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<Value>(body).is_ok_and(|v| v["response"]["uid"] == UID)
}

/// Wait until the peer closes `s` (EOF or reset), up to `limit`; what it sent before.
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    limit: Duration,
) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off_and_do_not_block_others() {
    let pki = Pki::new();
    let mut opts = options(&pki);
    opts.header_timeout = Duration::from_millis(500);
    opts.body_timeout = Duration::from_millis(500);
    let srv = Server::start(opts).await;
    let (addr, connector) = (srv.addr, pki.connector());

    // 100 connections that never start TLS, 100 idle after the handshake, 100 trickling
    // their headers a byte at a time, 100 trickling their body
    let mut raw = Vec::new();
    for _ in 0..100 {
        raw.push(TcpStream::connect(addr).await.unwrap());
    }
    let review = review_bytes();
    let mut tasks = Vec::new();
    for kind in 0..3 {
        for _ in 0..100 {
            let connector = connector.clone();
            let review = review.clone();
            tasks.push(tokio::spawn(async move {
                let mut s = tls(&connector, addr).await.unwrap();
                let (mut rd, mut wr) = tokio::io::split(&mut s);
                let trickle: Vec<u8> = match kind {
                    0 => Vec::new(),
                    1 => b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
                    _ => {
                        let head = format!(
                            "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
                            review.len()
                        );
                        wr.write_all(head.as_bytes()).await.unwrap();
                        review.clone()
                    }
                };
                let writer = async {
                    for b in trickle {
                        if wr.write_all(&[b]).await.is_err() || wr.flush().await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    std::future::pending::<()>().await
                };
                tokio::select! {
                    got = closed_by_server(&mut rd, Duration::from_secs(8)) => (kind, got),
                    _ = writer => unreachable!(),
                }
            }));
        }
    }
    // meanwhile an ordinary client is answered
    for _ in 0..5 {
        let (status, body) = exchange(&connector, addr, &post("/validate", &review, true))
            .await
            .unwrap();
        assert!(answered(status, &body), "{status}");
    }
    for t in tasks {
        let (kind, got) = t.await.unwrap();
        let got = got.unwrap_or_else(|| panic!("a slow client of kind {kind} was never cut off"));
        if kind == 2 {
            let text = String::from_utf8_lossy(&got);
            assert!(
                text.starts_with("HTTP/1.1 400") && text.contains("did not arrive within 500 ms"),
                "{text}"
            );
        }
    }
    drop(raw);
    let (status, body) = exchange(&connector, addr, &post("/validate", &review, true))
        .await
        .unwrap();
    assert!(answered(status, &body));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_vanish_mid_request_leave_the_server_serving() {
    let pki = Pki::new();
    let srv = Server::start(options(&pki)).await;
    let (addr, connector) = (srv.addr, pki.connector());
    let review = review_bytes();
    let full = post("/validate", &review, false);
    let mut tasks = Vec::new();
    for i in 0..150 {
        let connector = connector.clone();
        let full = full.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = tls(&connector, addr).await.unwrap();
            match i % 3 {
                // headers and half the body, then gone
                0 => s.write_all(&full[..full.len() / 2]).await.unwrap(),
                // the whole request, gone before the answer (no TLS close_notify either)
                1 => s.write_all(&full).await.unwrap(),
                // a few bytes of the request line
                _ => s.write_all(b"POST /valid").await.unwrap(),
            }
            s.flush().await.unwrap();
            drop(s);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for _ in 0..5 {
        let (status, body) = exchange(&connector, addr, &post("/validate", &review, true))
            .await
            .unwrap();
        assert!(answered(status, &body));
    }
    let m = srv.metrics().await;
    assert!(
        !m.lines()
            .any(|l| l.starts_with("flink_admission_internal_errors_total{") && !l.ends_with(" 0")),
        "{m}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_all_answered() {
    let pki = Pki::new();
    let srv = Server::start(options(&pki)).await;
    let (addr, connector) = (srv.addr, pki.connector());
    let review = Arc::new(post("/validate", &review_bytes(), true));
    let started = Instant::now();
    // first every connection is open (TCP and TLS), then every one sends its review
    let go = Arc::new(tokio::sync::Barrier::new(1000));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (connector, review, go) = (connector.clone(), review.clone(), go.clone());
            tokio::spawn(async move {
                let mut s = tls(&connector, addr).await?;
                go.wait().await;
                s.write_all(&review).await?;
                read_response(&mut s).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap().unwrap();
        assert!(answered(status, &body), "{status}");
        ok += 1;
    }
    assert_eq!(ok, 1000);
    eprintln!(
        "1000 concurrent TLS connections answered in {:?} (debug build)",
        started.elapsed()
    );
    srv.stop().await;
}

/// A review padded with spaces (valid JSON) to exactly `len` bytes.
fn padded_review(len: usize) -> Vec<u8> {
    let mut b = review_bytes();
    assert!(b.len() <= len);
    b.resize(len, b' ');
    b
}

/// The same request with `Transfer-Encoding: chunked` (no length announced).
fn chunked(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in body.chunks(64 * 1024) {
        r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_the_limit_is_taken_and_one_byte_more_is_refused() {
    let pki = Pki::new();
    let opts = options(&pki);
    let limit = opts.body_limit;
    assert_eq!(limit, 3 * 1024 * 1024);
    let srv = Server::start(opts).await;
    let (addr, connector) = (srv.addr, pki.connector());
    for framing in [
        post as fn(&str, &[u8], bool) -> Vec<u8>,
        |p: &str, b: &[u8], _| chunked(p, b),
    ] {
        let (status, body) = exchange(
            &connector,
            addr,
            &framing("/validate", &padded_review(limit), true),
        )
        .await
        .unwrap();
        assert!(
            answered(status, &body),
            "{status} {}",
            String::from_utf8_lossy(&body)
        );
        // one byte more: 413 with a JSON error, whatever the framing
        let over = framing("/validate", &padded_review(limit + 1), true);
        let (status, body) = exchange(&connector, addr, &over).await.unwrap();
        assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], 413, "{v}");
        let (status, body) = exchange(
            &connector,
            addr,
            &framing("/mutate", &padded_review(limit + 1), true),
        )
        .await
        .unwrap();
        assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_refused_or_judged_without_overflowing_the_stack() {
    let pki = Pki::new();
    let srv = Server::start(options(&pki)).await;
    let (addr, connector) = (srv.addr, pki.connector());
    // a million open brackets: a 400, not a crashed server
    for body in [
        "[".repeat(1_000_000).into_bytes(),
        format!("{{\"request\":{}", "{\"a\":".repeat(200_000)).into_bytes(),
    ] {
        for path in ["/validate", "/mutate"] {
            let (status, body) = exchange(&connector, addr, &post(path, &body, true))
                .await
                .unwrap();
            assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["code"], 400, "{v}");
        }
    }
    // as deep as the decoder takes, inside the object, where rules and patches walk: judged
    let mut deep = json!("bottom");
    // 2 levels a round; the review puts the deepest ~10 levels further down: 120 in all, below
    // serde_json's limit of 128
    for _ in 0..55 {
        deep = json!({"x": [deep]});
    }
    let mut review = fixture("jobmanager-deployment-update.json");
    review["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["x-deep"] =
        deep.clone();
    review["request"]["object"]["metadata"]["x-deep"] = deep;
    let bytes = review.to_string().into_bytes();
    for path in ["/validate", "/mutate"] {
        let (status, body) = exchange(&connector, addr, &post(path, &bytes, true))
            .await
            .unwrap();
        assert!(
            answered(status, &body),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (status, body) = exchange(&connector, addr, &post("/validate", &review_bytes(), true))
        .await
        .unwrap();
    assert!(answered(status, &body));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_utf8_get_a_400_and_nothing_else() {
    let pki = Pki::new();
    let srv = Server::start(options(&pki)).await;
    let (addr, connector) = (srv.addr, pki.connector());
    let review = review_bytes();
    // invalid UTF-8 inside a JSON string of a valid review
    let mut in_string = review.clone();
    let at = in_string
        .windows(16)
        .position(|w| w == b"flink-jobmanager")
        .unwrap();
    in_string[at + 2] = 0xff;
    in_string[at + 3] = 0xfe;
    let mut latin1 = review.clone();
    latin1[at + 2] = 0xe9; // é in Latin-1
    for body in [
        vec![0xff, 0xfe, 0x00, 0x7b, 0x00, 0x7d],
        in_string,
        latin1,
        b"\xef\xbb\xbf\xc3\x28".to_vec(),
    ] {
        for path in ["/validate", "/mutate"] {
            let (status, body) = exchange(&connector, addr, &post(path, &body, true))
                .await
                .unwrap();
            assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
            let v: Value = serde_json::from_slice(&body).expect("a JSON error");
            assert_eq!(v["code"], 400, "{v}");
        }
    }
    // raw bytes in a header value and in the path: the request is still handled or refused
    let mut odd_header = b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Junk: \xff\xfe\x80\r\nConnection: close\r\n".to_vec();
    odd_header.extend_from_slice(format!("Content-Length: {}\r\n\r\n", review.len()).as_bytes());
    odd_header.extend_from_slice(&review);
    let (status, body) = exchange(&connector, addr, &odd_header).await.unwrap();
    assert!(answered(status, &body), "{status}");
    let odd_path = b"POST /valid\xffate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    let (status, _) = exchange(&connector, addr, odd_path).await.unwrap();
    assert!((400..500).contains(&status), "{status}");
    let (status, body) = exchange(&connector, addr, &post("/validate", &review, true))
        .await
        .unwrap();
    assert!(answered(status, &body));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_rotate_under_load_without_a_failed_request() {
    let pki = Arc::new(Pki::new());
    let srv = Server::start(options(&pki)).await;
    let (addr, connector) = (srv.addr, pki.connector());
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let request = Arc::new(post("/validate", &review_bytes(), true));
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let load: Vec<_> = (0..6)
        .map(|_| {
            let (connector, stop, ok, failed, request, seen) = (
                connector.clone(),
                stop.clone(),
                ok.clone(),
                failed.clone(),
                request.clone(),
                seen.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    // a new connection (a new handshake) for every request
                    let result = async {
                        let mut s = tls(&connector, addr).await?;
                        let peer = s
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| c.to_vec())
                            .unwrap_or_default();
                        s.write_all(&request).await?;
                        let r = read_response(&mut s).await?;
                        Ok::<_, std::io::Error>((r, peer))
                    }
                    .await;
                    match result {
                        Ok(((status, body), peer)) if answered(status, &body) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            let mut seen = seen.lock().unwrap();
                            if seen.last() != Some(&peer) {
                                seen.push(peer);
                            }
                        }
                        other => {
                            eprintln!("failed: {:?}", other.map(|((s, _), _)| s));
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    let mut last = Vec::new();
    for generation in 2..=4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pair = pki.pair();
        pki.publish(&pair, generation);
        last = der(&pair.cert_pem).to_vec();
    }
    // until the last certificate is the one presented
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.lock().unwrap().last() != Some(&last) {
        assert!(
            Instant::now() < deadline,
            "the last certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("rotation under load: {ok} requests answered, {failed} failed");
    assert_eq!(failed, 0);
    assert!(ok > 20, "{ok}");
    assert!(
        seen.lock().unwrap().len() >= 2,
        "the served certificate changed under load"
    );
    assert!(
        srv.metrics()
            .await
            .contains(r#"flink_admission_certificate_reloads_total{result="success"} 3"#)
    );
    srv.stop().await;
}

// ---------------------------------------------------------------- the binary

/// The server process; killed if a drill fails before it exits.
struct Child(Option<std::process::Child>);

impl Child {
    fn id(&self) -> u32 {
        self.0.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    async fn wait(mut self) -> std::process::ExitStatus {
        let mut child = self.0.take().unwrap();
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Start the binary; `kubeconfig`: its cluster; `log`: where its info-level log goes.
fn spawn_binary(
    args: &[&str],
    kubeconfig: Option<&Path>,
    log: Option<&Path>,
) -> (Child, SocketAddr, SocketAddr) {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_flink-admission"));
    cmd.args(args)
        .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdout(std::process::Stdio::piped())
        .stderr(match log {
            Some(path) => std::process::Stdio::from(std::fs::File::create(path).unwrap()),
            None => std::process::Stdio::null(),
        });
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let (mut addr, mut probe) = (None, None);
    while addr.is_none() || probe.is_none() {
        let line = lines
            .next()
            .expect("the server printed its addresses")
            .unwrap();
        if let Some(a) = line.strip_prefix("webhook: https://") {
            addr = a.trim().parse().ok();
        }
        if let Some(a) = line.strip_prefix("probes: http://") {
            probe = a.trim().parse().ok();
        }
    }
    (Child(Some(child)), addr.unwrap(), probe.unwrap())
}

fn sigterm(child: &Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

async fn probe_get(probe: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(probe).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let (status, body) = read_response(&mut s).await.ok()?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_accepted_request_then_exits_0() {
    let pki = Pki::new();
    let (cert, key) = (pki.path("secret/tls.crt"), pki.path("secret/tls.key"));
    let (child, addr, probe) = spawn_binary(
        &[
            "serve",
            "--no-cluster",
            "--addr",
            "127.0.0.1:0",
            "--probe-addr",
            "127.0.0.1:0",
            "--shutdown-delay",
            "2s",
            "--shutdown-grace",
            "10s",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        None,
        None,
    );
    let connector = pki.connector();
    // The API server dials through the Service: once the endpoint is gone (readiness off, then
    // propagation) it opens no new connection to this pod, but keeps using the ones it has
    // (conntrack) until the server closes them.
    let stop_sending = Arc::new(AtomicBool::new(false));
    let terminated = Arc::new(AtomicBool::new(false));
    let request = Arc::new(post("/validate", &review_bytes(), false));
    // answered, answered after SIGTERM, accepted but not answered, told to close
    let counts: Arc<[AtomicUsize; 4]> = Arc::new(Default::default());
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (connector, stop_sending, terminated, request, counts) = (
                connector.clone(),
                stop_sending.clone(),
                terminated.clone(),
                request.clone(),
                counts.clone(),
            );
            // even clients keep their connection alive, as the API server does; odd ones
            // open one per request
            let keep_alive = i % 2 == 0;
            tokio::spawn(async move {
                let mut conn: Option<TlsStream<TcpStream>> = None;
                while conn.is_some() || !stop_sending.load(Ordering::Relaxed) {
                    let mut s = match conn.take() {
                        Some(s) => s,
                        // refused: the listener has closed (a slow machine got here late); a
                        // request never accepted is not one the server owes an answer
                        None => match tls(&connector, addr).await {
                            Ok(s) => s,
                            Err(_) => return,
                        },
                    };
                    let sent = s.write_all(&request).await;
                    match (sent, read_response_closing(&mut s).await) {
                        (Ok(()), Ok((status, body, close))) if answered(status, &body) => {
                            counts[0].fetch_add(1, Ordering::Relaxed);
                            if terminated.load(Ordering::Relaxed) {
                                counts[1].fetch_add(1, Ordering::Relaxed);
                            }
                            if close {
                                counts[3].fetch_add(1, Ordering::Relaxed);
                            } else if keep_alive {
                                conn = Some(s);
                            }
                        }
                        (_, r) => {
                            eprintln!("accepted, not answered: {r:?}");
                            counts[2].fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(counts[0].load(Ordering::Relaxed) > 0);
    terminated.store(true, Ordering::Relaxed);
    sigterm(&child);
    // readiness goes off at once, while requests are still answered
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some((503, body)) = probe_get(probe, "/readyz").await {
            assert!(body.contains("shutting down"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "readiness never went off");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // slow requests that started during the delay and are still arriving when the listener
    // closes: answered too
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let connector = connector.clone();
            tokio::spawn(async move {
                let body = review_bytes();
                let mut s = tls(&connector, addr).await?;
                let head = format!(
                    "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                s.write_all(head.as_bytes()).await?;
                for part in body.chunks(body.len() / 12 + 1) {
                    // 12 parts over 3 s: still arriving when the listener closes at 2 s
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    s.write_all(part).await?;
                }
                read_response(&mut s).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_sending.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    for t in slow {
        let (status, body) = t.await.unwrap().expect("a slow request answered");
        assert!(answered(status, &body), "{status}");
    }
    // the listener has closed by now: a new connection is refused
    assert!(tls(&connector, addr).await.is_err(), "still accepting");
    let status = child.wait().await;
    let [answered, after, dropped, closed] =
        [0, 1, 2, 3].map(|i| counts[i].load(Ordering::Relaxed));
    eprintln!(
        "SIGTERM under load: {answered} answered ({after} after SIGTERM, {closed} told to close), {dropped} dropped"
    );
    assert!(status.success(), "{status}");
    assert_eq!(dropped, 0, "every accepted request is answered");
    assert!(after > 0, "requests are answered during --shutdown-delay");
    assert!(
        closed > 0,
        "keep-alive connections are closed during --shutdown-delay"
    );
}

/// What became of one connection attempt made across the listener's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The review was answered (200, its uid).
    Answered,
    /// Refused before the handshake completed: the connection was not taken.
    Refused,
    /// The handshake completed, then the request got no answer (closed, reset).
    Dropped,
    /// The handshake completed and the answer was something else.
    Wrong(u16),
    /// Nothing happened within the limit.
    Hung,
}

/// Hand-shake on `tcp` (already connected), post a review, read the answer.
async fn attempt_on(connector: &TlsConnector, tcp: std::io::Result<TcpStream>) -> Attempt {
    let run = async {
        let Ok(tcp) = tcp else {
            return Attempt::Refused;
        };
        let Ok(mut s) = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
        else {
            return Attempt::Refused;
        };
        if s.write_all(&post("/validate", &review_bytes(), true))
            .await
            .is_err()
        {
            return Attempt::Dropped;
        }
        match read_response(&mut s).await {
            Ok((status, body)) if answered(status, &body) => Attempt::Answered,
            Ok((status, _)) => Attempt::Wrong(status),
            Err(_) => Attempt::Dropped,
        }
    };
    // far past everything the server waits for (handshake 10 s, LINGER): only a hang gets here
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap_or(Attempt::Hung)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_handshakes_racing_the_listeners_close_are_answered_or_refused() {
    let pki = Pki::new();
    let mut server = Server::start(options(&pki)).await;
    let connector = pki.connector();
    let addr = server.addr;
    // 12 connections the server accepted before the close whose handshakes start only after
    // it: the ones that complete their handshake just as (here: after) the listener closes
    let mut held = Vec::new();
    for _ in 0..12 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let open = r#"flink_admission_connections_open{port="webhook"}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while gauge(&server.metrics().await, open) != Some(12.0) {
        assert!(
            Instant::now() < deadline,
            "the 12 connections were not accepted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 8 clients opening a connection per review, handshakes under way as the listener closes
    let racing = Arc::new(AtomicBool::new(true));
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (connector, racing) = (connector.clone(), racing.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while racing.load(Ordering::Relaxed) {
                    let a = attempt_on(&connector, TcpStream::connect(addr).await).await;
                    seen.push(a);
                    if a != Attempt::Answered {
                        break;
                    }
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // shutdown (no --shutdown-delay here): the listener closes
    let _ = server.stop.take().unwrap().send(());
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(probe) = TcpStream::connect(addr).await {
        drop(probe);
        assert!(Instant::now() < deadline, "the listener never closed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // now the held connections hand-shake and post, all at once
    let late: Vec<_> = held
        .into_iter()
        .map(|tcp| {
            let connector = connector.clone();
            tokio::spawn(async move { attempt_on(&connector, Ok(tcp)).await })
        })
        .collect();
    let mut late_seen = Vec::new();
    for t in late {
        late_seen.push(t.await.unwrap());
    }
    racing.store(false, Ordering::Relaxed);
    let mut raced = Vec::new();
    for r in racers {
        raced.extend(r.await.unwrap());
    }
    tokio::time::timeout(
        Duration::from_secs(30),
        server.running.take().unwrap().wait(),
    )
    .await
    .expect("the server stops once every connection has ended");
    let count = |seen: &[Attempt], a: Attempt| seen.iter().filter(|&&x| x == a).count();
    eprintln!(
        "handshakes across the close: {} raced ({} answered, {} refused); {} held, {} answered",
        raced.len(),
        count(&raced, Attempt::Answered),
        count(&raced, Attempt::Refused),
        late_seen.len(),
        count(&late_seen, Attempt::Answered),
    );
    assert!(
        late_seen.iter().all(|&a| a == Attempt::Answered),
        "an accepted connection whose handshake completed after the close: {late_seen:?}"
    );
    assert!(
        count(&raced, Attempt::Answered) > 0,
        "the racers were answered before the close"
    );
    assert!(
        raced
            .iter()
            .all(|&a| a == Attempt::Answered || a == Attempt::Refused),
        "a racing connection was dropped, answered wrongly or hung: {raced:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_api_down_at_start_then_up_fail_closed_then_ready() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let kubeconfig = apiserver::write_kubeconfig(dir.path(), &format!("http://{port}"));
    let (cert, key) = (pki.path("secret/tls.crt"), pki.path("secret/tls.key"));
    let (child, addr, probe) = spawn_binary(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--probe-addr",
            "127.0.0.1:0",
            "--fail-mode",
            "closed",
            "--shutdown-delay",
            "0s",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        Some(&kubeconfig),
        None,
    );
    let connector = pki.connector();
    let mut review = fixture("jobmanager-deployment-update.json");
    review["request"]["object"]["spec"]["strategy"] = json!({"type": "Recreate"});
    let request = post("/validate", review.to_string().as_bytes(), true);

    // no API server: not ready, and fail-closed denies what needs the cluster
    let (code, body) = probe_get(probe, "/readyz").await.unwrap();
    assert_eq!(code, 503, "{body}");
    let (status, body) = exchange(&connector, addr, &request).await.unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["response"]["allowed"], false, "{v}");
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("fail-closed"),
        "{v}"
    );

    // it comes up (platform auto: discovery failed at start, the Namespaces decide)
    let api = apiserver::ApiServer::start_on(port).await;
    api.apply_all([
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "streaming"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flink-config", "namespace": "streaming"},
            "data": {"config.yaml": "jobmanager.rpc.address: flink-jobmanager\njobmanager.memory.process.size: 1600m\n",
                     "log4j-console.properties": "rootLogger.level = INFO\n"}}),
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while probe_get(probe, "/readyz").await.map(|r| r.0) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "never ready after the API server came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = exchange(&connector, addr, &request).await.unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["response"]["allowed"], true, "{v}");
    assert!(
        v["response"]["auditAnnotations"].get("fail-mode").is_none(),
        "{v}"
    );
    sigterm(&child);
    let status = child.wait().await;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_auto_takes_openshift_from_the_api_discovery() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let api = apiserver::ApiServer::start().await;
    api.add_group("security.openshift.io");
    api.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "streaming"}}));
    let kubeconfig = api.kubeconfig(dir.path());
    let log = dir.path().join("log");
    let (cert, key) = (pki.path("secret/tls.crt"), pki.path("secret/tls.key"));
    let (child, _, probe) = spawn_binary(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--probe-addr",
            "127.0.0.1:0",
            "--shutdown-delay",
            "0s",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        Some(&kubeconfig),
        Some(&log),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while probe_get(probe, "/readyz").await.map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(api.lists() >= flink_admission::server::cluster::watched().len());
    sigterm(&child);
    assert!(child.wait().await.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("platform from API discovery") && l.contains("Openshift")),
        "{text}"
    );
}

// ---------------------------------------------------------------- connection bounds (issue 23)

fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_closed_and_idle_ones_time_out() {
    let pki = Pki::new();
    let mut opts = options(&pki);
    opts.max_connections = 20;
    opts.idle_timeout = Duration::from_millis(700);
    let server = Server::start(opts).await;
    let connector = pki.connector();
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(tls(&connector, server.addr).await.expect("under the cap"));
    }
    // the 21st is closed as soon as it is accepted: its handshake fails
    assert!(tls(&connector, server.addr).await.is_err());
    let m = server.metrics().await;
    assert_eq!(
        gauge(
            &m,
            r#"flink_admission_connections_refused_total{port="webhook"}"#
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        gauge(&m, r#"flink_admission_connections_open{port="webhook"}"#),
        Some(20.0),
        "{m}"
    );
    // silent connections are closed after the idle timeout, and their slots come back
    for s in held.iter_mut() {
        assert!(
            closed_by_server(s, Duration::from_secs(5)).await.is_some(),
            "idle connection left open"
        );
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut s = tls(&connector, server.addr).await.unwrap();
    s.write_all(&post("/validate", &review_bytes(), false))
        .await
        .unwrap();
    let (status, body) = read_response(&mut s).await.unwrap();
    assert!(answered(status, &body));
    // after answering, it goes quiet: closed again after the idle timeout (the header timeout
    // is 30 s here), as an HTTP/2 connection that made one request is
    assert!(
        closed_by_server(&mut s, Duration::from_secs(5))
            .await
            .is_some()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_port_cuts_unfinished_headers_and_idle_connections() {
    let pki = Pki::new();
    let mut opts = options(&pki);
    opts.header_timeout = Duration::from_millis(500);
    let server = Server::start(opts).await;
    let mut slow = TcpStream::connect(server.probe).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(server.probe).await.unwrap();
    let started = Instant::now();
    assert!(
        closed_by_server(&mut slow, Duration::from_secs(5))
            .await
            .is_some()
    );
    assert!(
        closed_by_server(&mut silent, Duration::from_secs(5))
            .await
            .is_some()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // and it still answers
    let m = server.metrics().await;
    assert!(m.contains("flink_admission_ready"), "{m}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_or_dev_zero_at_the_key_path_does_not_stop_the_server() {
    let pki = Pki::new();
    let server = Server::start(options(&pki)).await;
    let connector = pki.connector();
    let key = pki.files().key;
    let check = || async {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let mut s = tls(&connector, server.addr).await.unwrap();
            s.write_all(&post("/validate", &review_bytes(), true))
                .await
                .unwrap();
            let (status, body) =
                tokio::time::timeout(Duration::from_secs(5), read_response(&mut s))
                    .await
                    .expect("answered in time")
                    .unwrap();
            assert!(answered(status, &body));
        }
    };
    std::fs::remove_file(&key).unwrap();
    let c = std::ffi::CString::new(key.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    check().await;
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &key).unwrap();
    check().await;
    server.stop().await;
}

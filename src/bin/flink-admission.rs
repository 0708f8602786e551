//! `flink-admission`: the admission webhook (`serve`), its certificates (`certs`), the install
//! bundle (`manifests`), `replay` of recorded AdmissionReviews, shell `completions` and the
//! `man` page. Thin: parse, then call `server`, `admission` or `deploy`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use std::io::Write;

use clap::builder::TypedValueParser;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use flink_admission::admission::{self, Endpoint, FailMode, Policy};

use flink_admission::audit;
use flink_admission::engine::rule::Platform;
use flink_admission::engine::{Engine, NoContext};
use flink_admission::lint::{self, discover::Input};
use flink_admission::server::cluster::{self, ClusterCache};
use flink_admission::server::{self, PlatformChoice, ServeOptions, TlsFiles, certs};

/// mimalloc with immediate purging (see `flink_admission::alloc`).
#[global_allocator]
static GLOBAL: flink_admission::alloc::Allocator = flink_admission::alloc::Allocator;

#[derive(Parser)]
#[command(
    name = "flink-admission",
    version,
    about = "Admission webhook for Apache Flink on Kubernetes and OpenShift"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--platform auto|openshift|kubernetes`, read into the engine's own type.
fn platform_parser() -> impl TypedValueParser<Value = PlatformChoice> {
    clap::builder::PossibleValuesParser::new(PlatformChoice::VALUES)
        .try_map(|s| s.parse::<PlatformChoice>())
}

/// Where the webhook's serving certificate comes from (`manifests --tls`).
#[derive(Clone, Copy, ValueEnum)]
enum TlsArg {
    SelfSigned,
    CertManager,
    Openshift,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailModeArg {
    Open,
    Closed,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuditFormat {
    Human,
    Json,
    Sarif,
    Yaml,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

// Parsed once per process: the size of the `serve` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve /validate and /mutate over TLS, probes and metrics over plain HTTP.
    #[command(group(clap::ArgGroup::new("serving").args(["tls_cert", "dev"]).required(true)))]
    Serve {
        /// Webhook address [default: 0.0.0.0:8443; 127.0.0.1:8443 with --dev]
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Serving certificate (PEM; reloaded when it changes)
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Serving key (PEM)
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Throwaway CA and certificate for localhost, 127.0.0.1, no cluster access
        #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
        dev: bool,
        /// Where --dev writes ca.crt, tls.crt, tls.key, kept on exit [default: a new private
        /// temporary directory, removed on exit]
        #[arg(long, requires = "dev")]
        dev_dir: Option<PathBuf>,
        /// Probe and metrics address (plain HTTP) [default: 0.0.0.0:8080; 127.0.0.1:8080 with --dev]
        #[arg(long)]
        probe_addr: Option<SocketAddr>,
        #[arg(long, value_parser = platform_parser(), default_value = "auto")]
        platform: PlatformChoice,
        /// Rule settings (.flink-lint.yaml format)
        #[arg(long)]
        config: Option<PathBuf>,
        /// No Kubernetes API calls: cross-object rules see only the request
        #[arg(long)]
        no_cluster: bool,
        /// Require client certificates signed by this CA (PEM)
        #[arg(long)]
        client_ca: Option<PathBuf>,
        /// When a check cannot be answered (cache not synced, time budget exceeded): allow with
        /// a warning (open) or deny on /validate (closed)
        #[arg(long, value_enum, default_value = "open")]
        fail_mode: FailModeArg,
        /// Time budget per request; keep it below the webhook timeoutSeconds
        #[arg(long, default_value = "4s", value_parser = parse_duration)]
        request_budget: Duration,
        /// Largest request body, in bytes
        #[arg(long, default_value_t = 3 * 1024 * 1024)]
        body_limit: usize,
        /// After SIGTERM: keep serving (not ready) this long, for endpoints to update
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        shutdown_delay: Duration,
        /// Then give in-flight requests this long
        #[arg(long, default_value = "20s", value_parser = parse_duration)]
        shutdown_grace: Duration,
        /// Poll the certificate files this often (besides watching their directory)
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        cert_poll_interval: Duration,
        /// A cluster watch failing this long makes the cache not synced (not ready, fail mode
        /// applies) until a new list succeeds
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        cache_stale_after: Duration,
        /// Close a connection that has not sent a request's headers within this time (after
        /// the TLS handshake or the previous response: idle keep-alive connections too)
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        header_timeout: Duration,
        /// Reject a request whose body has not arrived within this time after its headers
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        body_timeout: Duration,
        /// Reviews decoded or judged at once; one waits for a slot within its time budget,
        /// then gets 503
        #[arg(long, default_value_t = server::routes::DEFAULT_MAX_REVIEWS)]
        max_reviews: usize,
        /// Most JSON values (objects, arrays, strings, numbers...) in one review; more gets 413
        #[arg(long, default_value_t = server::routes::DEFAULT_MAX_VALUES)]
        max_values: usize,
        /// Bytes of request bodies held at once (declared Content-Length, or --body-limit when
        /// none); a body over it gets 503 before it is read
        #[arg(long, default_value_t = server::routes::DEFAULT_BODY_BYTES_IN_FLIGHT)]
        max_body_bytes_in_flight: usize,
        /// Connections open at once on the webhook port (lowered to stay below the open-file
        /// limit); more are closed as soon as accepted
        #[arg(long, default_value_t = server::conns::DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// Close a connection (either port) that has read and written nothing for this long
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        idle_timeout: Duration,
        /// Who may create the objects the Flink operator generates (request.userInfo.username,
        /// `*` matches anything; repeat for more): from anyone else they are judged
        #[arg(long = "operator-user", default_values = admission::review::DEFAULT_OPERATOR_USERS)]
        operator_users: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        log_format: LogFormat,
        /// Audit the watched cluster this often (e.g. 1h) and keep its PolicyReports up to date
        /// (needs the PolicyReport CRDs: deploy/overlays/policy-reports) [default: off]
        #[arg(long, value_parser = parse_duration)]
        audit_interval: Option<Duration>,
    },
    /// Write a CA and a serving certificate for the webhook Service: ca.crt, tls.crt, tls.key.
    Certs {
        #[arg(long)]
        service: String,
        #[arg(long)]
        namespace: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Print the install bundle (multi-document YAML, same objects as deploy/overlays/<tls>).
    Manifests {
        /// Where the serving certificate comes from
        #[arg(long, value_enum, default_value = "cert-manager")]
        tls: TlsArg,
        #[arg(long, default_value = flink_admission::deploy::DEFAULT_NAMESPACE)]
        namespace: String,
        #[arg(long, default_value = flink_admission::deploy::DEFAULT_IMAGE)]
        image: String,
        /// The server's --platform [default: openshift with --tls openshift, else auto]
        #[arg(long, value_parser = platform_parser())]
        platform: Option<PlatformChoice>,
        /// With --tls self-signed: also write ca.crt, tls.crt, tls.key here (keep tls.key
        /// secret); when they are already there, use them again (same CA: a second install does
        /// not rotate it)
        #[arg(long)]
        certs_out: Option<PathBuf>,
        /// With --tls self-signed: lifetime of new certificates
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Answer a recorded AdmissionReview (JSON, NDJSON or YAML) as the webhook would, offline.
    Replay {
        /// The recorded review; '-' reads standard input
        review: PathBuf,
        /// Answer as /mutate (default: /validate)
        #[arg(long)]
        mutate: bool,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_parser = platform_parser())]
        platform: Option<PlatformChoice>,
    },
    /// Judge what already runs, with the webhook's rules and cluster view: the cluster of the
    /// current kubeconfig context, or a cluster export (--from). Exit 1 when an error is found.
    Audit {
        /// A cluster export instead of the cluster: `kubectl get ... -A -o yaml` (a List or many
        /// documents), a file or a directory of them (repeatable)
        #[arg(long, value_name = "FILE|DIR")]
        from: Vec<PathBuf>,
        /// human, json, sarif, or yaml (the PolicyReports the audit would write)
        #[arg(long, value_enum, default_value = "human")]
        format: AuditFormat,
        /// The webhook's rule settings (.flink-lint.yaml format, as serve --config)
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_parser = platform_parser(), default_value = "auto")]
        platform: PlatformChoice,
        /// Only objects in this namespace (repeatable; default: every namespace)
        #[arg(long = "namespace", short = 'n', value_name = "NAMESPACE")]
        namespaces: Vec<String>,
        /// Create or update a PolicyReport per namespace (wgpolicyk8s.io/v1alpha2); reports
        /// that did not change are not written, stale ones are deleted
        #[arg(long, conflicts_with = "from")]
        write_reports: bool,
        /// Most API requests per second
        #[arg(long, default_value_t = server::audit::DEFAULT_QPS)]
        qps: f64,
        /// No progress lines on standard error
        #[arg(short, long)]
        quiet: bool,
    },
    /// Print a shell completion script (bash: `source <(flink-admission completions bash)`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `flink-admission man > flink-admission.1`.
    Man,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 4s or 500ms"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("'{s}': unit must be ms, s, m or h")),
    }
}

/// The most any input is read, and how it is decoded: as `flink-lint` reads
/// ([`lint::cli::read_input_as`]): `/dev/zero` stops at the cap. `-` is standard input.
fn read_input(path: &Path) -> Result<String, String> {
    let input = if path.as_os_str() == "-" {
        Input::Stdin
    } else {
        Input::File(path.to_path_buf())
    };
    lint::cli::read_input_as("flink-admission", &input, &path.display().to_string())
        .map_err(|u| u.message)
}

fn read_config(path: Option<&PathBuf>) -> Result<Option<String>, String> {
    path.map(|p| read_input(p)).transpose()
}

/// Write everything to standard output and flush it: a full disk or a closed pipe is an
/// error (exit 2 with a message, as `flink-lint` does), never a panic.
fn print_out(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write the output: {e}"))
}

/// A line on standard error; one that cannot be written is dropped (there is nowhere left to
/// say so), never a panic.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "flink-admission: {line}");
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to standard output (an error there is exit 2, as below); usage
        // errors to standard error, exit 2.
        Err(e) if !e.use_stderr() => {
            return match print_out(e.render().to_string().as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    say(&e);
                    ExitCode::from(2)
                }
            };
        }
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Serve {
            addr,
            tls_cert,
            tls_key,
            dev,
            dev_dir,
            probe_addr,
            platform,
            config,
            no_cluster,
            client_ca,
            fail_mode,
            request_budget,
            body_limit,
            shutdown_delay,
            shutdown_grace,
            cert_poll_interval,
            cache_stale_after,
            header_timeout,
            body_timeout,
            max_reviews,
            max_values,
            max_body_bytes_in_flight,
            max_connections,
            idle_timeout,
            operator_users,
            log_format,
            audit_interval,
        } => (|| {
            server::init_logging(matches!(log_format, LogFormat::Json));
            let text = read_config(config.as_ref())?;
            let settings = admission::webhook_settings(text.as_deref())?;
            let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
            let any = |port: u16| SocketAddr::from(([0, 0, 0, 0], port));
            // The throwaway CA and key of --dev live in a private (0700) temporary directory,
            // removed when serve returns (SIGTERM, Ctrl-C or an error): dropping `_dev_temp`.
            let mut _dev_temp = None;
            let tls = if dev {
                let dir = match dev_dir {
                    Some(d) => d,
                    None => {
                        let mut builder = tempfile::Builder::new();
                        builder.prefix("flink-admission-dev-");
                        #[cfg(unix)]
                        {
                            use std::os::unix::fs::PermissionsExt;
                            builder.permissions(std::fs::Permissions::from_mode(0o700));
                        }
                        let t = builder
                            .tempdir()
                            .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
                        let path = t.path().to_path_buf();
                        _dev_temp = Some(t);
                        path
                    }
                };
                let (mut files, ca) = server::dev_files(&dir)?;
                files.client_ca = client_ca.clone();
                print_out(format!("dev CA certificate: {}\n", ca.display()).as_bytes())?;
                files
            } else {
                match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => TlsFiles {
                        cert,
                        key,
                        client_ca,
                    },
                    _ => return Err("--tls-cert and --tls-key are required (or --dev)".to_string()),
                }
            };
            let mut opts = ServeOptions::new(tls);
            opts.addr = addr.unwrap_or(if dev { local(8443) } else { any(8443) });
            opts.probe_addr = probe_addr.unwrap_or(if dev { local(8080) } else { any(8080) });
            opts.settings = settings;
            opts.platform = platform;
            opts.cluster = !(no_cluster || dev);
            opts.policy = Policy {
                fail_mode: match fail_mode {
                    FailModeArg::Open => FailMode::Open,
                    FailModeArg::Closed => FailMode::Closed,
                },
                operator_users,
                ..Policy::default()
            };
            opts.budget = request_budget;
            opts.body_limit = body_limit;
            opts.shutdown_delay = shutdown_delay;
            opts.shutdown_grace = shutdown_grace;
            opts.cert_poll = cert_poll_interval;
            opts.cache_stale_after = cache_stale_after;
            opts.header_timeout = header_timeout;
            opts.body_timeout = body_timeout;
            opts.limits = server::Limits {
                max_reviews,
                max_values,
                body_bytes_in_flight: max_body_bytes_in_flight,
            };
            opts.max_connections = max_connections;
            opts.idle_timeout = idle_timeout;
            if audit_interval.is_some() && !opts.cluster {
                return Err(
                    "--audit-interval scans the cluster: it cannot run with --no-cluster or --dev"
                        .to_string(),
                );
            }
            opts.audit_interval = audit_interval;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(server::run(opts))
        })(),
        Command::Certs {
            service,
            namespace,
            out,
            days,
        } => (|| {
            let names = certs::service_names(&service, &namespace);
            let (_, _) = certs::write_bundle(&out, &names, days)?;
            print_out(
                format!(
                    "wrote {0}/ca.crt, {0}/tls.crt, {0}/tls.key for {1}\n\
                     caBundle for the webhook configurations: base64 of {0}/ca.crt\n",
                    out.display(),
                    names.join(", ")
                )
                .as_bytes(),
            )
        })(),
        Command::Manifests {
            tls,
            namespace,
            image,
            platform,
            certs_out,
            days,
        } => manifests(tls, namespace, image, platform, certs_out, days),
        Command::Replay {
            review,
            mutate,
            config,
            platform,
        } => return replay(review, mutate, config, platform),
        Command::Audit {
            from,
            format,
            config,
            platform,
            namespaces,
            write_reports,
            qps,
            quiet,
        } => {
            let opts = AuditOptions {
                format,
                config,
                platform,
                scope: server::audit::Scope {
                    namespaces,
                    qps,
                    ..Default::default()
                },
                write_reports,
                quiet,
            };
            return audit(from, opts);
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "flink-admission", &mut buf);
            print_out(&buf)
        }
        Command::Man => lint::cli::man_page(Cli::command())
            .map_err(|e| format!("cannot render the man page: {e}"))
            .and_then(|page| print_out(&page)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(&e);
            ExitCode::from(2)
        }
    }
}

fn replay(
    path: PathBuf,
    mutate: bool,
    config: Option<PathBuf>,
    platform: Option<PlatformChoice>,
) -> ExitCode {
    let setup = || -> Result<(Engine, Vec<serde_json::Value>), String> {
        let text = read_config(config.as_ref())?;
        let mut settings = admission::webhook_settings(text.as_deref())?;
        if let Some(PlatformChoice::Fixed(p)) = platform {
            settings.platform = p;
        }
        let engine = Engine::embedded(settings)?;
        let input = read_input(&path)?;
        let reviews =
            admission::parse_reviews(&input).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((engine, reviews))
    };
    let (engine, reviews) = match setup() {
        Ok(x) => x,
        Err(e) => {
            say(&e);
            return ExitCode::from(2);
        }
    };
    let endpoint = if mutate {
        Endpoint::Mutate
    } else {
        Endpoint::Validate
    };
    let policy = Policy::default();
    let mut failed = false;
    for value in reviews {
        let line = match admission::replay_one(&engine, value, endpoint, &NoContext, &policy) {
            Ok(resp) => resp,
            Err(err) => {
                failed = true;
                err
            }
        };
        let mut text = if_pretty(&line);
        text.push('\n');
        if let Err(e) = print_out(text.as_bytes()) {
            say(&e);
            return ExitCode::from(2);
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

struct AuditOptions {
    format: AuditFormat,
    config: Option<PathBuf>,
    platform: PlatformChoice,
    scope: server::audit::Scope,
    write_reports: bool,
    quiet: bool,
}

/// What an audit found, ready to print.
struct Audited {
    engine: Engine,
    outcome: lint::Outcome,
    judged: Vec<audit::Judged>,
}

/// The engine for an audit: the webhook's settings, on the platform asked for or found.
fn audit_engine(opts: &AuditOptions, found: impl FnOnce() -> Platform) -> Result<Engine, String> {
    let text = read_config(opts.config.as_ref())?;
    let mut settings = admission::webhook_settings(text.as_deref())?;
    settings.platform = match opts.platform {
        PlatformChoice::Fixed(p) => p,
        PlatformChoice::Auto => found(),
    };
    Engine::embedded(settings)
}

/// `audit --from`: the export read as flink-lint reads files (Lists, positions, input errors),
/// put into a cache as the webhook's watchers fill it, every audited object judged against it.
fn audit_export(paths: &[PathBuf], opts: &AuditOptions) -> Result<Audited, String> {
    use rayon::prelude::*;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let (found, unreadable) = lint::discover::expand(&names);
    let mut inputs = lint::Inputs::default();
    let mut files = Vec::new();
    for input in &found {
        let name = input.display();
        match lint::cli::read_input_as("flink-admission", input, &name) {
            Ok(text) => files.push((name, text)),
            Err(u) => inputs.unreadable(&name, u.message),
        }
    }
    for (name, message) in unreadable {
        inputs.unreadable(&name, message);
    }
    // Only the human format quotes the export's lines: the others need no text once parsed.
    let human = opts.format == AuditFormat::Human;
    inputs.add_all(files, |_| human);
    // What no rule reads (managedFields, the last-applied copy, status) goes at once, as the
    // webhook's cache drops it: an export holds much of it.
    for o in &mut inputs.objects {
        cluster::prune(std::sync::Arc::make_mut(&mut o.value));
    }
    let cache = ClusterCache::new(cluster::watched());
    cache.fill(
        inputs
            .objects
            .iter()
            .filter(|o| audit::listed_kind(&o.value).is_some())
            .map(|o| (*o.value).clone()),
    );
    let engine = audit_engine(opts, || {
        cache.detect_platform().unwrap_or(Platform::Kubernetes)
    })?;
    let placed: Vec<(String, audit::Judged, Vec<lint::Located>)> = inputs
        .objects
        .par_iter()
        .filter(|o| {
            opts.scope
                .covers(flink_admission::flink::object::namespace(&o.value))
        })
        .filter_map(|o| {
            let j = audit::judge(&engine, &o.value, &cache)?;
            let file = inputs.files[o.file].name.clone();
            let located = j
                .findings
                .iter()
                .map(|f| lint::place(o, &file, f.clone()))
                .collect();
            Some((file, j, located))
        })
        .collect();
    let mut outcome = lint::Outcome {
        errors: std::mem::take(&mut inputs.errors),
        files: std::mem::take(&mut inputs.files),
        ..Default::default()
    };
    let mut judged = Vec::with_capacity(placed.len());
    for (file, j, located) in placed {
        outcome.objects.push((file, j.object.clone()));
        outcome.findings.extend(located);
        judged.push(j);
    }
    Ok(Audited {
        engine,
        outcome,
        judged,
    })
}

/// Where a finding of the live cluster is shown: no file, the object names it.
const CLUSTER: &str = "cluster";

/// `audit` of the cluster: listed page by page into a cache as the webhook's, judged, and the
/// PolicyReports written when asked.
async fn audit_cluster(opts: &AuditOptions) -> Result<Audited, String> {
    let progress = |line: String| {
        if !opts.quiet {
            say(&line);
        }
    };
    let client = kube::Client::try_default().await.map_err(|e| {
        format!("cannot reach the Kubernetes API (or audit an export with --from): {e}")
    })?;
    let listed = server::audit::list_cluster(&client, &opts.scope, &progress).await?;
    let discovered = match opts.platform {
        PlatformChoice::Fixed(_) => None,
        PlatformChoice::Auto => client
            .list_api_groups()
            .await
            .ok()
            .map(|l| Platform::from_api_groups(l.groups.iter().map(|g| g.name.as_str()))),
    };
    let engine = audit_engine(opts, || {
        discovered
            .or_else(|| listed.cache.detect_platform())
            .unwrap_or(Platform::Kubernetes)
    })?;
    let judged = audit::judge_all(&engine, &listed.subjects, &listed.cache, &|| {});
    progress(format!("judged {} object(s)", judged.len()));
    if opts.write_reports {
        let reports = audit::policy_reports(&engine, &judged);
        let w = server::audit::write_reports(&client, reports, &opts.scope).await?;
        progress(format!(
            "PolicyReports: {} created, {} replaced, {} deleted",
            w.created, w.replaced, w.deleted
        ));
    }
    let mut outcome = lint::Outcome::default();
    for j in &judged {
        outcome
            .objects
            .push((CLUSTER.to_string(), j.object.clone()));
        outcome
            .findings
            .extend(j.findings.iter().map(|f| lint::Located {
                finding: Box::new(f.clone()),
                file: CLUSTER.to_string(),
                line: 0,
                column: 0,
                patch: None,
            }));
    }
    Ok(Audited {
        engine,
        outcome,
        judged,
    })
}

/// `flink-admission audit`: exit 1 when an error is found, 2 when the input or the cluster
/// cannot be read.
fn audit(from: Vec<PathBuf>, opts: AuditOptions) -> ExitCode {
    let run = || -> Result<Audited, String> {
        if from.is_empty() {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(audit_cluster(&opts))
        } else {
            audit_export(&from, &opts)
        }
    };
    let audited = match run() {
        Ok(a) => a,
        Err(e) => {
            say(&e);
            return ExitCode::from(2);
        }
    };
    let outcome = &audited.outcome;
    let text = match opts.format {
        AuditFormat::Human => {
            let mut out = Vec::new();
            let options = lint::render::HumanOptions {
                color: false,
                input_errors: true,
                summary: Some(outcome.summary()),
                notes: &[],
            };
            let _ = lint::render::write_human_with(&mut out, outcome, &[], &options);
            out
        }
        AuditFormat::Json => lint::render::json(outcome).into_bytes(),
        AuditFormat::Sarif => lint::render::sarif(outcome, audited.engine.registry()).into_bytes(),
        AuditFormat::Yaml => {
            let reports = audit::policy_reports(&audited.engine, &audited.judged);
            match serde_saphyr::to_string_multiple(&reports) {
                Ok(t) => t.into_bytes(),
                Err(e) => {
                    say(&format!("cannot write the reports as YAML: {e}"));
                    return ExitCode::from(2);
                }
            }
        }
    };
    if let Err(e) = print_out(&text) {
        say(&e);
        return ExitCode::from(2);
    }
    if !outcome.errors.is_empty() {
        if opts.format == AuditFormat::Yaml {
            for e in &outcome.errors {
                say(&format!(
                    "{}:{}:{}: {}",
                    e.file, e.line, e.column, e.message
                ));
            }
        }
        ExitCode::from(2)
    } else if audit::Counts::of(&audited.judged).errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn if_pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn manifests(
    tls: TlsArg,
    namespace: String,
    image: String,
    platform: Option<PlatformChoice>,
    certs_out: Option<PathBuf>,
    days: u32,
) -> Result<(), String> {
    use flink_admission::deploy::{self, ManifestOptions, Tls};
    let tls = match tls {
        TlsArg::CertManager => Tls::CertManager,
        TlsArg::Openshift => Tls::Openshift,
        TlsArg::SelfSigned => {
            let names = certs::service_names(deploy::NAME, &namespace);
            let (ca_pem, pair) = match &certs_out {
                Some(dir) => match certs::read_bundle(dir, &names)? {
                    Some(found) => {
                        say(&format!(
                            "using the CA and certificate already in {} (remove them to make new ones)",
                            dir.display()
                        ));
                        found
                    }
                    None => certs::write_bundle(dir, &names, days)?,
                },
                None => {
                    let ca = certs::Authority::new("flink-admission webhook CA", days)?;
                    let pair = ca.issue(&names, certs::Usage::Server, days)?;
                    (ca.cert_pem(), pair)
                }
            };
            Tls::SelfSigned {
                ca_pem,
                cert_pem: pair.cert_pem,
                key_pem: pair.key_pem,
            }
        }
    };
    let mut opts = ManifestOptions::new(tls);
    opts.namespace = namespace;
    opts.image = image;
    if let Some(p) = platform {
        opts.platform = p;
    }
    print_out(deploy::manifests(&opts)?.as_bytes())
}

#[cfg(test)]
mod allocator_tests {
    #[test]
    fn mimalloc_runs_with_its_options_in_force() {
        assert_eq!(flink_admission::alloc::options_in_force(), Ok(()));
    }
}

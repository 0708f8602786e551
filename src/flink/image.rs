//! Flink versions: from a custom resource's `flinkVersion` (`v1_20`) or from a container image
//! reference (`apache/flink:1.20.1-scala_2.12-java11`), and which configuration file a version
//! reads (`flink-conf.yaml` or `config.yaml`).

use std::cell::RefCell;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// A Flink `major.minor` version. Orders by major, then minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlinkVersion {
    pub major: u32,
    pub minor: u32,
}

impl FlinkVersion {
    pub const V1_19: FlinkVersion = FlinkVersion::new(1, 19);
    pub const V2_0: FlinkVersion = FlinkVersion::new(2, 0);

    pub const fn new(major: u32, minor: u32) -> FlinkVersion {
        FlinkVersion { major, minor }
    }

    /// The custom resource's spelling, `v1_20`.
    pub fn cr_name(&self) -> String {
        format!("v{}_{}", self.major, self.minor)
    }
}

impl fmt::Display for FlinkVersion {
    /// `1.20`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

static CR_VERSION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^v([0-9]{1,4})_([0-9]{1,4})$").ok());
/// A tag that starts with `<major>.<minor>`, followed by the end or a separator.
static TAG_VERSION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([0-9]{1,4})\.([0-9]{1,4})(?:[.+_-]|$)").ok());
/// `flink-2.0`, `flink1.18`, `flink_1.20`, `flink-v1.19` inside another tag or name.
static FLINK_MARKER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9])flink[-_]?v?([0-9]{1,4})\.([0-9]{1,4})(?:[^0-9]|$)").ok()
});
/// The OCI tag grammar.
static TAG: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").ok());

fn captures_version(re: &LazyLock<Option<Regex>>, text: &str) -> Option<FlinkVersion> {
    let caps = re.as_ref()?.captures(text)?;
    let major = caps.get(1)?.as_str().parse().ok()?;
    let minor = caps.get(2)?.as_str().parse().ok()?;
    Some(FlinkVersion::new(major, minor))
}

/// A custom resource's `flinkVersion`: exactly `v<major>_<minor>` (`v1_20`, `v2_0`).
pub fn from_cr(s: &str) -> Option<FlinkVersion> {
    captures_version(&CR_VERSION, s)
}

/// The parts of an image reference `[registry[:port]/]path/name[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry host (with port), when the first component names one.
    pub registry: Option<&'a str>,
    /// The repository path without the registry (`apache/flink`).
    pub repository: &'a str,
    /// The last path component of the repository (`flink`).
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Split an image reference. Lenient: templated or odd references still split, and callers
    /// check what they use (see [`from_image`]). `None` for an empty reference.
    pub fn parse(image: &'a str) -> Option<ImageRef<'a>> {
        let image = image.trim();
        if image.is_empty() {
            return None;
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        let (registry, path_and_tag) = match rest.split_once('/') {
            Some((first, after))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), after)
            }
            _ => (None, rest),
        };
        let (repository, tag) = match path_and_tag.split_once(':') {
            Some((r, t)) => (r, Some(t)),
            None => (path_and_tag, None),
        };
        let name = repository.rsplit('/').next().unwrap_or(repository);
        Some(ImageRef {
            registry,
            repository,
            name,
            tag,
            digest,
        })
    }
}

/// The repository names that are Flink itself, whose tag is the Flink version
/// (`flink`, `apache/flink`, `docker.io/library/flink`, `confluentinc/cp-flink`).
fn is_flink_distribution(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "flink" || name == "cp-flink"
}

/// The Flink version of an image, when the reference says it:
///
/// - a Flink distribution (`flink`, `apache/flink`, `docker.io/library/flink`,
///   `confluentinc/cp-flink`) whose tag starts with `<major>.<minor>` (`1.20.1-scala_2.12-java11`,
///   `2.0`, `1.17-python`);
/// - any image whose tag or name carries `flink-<major>.<minor>` (`manabu-test:flink-2.0-py-3-11`).
///
/// `None` for `latest`, a digest without a tag, custom tags (`main`), templating
/// (`{{< stable >}}`), and for images built on Flink with their own version scheme
/// (`flink-sql-runner:0.2.0`, `flink-dedup-app:1.0.0`), whose tag is not the Flink version.
pub fn from_image(image: &str) -> Option<FlinkVersion> {
    judged(image).0
}

/// What [`from_image`] and [`pinned`] say of `image`, remembered for the last image judged on
/// this thread: the rules of one review ask about the same image many times, and each answer
/// runs three regexes. Long references (hostile input) are never kept.
fn judged(image: &str) -> (Option<FlinkVersion>, Option<Pinned>) {
    type Last = RefCell<Option<(String, Option<FlinkVersion>, Option<Pinned>)>>;
    thread_local! {
        static LAST: Last = const { RefCell::new(None) };
    }
    const KEPT: usize = 512;
    let work = || {
        let v = version_in_reference(image);
        (v, pinned_from(image, v))
    };
    if image.len() > KEPT {
        return work();
    }
    LAST.with(|last| {
        if let Some((seen, v, p)) = &*last.borrow()
            && seen == image
        {
            return (*v, *p);
        }
        let (v, p) = work();
        *last.borrow_mut() = Some((image.to_string(), v, p));
        (v, p)
    })
}

fn version_in_reference(image: &str) -> Option<FlinkVersion> {
    let r = ImageRef::parse(image)?;
    let tag = r
        .tag
        .filter(|t| TAG.as_ref().is_some_and(|re| re.is_match(t)));
    if let Some(tag) = tag {
        if is_flink_distribution(r.name)
            && let Some(v) = captures_version(&TAG_VERSION, tag).filter(|v| v.major >= 1)
        {
            return Some(v);
        }
        if let Some(v) = captures_version(&FLINK_MARKER, tag).filter(|v| v.major >= 1) {
            return Some(v);
        }
    }
    captures_version(&FLINK_MARKER, r.name).filter(|v| v.major >= 1)
}

/// The newest Flink release: what the official image's floating tags (`latest`, `java17`,
/// `scala_2.12-java17`, and a reference without a tag) point at (apache/flink-docker's newest
/// release directory, 2.2 with 2.2.1).
pub const NEWEST: FlinkVersion = FlinkVersion::new(2, 2);

/// A floating tag of the official image: `latest`, or only the Scala/Java variant
/// (`java17`, `scala_2.12-java11`), which the official image points at its newest release.
static FLOATING_TAG: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?:latest|(?:scala_[0-9.]+-)?java[0-9]+)$").ok());

/// The Flink version an image runs, as far as the reference tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinned {
    /// The tag names the version (see [`from_image`]).
    Exact(FlinkVersion),
    /// A Flink distribution (`flink`, `apache/flink`) under a floating tag or none, without a
    /// digest: the newest Flink ([`NEWEST`]) today, another one after the next release.
    Floating(FlinkVersion),
}

impl Pinned {
    pub fn version(self) -> FlinkVersion {
        match self {
            Pinned::Exact(v) | Pinned::Floating(v) => v,
        }
    }
}

/// The Flink version an image runs: [`from_image`], else the newest Flink for a Flink
/// distribution under `latest`, a Scala/Java-only tag or no tag (and no digest, which pins an
/// image whose version the reference does not say). `None` otherwise.
pub fn pinned(image: &str) -> Option<Pinned> {
    judged(image).1
}

fn pinned_from(image: &str, exact: Option<FlinkVersion>) -> Option<Pinned> {
    if let Some(v) = exact {
        return Some(Pinned::Exact(v));
    }
    let r = ImageRef::parse(image)?;
    if !r.name.eq_ignore_ascii_case("flink") || r.digest.is_some() {
        return None;
    }
    let floating = match r.tag {
        None => true,
        Some(t) => FLOATING_TAG.as_ref().is_some_and(|re| re.is_match(t)),
    };
    floating.then_some(Pinned::Floating(NEWEST))
}

/// The Flink version an image runs, floating tags resolved to the newest Flink ([`pinned`]).
pub fn version_of(image: &str) -> Option<FlinkVersion> {
    pinned(image).map(Pinned::version)
}

/// Whether the standalone entrypoints of this version take the JobManager's host as a
/// positional argument (`jobmanager.sh start-foreground <host>`, the docs' `args: [jobmanager,
/// $(POD_IP)]`). Flink 2.0 removed it (and `--host`): its JobManager takes the address only as
/// the dynamic property `-D jobmanager.rpc.address=...`, which 1.x accepts too.
pub fn takes_positional_host(v: FlinkVersion) -> bool {
    v < FlinkVersion::V2_0
}

/// Operator images: the Apache Flink Kubernetes Operator and the older community operators.
fn is_operator_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("flink-kubernetes-operator")
        || name == "flink-operator"
        || name == "flinkk8soperator"
}

/// Whether the image is Flink or built on it: the repository's last path component contains
/// `flink` (`flink`, `apache/flink`, `cp-flink`, `flink-sql-runner`, `ecom-flink-app`), and it is
/// not an operator image.
pub fn is_flink_image(image: &str) -> bool {
    ImageRef::parse(image)
        .is_some_and(|r| r.name.to_ascii_lowercase().contains("flink") && !is_operator_name(r.name))
}

/// Whether the image is a Flink operator (`ghcr.io/apache/flink-kubernetes-operator`).
pub fn is_operator_image(image: &str) -> bool {
    ImageRef::parse(image).is_some_and(|r| is_operator_name(r.name))
}

/// Which configuration file a Flink version reads from its configuration directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigFileName {
    /// `flink-conf.yaml` only (before 1.19).
    Legacy,
    /// `config.yaml` only (2.0 and later).
    Yaml,
    /// Either (1.19 and 1.20 read `config.yaml` and fall back to the deprecated `flink-conf.yaml`;
    /// also an unknown version).
    Either,
}

pub const FLINK_CONF_YAML: &str = "flink-conf.yaml";
pub const CONFIG_YAML: &str = "config.yaml";

impl ConfigFileName {
    /// The file names accepted, preferred first.
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            ConfigFileName::Legacy => &[FLINK_CONF_YAML],
            ConfigFileName::Yaml => &[CONFIG_YAML],
            ConfigFileName::Either => &[CONFIG_YAML, FLINK_CONF_YAML],
        }
    }
}

/// See [`ConfigFileName`].
pub fn expected_config_file(v: Option<FlinkVersion>) -> ConfigFileName {
    match v {
        None => ConfigFileName::Either,
        Some(v) if v < FlinkVersion::V1_19 => ConfigFileName::Legacy,
        Some(v) if v < FlinkVersion::V2_0 => ConfigFileName::Either,
        Some(_) => ConfigFileName::Yaml,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32) -> Option<FlinkVersion> {
        Some(FlinkVersion::new(major, minor))
    }

    #[test]
    fn the_remembered_answer_is_the_answer_for_that_image_only() {
        // Alternating images on one thread: each answer is its own image's.
        for _ in 0..2 {
            assert_eq!(from_image("flink:1.20"), v(1, 20));
            assert_eq!(pinned("flink"), Some(Pinned::Floating(NEWEST)));
            assert_eq!(from_image("flink"), None);
            assert_eq!(
                pinned("flink:1.19"),
                Some(Pinned::Exact(FlinkVersion::new(1, 19)))
            );
        }
        // A reference too long to keep is still judged.
        let long = format!("registry.example/{}/flink:1.18", "a".repeat(600));
        assert_eq!(from_image(&long), v(1, 18));
        assert_eq!(from_image("flink:1.20"), v(1, 20));
    }

    #[test]
    fn cr_versions() {
        assert_eq!(from_cr("v1_20"), v(1, 20));
        assert_eq!(from_cr("v2_0"), v(2, 0));
        assert_eq!(from_cr("v1_13"), v(1, 13));
        assert_eq!(from_cr("v2_2"), v(2, 2));
        for bad in [
            "v1_19.1", "1_20", "v1.20", "V1_20", "v1_", "v_20", "", "v1_20 ", "v1_2_3", "vx_y",
        ] {
            assert_eq!(from_cr(bad), None, "{bad:?}");
        }
        assert_eq!(FlinkVersion::new(1, 20).cr_name(), "v1_20");
        assert_eq!(FlinkVersion::new(1, 20).to_string(), "1.20");
    }

    #[test]
    fn version_order() {
        assert!(FlinkVersion::new(1, 9) < FlinkVersion::new(1, 19));
        assert!(FlinkVersion::new(1, 20) < FlinkVersion::new(2, 0));
        assert!(FlinkVersion::new(2, 0) < FlinkVersion::new(2, 2));
        assert_eq!(
            [v(2, 0), v(1, 20), v(1, 9)].iter().flatten().max(),
            Some(&FlinkVersion::new(2, 0))
        );
    }

    /// Every `image:` used across the reference corpus.
    #[test]
    fn corpus_images() {
        let cases: &[(&str, Option<FlinkVersion>, bool)] = &[
            ("flink:1.15", v(1, 15), true),
            ("flink:1.17", v(1, 17), true),
            ("flink:1.17-python", v(1, 17), true),
            ("flink:1.19", v(1, 19), true),
            ("flink:1.20", v(1, 20), true),
            ("flink:1.20.1", v(1, 20), true),
            ("flink:2.2", v(2, 2), true),
            ("apache/flink:1.12.0-scala_2.11", v(1, 12), true),
            ("apache/flink:1.20.0-scala_2.12-java11", v(1, 20), true),
            ("apache/flink:1.20.1-scala_2.12", v(1, 20), true),
            ("apache/flink:1.20.2-scala_2.12", v(1, 20), true),
            (
                "apache/flink:{{< stable >}}{{< version >}}-scala{{< scala_version >}}{{< /stable >}}{{< unstable >}}latest{{< /unstable >}}",
                None,
                true,
            ),
            ("docker.io/library/flink:2.0.0-java17", v(2, 0), true),
            ("confluentinc/cp-flink:1.19.1-cp1", v(1, 19), true),
            ("confluentinc/cp-flink:1.19.1-cp2-java17", v(1, 19), true),
            (
                "public.ecr.aws/m8u6z8z4/manabu-test:flink-2.0-py-3-11@sha256:b38d709e80adecd52e2e063404c7a93f8635b01c0a04a09ed8745afb79b82c57",
                v(2, 0),
                false,
            ),
            ("quay.io/streamshub/flink-sql-runner:0.2.0", None, true),
            ("quay.io/streamshub/flink-sql-runner:0.3.0", None, true),
            (
                "quay.io/streamshub/flink-sql-runner-with-flink-udf-currency-converter:main",
                None,
                true,
            ),
            ("flink-sql-runner:1.0.0", None, true),
            ("flink-dedup-app:1.0.0", None, true),
            ("flink-dedup-app:latest", None, true),
            ("flink-sql-runner-example:latest", None, true),
            ("flink-python-example:latest", None, true),
            ("flink-beam-example:latest", None, true),
            ("j9r/flink-sql-runner:latest", None, true),
            ("jbcodeforce/ecom-flink-app:0.1.0", None, true),
            (
                "<<ACCOUNT-ID>>.dkr.ecr.<<REGION>>.amazonaws.com/flink-demo:latest",
                None,
                true,
            ),
            (
                "<Account_ID>.dkr.ecr.us-west-2.amazonaws.com/flink-autoscaling:latest",
                None,
                true,
            ),
            (
                "<Account_ID>.dkr.ecr.us-west-2.amazonaws.com/flink-operator-python:latest",
                None,
                true,
            ),
            ("ghcr.io/apache/flink-kubernetes-operator", None, false),
            ("apache/beam_python3.7_sdk:2.47.0", None, false),
            ("busybox:1.35.0", None, false),
            ("curlimages/curl:8.5.0", None, false),
            ("curlimages/curl:latest", None, false),
            ("fluent/fluent-bit:1.9.1-debug", None, false),
            ("fluent/fluent-bit:1.9.6-debug", None, false),
            ("nginx", None, false),
            ("registry.k8s.io/pause", None, false),
            ("public.ecr.aws/y4g4v0z7/busybox", None, false),
            ("payment-claims-enrichment:latest", None, false),
            ("perf-sql-executor:0.1.0", None, false),
            ("perf-sql-executor-cp:0.1.0", None, false),
            ("rental-dsp:latest", None, false),
            ("autoscaling-example", None, false),
            ("test", None, false),
        ];
        for (image, version, flink) in cases {
            assert_eq!(from_image(image), *version, "from_image({image:?})");
            assert_eq!(is_flink_image(image), *flink, "is_flink_image({image:?})");
        }
        assert!(is_operator_image(
            "ghcr.io/apache/flink-kubernetes-operator"
        ));
        assert!(is_operator_image(
            "ghcr.io/apache/flink-kubernetes-operator:1.13.0"
        ));
        assert!(is_operator_image(
            "apache/flink-kubernetes-operator:1.12.1@sha256:0123456789abcdef"
        ));
        assert!(!is_operator_image("flink:1.20"));
        assert!(!is_operator_image(
            "<Account_ID>.dkr.ecr.us-west-2.amazonaws.com/flink-operator-python:latest"
        ));
    }

    #[test]
    fn other_references() {
        assert_eq!(from_image("flink"), None);
        assert_eq!(from_image("flink:latest"), None);
        assert_eq!(from_image("flink:main"), None);
        assert_eq!(from_image("flink:scala_2.12-java11"), None);
        assert_eq!(from_image("flink@sha256:abcdef0123"), None);
        assert_eq!(from_image("flink:1.20@sha256:abcdef0123"), v(1, 20));
        assert_eq!(from_image("localhost:5000/flink:1.18.1"), v(1, 18));
        assert_eq!(
            from_image("registry.example.com:8443/team/flink:2.1.0-java21"),
            v(2, 1)
        );
        assert_eq!(from_image("registry.example.com:8443/team/flink"), None);
        assert_eq!(from_image("docker.io/FLINK:1.20"), v(1, 20));
        assert_eq!(from_image("flink:1"), None);
        assert_eq!(from_image("flink:1.x"), None);
        assert_eq!(from_image("flink:0.9"), None);
        assert_eq!(from_image("flink:1.20rc1"), None);
        assert_eq!(from_image("flink:99999999.1"), None);
        assert_eq!(from_image("my-app:1.2-flink1.18"), v(1, 18));
        assert_eq!(from_image("team/flink-1.19-runner:3.0"), v(1, 19));
        assert_eq!(from_image("team/app:${FLINK_VERSION}"), None);
        assert_eq!(from_image(""), None);
        assert_eq!(from_image("   "), None);
        assert_eq!(from_image(":"), None);
        assert_eq!(from_image("@"), None);
        assert_eq!(from_image("/"), None);
        assert!(!is_flink_image(""));
        assert!(is_flink_image("localhost/flink"));
        assert!(is_flink_image("bitnami/flink:1.20"));
        assert!(
            !is_flink_image("flink/other:1.0"),
            "the last component decides"
        );
        assert!(is_operator_image(
            "gcr.io/flink-operator/flink-operator:latest"
        ));
        assert!(!is_flink_image(
            "gcr.io/flink-operator/flink-operator:latest"
        ));
        assert!(is_operator_image("lyft/flinkk8soperator:v0.5.0"));
    }

    /// Odd references: no version from any of them, and only a repository named `flink` (or
    /// the operator's) is recognised, whatever garbage its tag carries.
    #[test]
    fn odd_input_gives_no_version_and_is_recognised_by_name_only() {
        // (image, is_flink_image, is_operator_image)
        for (image, flink, operator) in [
            ("é", false, false),
            ("flink:é", true, false),
            ("flink:1.é", true, false),
            ("/flink", true, false),
            ("flink/", false, false),
            ("@@", false, false),
            ("::", false, false),
            ("a/b/c/d:e:f@g@h", false, false),
            ("flink:１.２", true, false),
            ("\u{0}", false, false),
            ("flink: 1.20", true, false),
            ("FLINK-KUBERNETES-OPERATOR", false, true),
        ] {
            assert_eq!(from_image(image), None, "{image:?}");
            assert_eq!(from_cr(image), None, "{image:?}");
            assert_eq!(is_flink_image(image), flink, "{image:?}");
            assert_eq!(is_operator_image(image), operator, "{image:?}");
        }
    }

    #[test]
    fn image_ref_parts() {
        let r = ImageRef::parse("registry.example.com:8443/team/flink:2.1.0@sha256:abc");
        assert_eq!(
            r,
            Some(ImageRef {
                registry: Some("registry.example.com:8443"),
                repository: "team/flink",
                name: "flink",
                tag: Some("2.1.0"),
                digest: Some("sha256:abc"),
            })
        );
        let r = ImageRef::parse("apache/flink");
        assert_eq!(
            r.as_ref().map(|r| (r.registry, r.name, r.tag)),
            Some((None, "flink", None))
        );
        assert_eq!(ImageRef::parse(""), None);
    }

    #[test]
    fn floating_tags_resolve_to_the_newest_flink() {
        let floating = Some(Pinned::Floating(NEWEST));
        for image in [
            "flink",
            "flink:latest",
            "apache/flink:latest",
            "docker.io/library/flink:java17",
            "flink:scala_2.12-java11",
        ] {
            assert_eq!(pinned(image), floating, "{image:?}");
            assert_eq!(version_of(image), Some(NEWEST), "{image:?}");
        }
        assert_eq!(NEWEST, FlinkVersion::new(2, 2));
        assert_eq!(
            pinned("flink:1.20"),
            Some(Pinned::Exact(FlinkVersion::new(1, 20)))
        );
        // A digest pins an image the reference does not name; other images and tags say nothing.
        for image in [
            "flink@sha256:abcdef0123",
            "flink:main",
            "flink-sql-runner:latest",
            "team/app:latest",
            "flink:1.x",
            "",
        ] {
            assert_eq!(pinned(image), None, "{image:?}");
        }
    }

    #[test]
    fn positional_host_argument_by_version() {
        assert!(takes_positional_host(FlinkVersion::new(1, 13)));
        assert!(takes_positional_host(FlinkVersion::new(1, 20)));
        assert!(!takes_positional_host(FlinkVersion::new(2, 0)));
        assert!(!takes_positional_host(NEWEST));
    }

    #[test]
    fn config_file_by_version() {
        assert_eq!(expected_config_file(v(1, 12)), ConfigFileName::Legacy);
        assert_eq!(expected_config_file(v(1, 18)), ConfigFileName::Legacy);
        assert_eq!(expected_config_file(v(1, 19)), ConfigFileName::Either);
        assert_eq!(expected_config_file(v(1, 20)), ConfigFileName::Either);
        assert_eq!(expected_config_file(v(2, 0)), ConfigFileName::Yaml);
        assert_eq!(expected_config_file(v(2, 2)), ConfigFileName::Yaml);
        assert_eq!(expected_config_file(v(3, 0)), ConfigFileName::Yaml);
        assert_eq!(expected_config_file(None), ConfigFileName::Either);
        assert_eq!(
            expected_config_file(from_image("docker.io/library/flink:2.0.0-java17")),
            ConfigFileName::Yaml
        );
        assert_eq!(
            expected_config_file(from_image("apache/flink:1.12.0-scala_2.11")),
            ConfigFileName::Legacy
        );
        assert_eq!(ConfigFileName::Legacy.file_names(), &["flink-conf.yaml"]);
        assert_eq!(ConfigFileName::Yaml.file_names(), &["config.yaml"]);
        assert_eq!(
            ConfigFileName::Either.file_names(),
            &["config.yaml", "flink-conf.yaml"]
        );
    }
}

//! The deployment files agree with the gateway: the Kubernetes manifests'
//! probes hit real routes on the port the config listens on, there are
//! enough replicas for a disruption budget, no service-link variables reach
//! the pods, the ConfigMap's config passes `versus check` with the
//! Deployment's environment once the Secret's ACK key placeholder is
//! replaced (and fails while it is not), and docker-compose wires the
//! gateway to its Redis.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_yaml_ng::Value;
use tower::ServiceExt;
use versus::config::Config;
use versus::pipeline::Reloader;
use versus::{AppState, app};

use crate::common::{loader, repo};

fn manifest(name: &str) -> Value {
    let path = repo().join("deploy/kubernetes").join(name);
    let text = std::fs::read_to_string(&path).expect("manifest");
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not text: {v:?}"))
}

#[test]
fn kustomization_lists_every_manifest() {
    let k = manifest("kustomization.yaml");
    let listed: Vec<&str> = k["resources"]
        .as_sequence()
        .expect("resources")
        .iter()
        .map(|r| text(r, "resource"))
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(repo().join("deploy/kubernetes"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, on_disk);
}

#[tokio::test]
async fn deployment_probes_replicas_and_budget_match_the_gateway() {
    let deployment = manifest("deployment.yaml");
    assert_eq!(deployment["kind"], "Deployment");
    let replicas = deployment["spec"]["replicas"].as_u64().expect("replicas");
    assert!(
        replicas >= 2,
        "state is in Redis: run at least 2, got {replicas}"
    );

    let pod = &deployment["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    assert_eq!(deployment["spec"]["selector"]["matchLabels"], *labels);
    let container = &pod["spec"]["containers"][0];
    let port = &container["ports"][0];
    let container_port = port["containerPort"].as_u64().expect("containerPort");
    let port_name = text(&port["name"], "port name");

    // The port the gateway listens on: its default, and the ConfigMap's.
    let config = configmap_config();
    assert_eq!(container_port, u64::from(Config::default().port));
    assert_eq!(container_port, u64::from(config.port));

    // Each probe asks a route the router answers 200 on, by the port's name.
    let router = app(AppState::new(reloader().await));
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(text(&get["port"], probe), port_name, "{probe}");
        let path = text(&get["path"], probe);
        let response = router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{probe} {path}");
    }
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");

    // The config is a directory mount at the config file's directory (a
    // subPath mount would never see ConfigMap updates).
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|a| text(a, "arg"))
        .collect();
    let config_path = args[args
        .iter()
        .position(|a| *a == "--config")
        .expect("--config")
        + 1];
    let config_dir = Path::new(config_path).parent().expect("dir");
    let mounts = container["volumeMounts"].as_sequence().expect("mounts");
    let mount = mounts
        .iter()
        .find(|m| Path::new(text(&m["mountPath"], "mountPath")) == config_dir)
        .expect("a mount at the config's directory");
    assert!(mount.get("subPath").is_none(), "{mount:?}");
    let volume = pod["spec"]["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    assert_eq!(
        volume["configMap"]["name"],
        manifest("configmap.yaml")["metadata"]["name"]
    );

    // Service and disruption budget select these pods.
    let service = manifest("service.yaml");
    assert_eq!(service["spec"]["selector"], *labels);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], port_name);
    let pdb = manifest("pdb.yaml");
    assert_eq!(pdb["kind"], "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], *labels);
    let min = pdb["spec"]["minAvailable"].as_u64().expect("minAvailable");
    assert!(
        min >= 1 && min < replicas,
        "minAvailable {min} of {replicas}"
    );

    // The Secret it reads exists, and the service account too.
    let secret = manifest("secret.yaml");
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"],
        secret["metadata"]["name"]
    );
    assert_eq!(
        pod["spec"]["serviceAccountName"],
        manifest("serviceaccount.yaml")["metadata"]["name"]
    );
    assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
}

/// A Service named like a variable prefix the gateway reads (`redis`: the
/// `REDIS_*` overrides) makes Kubernetes inject `REDIS_PORT=tcp://…` into
/// every pod of the namespace, unless service links are off.
#[test]
fn service_links_are_off_because_they_would_break_redis_port() {
    let deployment = manifest("deployment.yaml");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        pod["enableServiceLinks"],
        Value::Bool(false),
        "set enableServiceLinks: false in the pod spec"
    );
    // What the pods would get with links on, for a Service `redis`.
    let dir = tempfile::tempdir().expect("tempdir");
    write_configmap(dir.path());
    let mut env = configured_pod_env();
    env.insert("REDIS_PORT".into(), "tcp://10.96.0.12:6379".into());
    let err = Config::load_with_env(&dir.path().join("config/config.yaml"), |k| {
        env.get(k).cloned()
    })
    .expect_err("a service-link REDIS_PORT is refused");
    assert!(err.to_string().contains("`REDIS_PORT`"), "{err}");
}

/// The Deployment's environment: its literal `env` values and the
/// Secret's keys.
fn pod_env() -> BTreeMap<String, String> {
    let deployment = manifest("deployment.yaml");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mut env = BTreeMap::new();
    for (k, v) in manifest("secret.yaml")["stringData"]
        .as_mapping()
        .expect("stringData")
    {
        env.insert(text(k, "key").to_string(), text(v, "value").to_string());
    }
    for e in container["env"].as_sequence().expect("env") {
        env.insert(
            text(&e["name"], "name").to_string(),
            text(&e["value"], "value").to_string(),
        );
    }
    env
}

/// The ConfigMap's files written to `<dir>/config/`, as the pod sees them
/// under `/app/config/`.
fn write_configmap(dir: &Path) {
    let data = manifest("configmap.yaml")["data"].clone();
    let config_dir = dir.join("config");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    for (name, body) in data.as_mapping().expect("data") {
        std::fs::write(config_dir.join(text(name, "name")), text(body, "file")).expect("write");
    }
}

/// [`pod_env`] with the Secret's placeholders replaced, as an operator
/// does before applying it: the ACK key by a random 32 bytes in hex
/// (`openssl rand -hex 32`).
fn configured_pod_env() -> BTreeMap<String, String> {
    let mut env = pod_env();
    let key = hex::encode(rand::random::<[u8; 32]>());
    env.insert("VERSUS_ACK_SECRET".into(), key);
    env
}

fn configmap_config() -> Config {
    let dir = tempfile::tempdir().expect("tempdir");
    write_configmap(dir.path());
    let env = configured_pod_env();
    let (config, warnings) = Config::load_with_env(&dir.path().join("config/config.yaml"), |k| {
        env.get(k).cloned()
    })
    .expect("the ConfigMap's config loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    config
}

async fn reloader() -> Arc<Reloader> {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "plugins:\n  watch: false\n").expect("write");
    Reloader::start(config, loader()).await.expect("reloader")
}

/// `versus check` of the ConfigMap's config with `env`, from a directory
/// laid out as the pod's.
fn check_configmap(env: BTreeMap<String, String>) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    write_configmap(dir.path());
    Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(["check", "--config", "config/config.yaml"])
        .current_dir(dir.path())
        .env_clear()
        .envs(env)
        // The pod's cache directory does not exist here.
        .env("VERSUS_CACHE_DIR", dir.path().join("cache"))
        .output()
        .expect("run versus check")
}

#[test]
fn configmap_config_passes_versus_check_with_the_pod_environment() {
    let out = check_configmap(configured_pod_env());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("  channels: slack\n"), "{stdout}");
    assert!(stdout.contains(", Redis redis:6379/0\n"), "{stdout}");
    assert!(!stdout.contains("warning"), "{stdout}");
}

/// Applied as shipped, the Secret's placeholder would become the key that
/// signs ACK links: the gateway refuses it, and says how to make one.
#[test]
fn the_secrets_ack_key_placeholder_is_refused() {
    let env = pod_env();
    assert!(env.contains_key("VERSUS_ACK_SECRET"), "{env:?}");
    let out = check_configmap(env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for says in [
        "oncall.ack_secret",
        "VERSUS_ACK_SECRET",
        "openssl rand -hex 32",
    ] {
        assert!(stderr.contains(says), "`{says}` missing: {stderr}");
    }
}

#[test]
fn compose_runs_the_gateway_against_its_redis() {
    let text_of = std::fs::read_to_string(repo().join("docker-compose.yml")).expect("compose");
    let compose: Value = serde_yaml_ng::from_str(&text_of).expect("compose YAML");
    let services = &compose["services"];
    let versus = &services["versus"];
    assert_eq!(versus["build"], ".");
    assert!(repo().join("Dockerfile").is_file());
    let env = &versus["environment"];
    let redis_host = text(&env["REDIS_HOST"], "REDIS_HOST");
    assert!(
        services.get(redis_host).is_some(),
        "REDIS_HOST={redis_host} is not a service"
    );
    assert_eq!(
        versus["depends_on"][redis_host]["condition"],
        "service_healthy"
    );
    let port = u64::from(Config::default().port);
    assert_eq!(versus["ports"][0], format!("{port}:{port}").as_str());
    // The mounted config directory is the repository's, and it holds the
    // file the image's VERSUS_CONFIG names.
    let mount = text(&versus["volumes"][0], "volume");
    let (host_dir, rest) = mount.split_once(':').expect("host:container");
    let container_dir = rest.split(':').next().expect("container path");
    assert!(
        repo().join(host_dir).join("config.yaml").is_file(),
        "{mount}"
    );
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains(&format!("VERSUS_CONFIG={container_dir}/config.yaml")),
        "{mount}"
    );
    assert!(dockerfile.contains("USER nonroot"), "runs as non-root");
}

//! Redis over TLS: a real `redis-server` with a TLS port and a self-signed
//! certificate (made with the `openssl` command). The gateway verifies the
//! certificate unless `insecure_skip_verify` says not to.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::gateway::{Process, free_port};
use crate::oncall_rig::{Rig, payload, post};

/// A TLS-only Redis on its own port, killed on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    cert: PathBuf,
}

impl TlsRedis {
    fn start(dir: &Path) -> Self {
        let (cert, key) = self_signed(dir, "redis");
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, cert }
    }

    fn section(&self, insecure_skip_verify: bool) -> String {
        format!(
            "  host: 127.0.0.1\n  port: {}\n  tls: true\n  insecure_skip_verify: {insecure_skip_verify}\n",
            self.port
        )
    }
}

/// A self-signed certificate for 127.0.0.1 and its key: `<name>.crt`,
/// `<name>.key` in `dir`. It is a leaf (`CA:FALSE`): TLS clients refuse a
/// CA certificate as a server's own, and `openssl req -x509` makes a CA one
/// unless told otherwise.
pub(crate) fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key, conf) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.cnf")),
    );
    std::fs::write(
        &conf,
        "[req]\ndistinguished_name = dn\nx509_extensions = leaf\nprompt = no\n\
         [dn]\nCN = localhost\n\
         [leaf]\nbasicConstraints = critical,CA:FALSE\n\
         keyUsage = critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage = serverAuth\n\
         subjectAltName = IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write openssl config");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .arg("-config")
        .arg(&conf)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl must be installed");
    assert!(made.success(), "openssl could not make a certificate");
    (cert, key)
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gateway stores an on-call incident through TLS and reads it back.
async fn stores_an_incident(rig: &Rig, gw: &Process, group: &str) {
    let (status, body) = post(gw, "oncall_wait_minutes=5", payload("critical", group)).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let id = body["id"].as_str().expect("id");
    let (status, text) =
        crate::oncall_rig::get(&format!("{}/api/incidents/{id}", gw.base()), "*/*").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""state":"pending""#), "{text}");
    assert_eq!(rig.slack.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_verifies_the_certificate() {
    let rig = Rig::new().await;
    let redis = TlsRedis::start(&rig.dir("redis"));

    // Verification on, and the trusted roots are another certificate: the
    // gateway refuses to start, and says why.
    let dir = rig.dir("untrusted");
    let (other, _) = self_signed(&dir, "other");
    let env = [("SSL_CERT_FILE", other.display().to_string())];
    let stderr = fails_to_start(&dir, &rig.yaml_with(&redis.section(false)), &env).await;
    assert!(
        stderr.contains("cannot connect to Redis at rediss://127.0.0.1"),
        "{stderr}"
    );

    // The certificate trusted through SSL_CERT_FILE: it works, verified.
    let mut env = rig.env();
    env.push(("SSL_CERT_FILE", redis.cert.display().to_string()));
    let gw = Process::start(
        &rig.dir("trusted"),
        &rig.yaml_with(&redis.section(false)),
        &env,
    )
    .await;
    stores_an_incident(&rig, &gw, "tls1").await;
}

/// Runs the gateway on `yaml` with `env`, expecting it to exit: its
/// stderr.
async fn fails_to_start(dir: &Path, yaml: &str, env: &[(&str, String)]) -> String {
    let config = dir.join("config.yaml");
    std::fs::write(&config, yaml.replace("{port}", &free_port().to_string()))
        .expect("write config");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_versus"))
            .arg("--config")
            .arg(&config)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("VERSUS_CACHE_DIR", dir.join("..").join("cache"))
            .output(),
    )
    .await
    .expect("versus exits")
    .expect("run versus");
    assert!(!out.status.success(), "versus started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_connection_to_a_tls_only_redis_names_redis_tls() {
    let rig = Rig::new().await;
    let redis = TlsRedis::start(&rig.dir("redis"));
    let plain = format!("  host: 127.0.0.1\n  port: {}\n", redis.port);
    let stderr = fails_to_start(&rig.dir("plain"), &rig.yaml_with(&plain), &[]).await;
    assert!(
        stderr.contains(&format!(
            "Redis at 127.0.0.1:{} answers only TLS, and the connection is plain: set redis.tls: true (REDIS_TLS)",
            redis.port
        )),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_ca_cert_names_the_ca_to_trust() {
    let rig = Rig::new().await;
    let redis = TlsRedis::start(&rig.dir("redis"));
    // The server's certificate as the CA, by path: verified and trusted.
    let mut env = rig.env();
    env.push(("REDIS_CA_CERT", redis.cert.display().to_string()));
    let gw = Process::start(
        &rig.dir("path"),
        &rig.yaml_with(&redis.section(false)),
        &env,
    )
    .await;
    stores_an_incident(&rig, &gw, "ca1").await;
    drop(gw);

    // Another CA: the certificate is refused at startup.
    let dir = rig.dir("other");
    let (other, _) = self_signed(&dir, "other");
    let env = [("REDIS_CA_CERT", other.display().to_string())];
    let stderr = fails_to_start(&dir, &rig.yaml_with(&redis.section(false)), &env).await;
    assert!(
        stderr.contains("cannot connect to Redis at rediss://127.0.0.1"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skip_verify_accepts_an_untrusted_certificate() {
    let rig = Rig::new().await;
    let redis = TlsRedis::start(&rig.dir("redis"));
    let gw = Process::start(
        &rig.dir("gw"),
        &rig.yaml_with(&redis.section(true)),
        &rig.env(),
    )
    .await;
    stores_an_incident(&rig, &gw, "tls2").await;
}

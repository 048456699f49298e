//! Bench plumbing shared by the phases: run sizes, percentiles, fake AWS
//! credentials, incident records and process CPU time.

use std::time::Duration;

use versus::oncall::NewIncident;

/// The response plan every bench incident names; the local StartIncident
/// endpoint accepts any.
pub const PLAN: &str = "arn:aws:ssm-incidents::1:response-plan/bench";

/// How much work each phase does.
pub struct Sizes {
    /// Incidents escalated in the precision phase, and kept pending in the
    /// idle phase.
    pub pending: usize,
    /// Window the escalation deadlines are spread over, in ms.
    pub spread_ms: i64,
    /// ACKs timed, both as a bare Redis transition and over HTTP.
    pub acks: usize,
    /// How long idle CPU is sampled.
    pub idle: Duration,
    /// Incidents kept pending an hour out during the precision phase, so
    /// the due-set holds `pending + background` incidents.
    pub background: usize,
}

impl Sizes {
    /// The full run, or with `VERSUS_BENCH_QUICK=1` a run small enough for a
    /// debug build: a smoke check that every phase works, not a measurement.
    /// `VERSUS_BENCH_PENDING`, `VERSUS_BENCH_SPREAD_MS` and
    /// `VERSUS_BENCH_BACKGROUND` override the sizes, e.g. 1,000 due over
    /// 10 s among 9,000 more pending for 10,000 in the due-set.
    pub fn from_env() -> Self {
        let mut sizes = Self::defaults();
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
        };
        if let Some(n) = var("VERSUS_BENCH_PENDING") {
            sizes.pending = n.max(1);
        }
        if let Some(ms) = var("VERSUS_BENCH_SPREAD_MS") {
            sizes.spread_ms = ms as i64;
        }
        if let Some(n) = var("VERSUS_BENCH_BACKGROUND") {
            sizes.background = n;
        }
        sizes
    }

    fn defaults() -> Self {
        if std::env::var("VERSUS_BENCH_QUICK").is_ok_and(|v| v == "1") {
            Self {
                pending: 100,
                spread_ms: 2_000,
                acks: 100,
                idle: Duration::from_secs(2),
                background: 0,
            }
        } else {
            Self {
                pending: 1_000,
                spread_ms: 10_000,
                acks: 500,
                idle: Duration::from_secs(10),
                background: 0,
            }
        }
    }
}

/// The `p`th percentile of sorted, non-empty `v`.
pub fn pct(v: &[i64], p: usize) -> i64 {
    v[(v.len() * p / 100).min(v.len() - 1)]
}

/// A pending incident `id` created at `created_ms`, due at `deadline_ms`.
pub fn incident(id: String, created_ms: i64, deadline_ms: i64) -> NewIncident {
    NewIncident {
        id,
        created_ms,
        deadline_ms,
        response_plan_arn: PLAN.into(),
        title: "bench".into(),
        severity: None,
        impact: None,
        dedup_key: None,
        ack_exp: 0,
        ack_expiry_ms: 0,
        details: Default::default(),
    }
}

/// Credentials and settings that keep the AWS SDK off the network except
/// for the local endpoint.
#[allow(unsafe_code)]
pub fn fake_aws_env() {
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDBENCH");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "bench");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    }
}

/// User + system CPU time of this process so far, from `/proc/self/stat`.
pub fn process_cpu_ms() -> anyhow::Result<i64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after "pid (comm) ": utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: i64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    // Linux reports these in clock ticks of 100 Hz (USER_HZ) on every
    // architecture it runs on.
    Ok(ticks * 10)
}

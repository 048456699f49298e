//! Where each on-call key lives, so that Redis Cluster can run every
//! transition as one script.
//!
//! Strategy: Redis Cluster runs a script only when all the keys it touches
//! hash to one slot. A transition touches an incident's hash, the due set
//! and a dedup key; CREATE also reads the hash of the open incident its
//! dedup key names, and CLAIM the hashes of the ids it finds in the due
//! set. So the keys are split into [`SHARDS`] shards, each one hash tag:
//! `{prefix}{a}inc:{id}`, `{prefix}{a}due`, `{prefix}{a}dedup:{key}` for
//! shard `a`. A dedup key's shard is a hash of the key; an incident's is
//! the first hex digit of its id, which the gateway sets to its dedup
//! key's shard when it makes the id ([`fit`]). Every key a script touches
//! is then in one slot. The keys a caller knows are passed in `KEYS`; the
//! ones a script finds by reading (the open incident's hash, a claimed
//! id's hash) are built from the same tag, which Cluster accepts because
//! the slot is the same. Each replica's scheduler claims every shard at
//! once; a shard is claimed atomically, so replicas never claim one
//! incident twice.
//!
//! A single Redis (or Sentinel's master) keeps the unsharded layout,
//! `{prefix}inc:{id}`, `{prefix}due`, `{prefix}dedup:{key}`, so an
//! upgrade finds the incidents already pending.

/// Shards of the on-call keys in Redis Cluster: one hex digit. Sixteen
/// tags spread over every master of a small cluster, and a scheduler tick
/// costs one claim per shard.
pub const SHARDS: u8 = 16;

/// The shard of a dedup key: FNV-1a of its bytes. Every replica and
/// version must agree, so it is written here, not taken from a library.
pub fn of_key(key: &str) -> u8 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h % u32::from(SHARDS)) as u8
}

/// The shard of an incident id: its first character as a hex digit. An
/// id that does not start with one (never one the gateway made) goes by
/// [`of_key`].
pub fn of_id(id: &str) -> u8 {
    id.chars()
        .next()
        .and_then(|c| c.to_digit(16))
        .map_or_else(|| of_key(id), |d| d as u8)
}

/// `id` (a fresh UUID) with its first hex digit set to the shard of
/// `dedup_key`, so the incident and its dedup key share a shard. Without
/// a dedup key, `id` is kept. The digit was random: the id stays a valid
/// UUID with 4 fewer random bits.
pub fn fit(id: &str, dedup_key: Option<&str>) -> String {
    let Some(key) = dedup_key else {
        return id.to_string();
    };
    let digit = char::from_digit(u32::from(of_key(key)), 16).unwrap_or('0');
    let mut out = String::with_capacity(id.len());
    out.push(digit);
    out.push_str(id.get(1..).unwrap_or_default());
    out
}

/// The key names of one store: sharded for Redis Cluster, unsharded
/// otherwise (see the module docs).
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
    sharded: bool,
    /// Every shard's base, made once: the scheduler walks them each tick.
    bases: Vec<String>,
}

impl Keys {
    /// Keys under `prefix`, in [`SHARDS`] hash tags when `sharded`.
    pub fn new(prefix: &str, sharded: bool) -> Self {
        let mut keys = Self {
            prefix: prefix.to_string(),
            sharded,
            bases: Vec::new(),
        };
        let shards = if sharded { SHARDS } else { 1 };
        keys.bases = (0..shards).map(|s| keys.base(s)).collect();
        keys
    }

    /// Every shard's base: the part every key of that shard starts with.
    /// One base when unsharded.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    /// The base of shard `shard`.
    pub fn base(&self, shard: u8) -> String {
        if self.sharded {
            format!("{}{{{shard:x}}}", self.prefix)
        } else {
            self.prefix.clone()
        }
    }

    /// The base of incident `id`'s shard.
    pub fn base_of_id(&self, id: &str) -> String {
        self.base(of_id(id))
    }

    /// The base of dedup key `key`'s shard.
    pub fn base_of_key(&self, key: &str) -> String {
        self.base(of_key(key))
    }

    /// Whether incident `id` may carry `dedup_key`: they share a shard
    /// (always, unsharded).
    pub fn fits(&self, id: &str, dedup_key: Option<&str>) -> bool {
        !self.sharded || dedup_key.is_none_or(|k| of_key(k) == of_id(id))
    }

    /// Key names given the base: the hash of incident `id`, the due set,
    /// the dedup key `key`.
    pub fn inc(base: &str, id: &str) -> String {
        format!("{base}inc:{id}")
    }

    /// See [`Self::inc`].
    pub fn due(base: &str) -> String {
        format!("{base}due")
    }

    /// See [`Self::inc`].
    pub fn dedup(base: &str, key: &str) -> String {
        format!("{base}dedup:{key}")
    }

    /// A key outside the shards (the ACK secret, the ledger).
    pub fn plain(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fitted_id_shares_its_dedup_keys_shard() {
        let id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        for key in ["a", "{}:{alertname=\"x\"}", "db-1/disk", ""] {
            let fitted = fit(id, Some(key));
            assert_eq!(of_id(&fitted), of_key(key), "{key}");
            assert_eq!(&fitted[1..], &id[1..]);
            assert!(uuid::Uuid::parse_str(&fitted).is_ok(), "{fitted}");
        }
        assert_eq!(fit(id, None), id);
    }

    #[test]
    fn the_hash_is_fixed() {
        // FNV-1a 32: "a" is 0xe40c292c, "" is 0x811c9dc5.
        assert_eq!(of_key("a"), (0xe40c_292c_u32 % 16) as u8);
        assert_eq!(of_key(""), (0x811c_9dc5_u32 % 16) as u8);
        assert_eq!(of_id("race-1"), of_key("race-1"));
        assert_eq!(of_id("B0"), 11);
    }

    #[test]
    fn layouts() {
        let flat = Keys::new("versus:", false);
        assert_eq!(flat.bases(), ["versus:"]);
        assert_eq!(Keys::inc(&flat.base_of_id("abc"), "abc"), "versus:inc:abc");
        assert!(flat.fits("0abc", Some("x")));
        let sharded = Keys::new("versus:", true);
        assert_eq!(sharded.bases().len(), 16);
        assert_eq!(
            Keys::inc(&sharded.base_of_id("abc"), "abc"),
            "versus:{a}inc:abc"
        );
        assert_eq!(Keys::due(&sharded.base(15)), "versus:{f}due");
        let id = fit("0abc", Some("x"));
        assert!(sharded.fits(&id, Some("x")));
        assert!(sharded.fits(&id, None));
        assert_eq!(sharded.plain("ack_secret"), "versus:ack_secret");
    }
}

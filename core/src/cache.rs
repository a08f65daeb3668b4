//! A cache of tokens whose signature has been verified: a repeat of the same
//! token, against the same key set, skips the signature check and the JSON
//! parsing. The time, audience and issuer checks still run on every hit, so an
//! expired token is refused the moment it expires. Off unless asked for
//! ([`crate::Toolkit::with_cache`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::jwk::JwkSet;
use crate::token::Claims;

/// Verified tokens and their claims, each tied to the key set that verified it:
/// when the keys change (a new JWKS, a provider's rotation) old entries miss.
#[derive(Debug)]
pub struct TokenCache {
    capacity: usize,
    entries: RwLock<Entries>,
}

type Entries = HashMap<String, Entry, BuildHasherDefault<TailHasher>>;

#[derive(Debug)]
struct Entry {
    /// Holding the Arc keeps the set alive, so its address cannot be reused by another.
    keys: Arc<JwkSet>,
    /// Shared with every caller a hit answers: a hit copies no claim.
    claims: Arc<Claims>,
}

/// Hashes a token by its last bytes: the end of a JWS is its signature, as
/// unpredictable as a hash of the whole, without reading the whole (SipHash
/// over a 700-byte token took most of a cache hit). Only verified tokens are
/// ever stored, so crafted look-ups that share a stored token's tail meet at
/// most that one entry: there is nothing to flood, and a key's hash quality
/// never decides a result (the map compares whole tokens).
#[derive(Default)]
struct TailHasher(u64);

/// How many trailing bytes are hashed: 32 bytes of signature are 192 bits.
const TAIL: usize = 32;

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
        // FNV-1a over the tail and the length; then a final mix (murmur3's).
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
        for &b in tail {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

impl TokenCache {
    /// At most `capacity` tokens; when full, the cache starts over.
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache {
            capacity,
            entries: RwLock::new(HashMap::default()),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The claims of `token` if it was verified with exactly this key set.
    pub fn get(&self, token: &str, keys: &Arc<JwkSet>) -> Option<Arc<Claims>> {
        let entries = self.read();
        let entry = entries.get(token)?;
        Arc::ptr_eq(&entry.keys, keys).then(|| entry.claims.clone())
    }

    /// Remember that `token`'s signature verified with `keys`.
    pub fn insert(&self, token: &str, keys: &Arc<JwkSet>, claims: &Arc<Claims>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.write();
        if entries.len() >= self.capacity && !entries.contains_key(token) {
            entries.clear();
        }
        entries.insert(
            token.to_string(),
            Entry {
                keys: keys.clone(),
                claims: claims.clone(),
            },
        );
    }

    pub fn clear(&self) {
        self.write().clear();
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Algorithm, PrivateKey};
    use crate::{ErrorKind, Toolkit};
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Arc<Claims> {
        Arc::new(v.as_object().cloned().unwrap())
    }

    fn none() -> Arc<Claims> {
        Arc::new(Claims::new())
    }

    #[test]
    fn hits_only_for_the_same_key_set() {
        let cache = TokenCache::new(2);
        let a = Arc::new(JwkSet::new());
        let b = Arc::new(JwkSet::new());
        cache.insert("t1", &a, &claims(json!({"n": 1})));
        assert_eq!(cache.get("t1", &a), Some(claims(json!({"n": 1}))));
        assert_eq!(cache.get("t1", &b), None);
        assert_eq!(cache.get("t2", &a), None);
        cache.insert("t2", &a, &none());
        cache.insert("t3", &a, &none()); // full: starts over
        assert_eq!((cache.len(), cache.get("t1", &a)), (1, None));
        TokenCache::new(0).insert("t", &a, &none());
    }

    #[test]
    fn tokens_with_the_same_tail_stay_apart() {
        let cache = TokenCache::new(8);
        let keys = Arc::new(JwkSet::new());
        let tail = "x".repeat(64);
        let (a, b) = (format!("a.{tail}"), format!("b.{tail}"));
        cache.insert(&a, &keys, &claims(json!({"n": "a"})));
        cache.insert(&b, &keys, &claims(json!({"n": "b"})));
        assert_eq!(cache.get(&a, &keys), Some(claims(json!({"n": "a"}))));
        assert_eq!(cache.get(&b, &keys), Some(claims(json!({"n": "b"}))));
        assert_eq!(cache.get(&format!("c.{tail}"), &keys), None);
        assert_eq!(cache.get("", &keys), None);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn toolkit_checks_time_audience_and_issuer_on_every_hit() {
        let mut t = Toolkit::new();
        t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap())
            .with_cache(16);
        let now = 1_800_000_000;
        let token = t
            .mint(&claims(json!({"exp": now + 60, "aud": "api"})))
            .unwrap();
        t.validator_mut().now = Some(now);
        assert!(t.validate(Some(&token)).is_ok());
        assert_eq!(t.cache().unwrap().len(), 1);
        assert!(t.validate(Some(&token)).is_ok()); // a hit
        t.validator_mut().now = Some(now + 61);
        assert_eq!(
            t.validate(Some(&token)).unwrap_err().kind(),
            ErrorKind::Expired
        );
        t.validator_mut().now = Some(now);
        t.with_client_id("other");
        assert_eq!(
            t.validate(Some(&token)).unwrap_err().kind(),
            ErrorKind::InvalidAudience
        );
    }

    #[test]
    fn validate_cached_answers_hits_only_and_checks_exp_on_each() {
        let mut t = Toolkit::new();
        t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap());
        let now = 1_800_000_000;
        t.validator_mut().now = Some(now);
        let token = t.mint(&claims(json!({"exp": now + 60}))).unwrap();
        assert!(t.validate_cached(Some(&token)).is_none()); // no cache
        t.with_cache(16);
        assert!(t.validate_cached(Some(&token)).is_none()); // not verified yet
        let first = t.validate_uncached(Some(&token)).unwrap();
        let hit = t.validate_cached(Some(&token)).unwrap().unwrap();
        // The cache's own claims, not a copy of them.
        assert!(Arc::ptr_eq(&first, &hit));
        assert!(Arc::ptr_eq(&hit, &t.validate_shared(Some(&token)).unwrap()));
        // Refused the second it expires, from the cache, without a signature check.
        t.validator_mut().now = Some(now + 60);
        let refused = t.validate_cached(Some(&token)).unwrap().unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Expired);
        assert_eq!(
            t.validate(Some(&token)).unwrap_err().kind(),
            ErrorKind::Expired
        );
        // Not a token at all: the cache has no answer, validation has the reason.
        assert!(t.validate_cached(Some("x.y.z")).is_none());
        assert_eq!(
            t.validate(Some("x.y.z")).unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }

    #[test]
    fn new_keys_miss() {
        let mut t = Toolkit::new();
        t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap())
            .with_cache(16);
        let token = t.mint(&Claims::new()).unwrap();
        assert!(t.validate(Some(&token)).is_ok());
        // another key replaces ours: the cached verification must not count
        t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap());
        assert_eq!(
            t.validate(Some(&token)).unwrap_err().kind(),
            ErrorKind::UnknownKey
        );
        // a forged token is never cached as valid
        let last = if token.ends_with('A') { "B" } else { "A" };
        let forged = format!("{}{last}", &token[..token.len() - 1]);
        assert!(t.validate(Some(&forged)).is_err());
    }
}

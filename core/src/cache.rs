//! A cache of tokens whose signature has been verified: a repeat of the same
//! token, against the same key set, skips the signature check and the JSON
//! parsing. The time, audience and issuer checks still run on every hit, so an
//! expired token is refused the moment it expires. Off unless asked for
//! ([`crate::Toolkit::with_cache`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::jwk::JwkSet;
use crate::token::Claims;

/// Verified tokens and their claims, each tied to the key set that verified it:
/// when the keys change (a new JWKS, a provider's rotation) old entries miss.
#[derive(Debug)]
pub struct TokenCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    /// Holding the Arc keeps the set alive, so its address cannot be reused by another.
    keys: Arc<JwkSet>,
    claims: Claims,
}

impl TokenCache {
    /// At most `capacity` tokens; when full, the cache starts over.
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The claims of `token` if it was verified with exactly this key set.
    pub fn get(&self, token: &str, keys: &Arc<JwkSet>) -> Option<Claims> {
        let entries = self.lock();
        let entry = entries.get(token)?;
        Arc::ptr_eq(&entry.keys, keys).then(|| entry.claims.clone())
    }

    /// Remember that `token`'s signature verified with `keys`.
    pub fn insert(&self, token: &str, keys: &Arc<JwkSet>, claims: &Claims) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
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
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Algorithm, PrivateKey};
    use crate::{ErrorKind, Toolkit};
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        v.as_object().cloned().unwrap()
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
        cache.insert("t2", &a, &Claims::new());
        cache.insert("t3", &a, &Claims::new()); // full: starts over
        assert_eq!((cache.len(), cache.get("t1", &a)), (1, None));
        TokenCache::new(0).insert("t", &a, &Claims::new());
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

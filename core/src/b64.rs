//! base64url without padding, the only encoding JOSE uses (RFC 7515 2).
//!
//! Decoding is on every validation's path (three parts per token), so it has a
//! table-driven fast path for well-formed input; anything it does not accept
//! goes to the `base64` crate, which then decides (and names the error). The
//! fast path accepts only what that crate accepts, with the same bytes out:
//! the unit tests compare the two on every short input shape and on random text.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    match decode_fast(text.as_bytes()) {
        Some(bytes) => Ok(bytes),
        None => URL_SAFE_NO_PAD.decode(text),
    }
}

/// The 6-bit value of each base64url character (RFC 4648 5), shifted left by
/// `shift`; a character outside the alphabet has bit 24 set instead, so the
/// four lookups of a group OR'ed together are the group's 24 bits, plus bit
/// 24 when any of them was invalid.
const fn table(shift: u32) -> [u32; 256] {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = (i as u32) << shift;
        i += 1;
    }
    table
}

const INVALID: u32 = 1 << 24;
const D0: [u32; 256] = table(18);
const D1: [u32; 256] = table(12);
const D2: [u32; 256] = table(6);
const D3: [u32; 256] = table(0);

/// Strict unpadded base64url: every character in the alphabet, a length that
/// is not 1 mod 4, and the unused low bits of a final partial group zero (as
/// the `base64` crate requires by default). `None` for anything else.
fn decode_fast(text: &[u8]) -> Option<Vec<u8>> {
    let tail = text.len() % 4;
    if tail == 1 {
        return None;
    }
    let (groups, rest) = text.split_at(text.len() - tail);
    let mut out = vec![0u8; groups.len() / 4 * 3 + tail.saturating_sub(1)];
    let (whole, last) = out.split_at_mut(groups.len() / 4 * 3);
    let mut seen = 0u32;
    for (group, bytes) in groups.chunks_exact(4).zip(whole.chunks_exact_mut(3)) {
        let n = D0[usize::from(group[0])]
            | D1[usize::from(group[1])]
            | D2[usize::from(group[2])]
            | D3[usize::from(group[3])];
        seen |= n;
        bytes.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    match *rest {
        [] => {}
        [a, b] => {
            let n = D0[usize::from(a)] | D1[usize::from(b)];
            // The unused low 4 bits of the last character must be zero.
            seen |= n | u32::from(n & 0x00_f000 != 0) << 24;
            last[0] = (n >> 16) as u8;
        }
        [a, b, c] => {
            let n = D0[usize::from(a)] | D1[usize::from(b)] | D2[usize::from(c)];
            // The unused low 2 bits of the last character must be zero.
            seen |= n | u32::from(n & 0x00_00c0 != 0) << 24;
            last[0] = (n >> 16) as u8;
            last[1] = (n >> 8) as u8;
        }
        _ => return None,
    }
    (seen & INVALID == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// The fast path and the crate agree: same bytes, or the fast path
    /// declines (and the crate then decides alone).
    fn agree(text: &[u8]) {
        let reference = URL_SAFE_NO_PAD.decode(text).ok();
        match decode_fast(text) {
            Some(fast) => assert_eq!(Some(fast), reference, "{:?}", String::from_utf8_lossy(text)),
            None => assert_eq!(
                reference,
                None,
                "fast path declined valid {:?}",
                String::from_utf8_lossy(text)
            ),
        }
    }

    #[test]
    fn every_character_in_every_position_of_short_input() {
        // Each byte value at each position of inputs up to 5 long, the rest
        // a mix of characters that leave trailing bits set or clear.
        for len in 0..=9 {
            for pos in 0..len {
                for byte in 0..=255u8 {
                    for fill in [b'A', b'B', b'g', b'_', b'-', b'w'] {
                        let mut text = vec![fill; len];
                        text[pos] = byte;
                        agree(&text);
                    }
                }
            }
        }
        for special in [
            &b"="[..],
            b"==",
            b"AA==",
            b"AAA=",
            b"A",
            b"AAAAA",
            b"+/",
            b"AB\n",
        ] {
            agree(special);
        }
    }

    #[test]
    fn random_text_and_round_trips() {
        // A small xorshift, so the test needs no extra crate and is repeatable.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 80) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let encoded = encode(&bytes);
            assert_eq!(decode(&encoded).unwrap(), bytes);
            assert_eq!(decode_fast(encoded.as_bytes()), Some(bytes));
            // Mostly alphabet, sometimes anything: valid and invalid shapes alike.
            let text: Vec<u8> = (0..len)
                .map(|_| match next() % 16 {
                    0 => next() as u8,
                    _ => ALPHABET[(next() % 64) as usize],
                })
                .collect();
            agree(&text);
        }
    }

    #[test]
    fn errors_are_the_crates() {
        for text in ["A", "AA=", "A*AA", "AB", "AAB"] {
            assert_eq!(
                decode(text).map_err(|e| e.to_string()),
                URL_SAFE_NO_PAD.decode(text).map_err(|e| e.to_string())
            );
        }
    }
}

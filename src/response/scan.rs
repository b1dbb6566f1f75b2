//! Where a run of plain string bytes ends, eight bytes at a time.
//!
//! Strings are most of the bytes a subgraph answers and Seam writes back (review bodies,
//! descriptions, names). Reading them byte by byte to find the closing quote, and again to see
//! whether they need escaping on the way out, was 15 % of the gateway's CPU on the public
//! benchmark's query. Checking a whole machine word per step finds the same byte.

/// Eight copies of `byte`, one in each byte of a word.
const fn repeated(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

const HIGH_BITS: u64 = repeated(0x80);

/// A word with the high bit set in (at least) the lowest byte of `word` that is below `limit`
/// (`limit` at most 0x80); zero when no byte is. Bytes above the first hit may be flagged
/// wrongly by the borrow, so only the lowest flag is to be read.
const fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(repeated(limit)) & !word & HIGH_BITS
}

/// Like [`bytes_below`], for bytes equal to `byte`.
const fn bytes_equal(word: u64, byte: u8) -> u64 {
    bytes_below(word ^ repeated(byte), 1)
}

/// Whether a JSON string can hold `byte` as it is: not a quote, a backslash or a control
/// character.
const fn is_plain(byte: u8) -> bool {
    byte >= 0x20 && byte != b'"' && byte != b'\\'
}

/// The position of the first byte of `bytes` that is not [plain](is_plain), or `bytes.len()`
/// when every byte is.
pub(crate) fn plain_prefix_len(bytes: &[u8]) -> usize {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Little-endian order puts the first byte in the lowest bits, so the lowest flag is
        // the first special byte (the borrow only flags bytes after a true hit).
        let word = u64::from_le_bytes(word);
        let hits = bytes_below(word, 0x20) | bytes_equal(word, b'"') | bytes_equal(word, b'\\');
        if hits != 0 {
            return at + (hits.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + words
        .remainder()
        .iter()
        .position(|b| !is_plain(*b))
        .unwrap_or(words.remainder().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8]) -> usize {
        bytes
            .iter()
            .position(|b| !is_plain(*b))
            .unwrap_or(bytes.len())
    }

    #[test]
    fn finds_every_special_byte_at_every_position() {
        // Every byte value at every position of strings up to three words long, with a plain
        // filler of ASCII and of UTF-8 continuation bytes (which are above 0x80) around it.
        for filler in [b'a', 0xA9, 0x7F, 0x20] {
            for len in 0..24 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut bytes = vec![filler; len];
                        bytes[at] = byte;
                        assert_eq!(
                            plain_prefix_len(&bytes),
                            naive(&bytes),
                            "byte {byte:#x} at {at} of {len}, filler {filler:#x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_first_of_several_special_bytes_wins() {
        // A later hit in the same word, or an earlier borrow, must not hide or move the first.
        for first in 0..8 {
            for second in first + 1..16 {
                for (a, b) in [(b'"', 0x00), (0x1F, b'\\'), (b'\\', b'"'), (0x00, 0x00)] {
                    let mut bytes = vec![b'x'; 16];
                    bytes[first] = a;
                    bytes[second] = b;
                    assert_eq!(plain_prefix_len(&bytes), first);
                }
            }
        }
        assert_eq!(plain_prefix_len(b""), 0);
        let text = "plain text, caf\u{e9} and more than a word";
        assert_eq!(plain_prefix_len(text.as_bytes()), text.len());
    }
}

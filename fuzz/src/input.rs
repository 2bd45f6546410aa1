//! Cutting one fuzz input into the several arguments a target needs. Lines separate text
//! arguments (so a seed is a readable file); numbers are taken from the front.

use std::borrow::Cow;

/// The input as text: invalid UTF-8 becomes U+FFFD, so every input reaches the parser
/// instead of being thrown away.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// `(first line, the rest)`; the rest is empty when there is no newline.
pub fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// A little-endian `u64` from up to 8 leading bytes (missing bytes are zero), and the rest.
pub fn take_u64(data: &[u8]) -> (u64, &[u8]) {
    let (head, rest) = data.split_at(data.len().min(8));
    let mut bytes = [0; 8];
    bytes[..head.len()].copy_from_slice(head);
    (u64::from_le_bytes(bytes), rest)
}

/// `N` leading bytes (zero-padded when the input is shorter), and the rest.
pub fn take_array<const N: usize>(data: &[u8]) -> ([u8; N], &[u8]) {
    let (head, rest) = data.split_at(data.len().min(N));
    let mut bytes = [0; N];
    bytes[..head.len()].copy_from_slice(head);
    (bytes, rest)
}

/// The text with each line ended by `\n` (what the line-based rewriters promise to emit
/// when they change nothing): `str::lines` drops `\n` and `\r\n` endings alike.
pub fn normalized_lines(text: &str) -> String {
    text.lines().flat_map(|line| [line, "\n"]).collect()
}

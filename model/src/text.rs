//! Rules for text people type (titles, file names): what may be shown back safely.

/// True when `text` has no control characters and no Unicode bidirectional controls. Text
/// that passes is printable as it is in a page, a log line or a header-free JSON string, and
/// reads in the order its characters come: `invoice\u{202E}4pm.exe` cannot pass for
/// `invoiceexe.mp4` (CVE-2021-42574, "Trojan Source").
pub fn is_printable(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// The explicit directional formatting characters of Unicode's bidirectional algorithm
/// (UAX #9): embeddings, overrides, isolates and the implicit marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Trimmed, 1..=`max_chars` characters, printable: the rule for one line of user text.
/// Returns the trimmed text.
pub fn single_line(text: &str, max_chars: usize) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= max_chars && is_printable(text)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_lines() {
        assert_eq!(single_line("  Holiday ", 10), Some("Holiday"));
        assert_eq!(single_line("ünïcødé ✓", 9), Some("ünïcødé ✓"));
        for bad in [
            "",
            "   ",
            "a\nb",
            "a\u{7}",
            "a\u{85}b",
            "elevenchars",
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{200F}",
            "\u{061C}",
        ] {
            assert_eq!(single_line(bad, 10), None, "{bad:?}");
        }
    }
}

//! Rules for text people type (titles, file names): what may be shown back safely.

/// True when `text` has no control characters. Text that passes is printable as it is in a
/// page, a log line or a header-free JSON string.
pub fn is_printable(text: &str) -> bool {
    !text.chars().any(char::is_control)
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
        for bad in ["", "   ", "a\nb", "a\u{7}", "a\u{85}b", "elevenchars"] {
            assert_eq!(single_line(bad, 10), None, "{bad:?}");
        }
    }
}

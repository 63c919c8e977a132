//! Byte offsets and the editor's positions: lines, and columns counted in
//! UTF-16 code units, as the protocol counts them unless told otherwise.

use lsp_types::{Position, Range};

/// The position of a byte offset.
pub(super) fn position(text: &str, offset: usize) -> Position {
    let offset = floor(text, offset.min(text.len()));
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column: usize = text
        .get(start..offset)
        .map_or(0, |s| s.chars().map(char::len_utf16).sum());
    Position::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

pub(super) fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end))
}

/// The byte offset of a position; past the end of its line, the line's end.
pub(super) fn offset(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text.get(start..).and_then(|s| s.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line = text.get(start..).unwrap_or("");
    let line = line.split('\n').next().unwrap_or("");
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        if units >= pos.character {
            return start + i;
        }
        units = units.saturating_add(u32::try_from(c.len_utf16()).unwrap_or(2));
    }
    start + line.len()
}

fn floor(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_come_back_to_their_offsets() {
        let text = "deal \"Café 𝄞\"\nparties A, B\n";
        for (i, _) in text.char_indices() {
            assert_eq!(offset(text, position(text, i)), i, "offset {i}");
        }
        // The closing quote: after `é` (one unit) and `𝄞` (two).
        assert_eq!(position(text, text.rfind('"').unwrap_or(0)), Position::new(0, 13));
        assert_eq!(position(text, text.find('B').unwrap_or(0)), Position::new(1, 11));
    }
}

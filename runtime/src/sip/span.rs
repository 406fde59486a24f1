//! Byte ranges into a message buffer.

use std::ops::Range;

/// A half-open byte range `start..end` into the buffer a message was parsed
/// from. Spans are what lumps are recorded against, so they always refer to
/// the received bytes, never to an edited copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub const fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(self) -> bool {
        self.end <= self.start
    }

    pub const fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether `offset` lies strictly between `start` and `end`, where an
    /// insertion would split the range.
    pub const fn strictly_contains(self, offset: usize) -> bool {
        self.start < offset && offset < self.end
    }

    /// Whether two non-empty ranges share at least one byte.
    pub const fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Number of bytes the two ranges share.
    pub fn overlap_len(self, other: Span) -> usize {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        end.saturating_sub(start)
    }
}

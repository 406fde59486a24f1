//! Lumps: edits recorded against offsets of the received buffer and applied
//! once, the way Kamailio rewrites messages. Bytes no lump touches are
//! copied as they came, so a proxy never reformats what it did not change.

use super::error::{ErrorKind, SipError};
use super::span::Span;
use bytes::Bytes;

/// Which neighbour an insertion belongs to when several changes meet at the
/// same offset: `After` sticks to the bytes before the offset (say, "after
/// header 3"), `Before` to the bytes that follow ("before header 4"). At
/// one offset all `After` insertions come first, then all `Before` ones,
/// each group in the order recorded, then a replacement starting there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    After,
    Before,
}

#[derive(Debug, Clone)]
struct Insertion {
    at: usize,
    side: Side,
    data: Bytes,
}

/// A deletion (`data` empty) or a replacement.
#[derive(Debug, Clone)]
struct Cut {
    span: Span,
    data: Bytes,
}

/// The edits for one buffer of `len` bytes.
#[derive(Debug, Clone)]
pub struct Lumps {
    len: usize,
    insertions: Vec<Insertion>,
    cuts: Vec<Cut>,
}

impl Lumps {
    pub fn new(len: usize) -> Self {
        Lumps {
            len,
            insertions: Vec::new(),
            cuts: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.insertions.is_empty() && self.cuts.is_empty()
    }

    /// Inserts `data` at `at`, ahead of whatever else is inserted there
    /// with [`Lumps::insert_before`].
    pub fn insert_after(&mut self, at: usize, data: impl Into<Bytes>) -> Result<(), SipError> {
        self.insert(at, Side::After, data.into())
    }

    /// Inserts `data` at `at`, right before the original byte at `at`.
    pub fn insert_before(&mut self, at: usize, data: impl Into<Bytes>) -> Result<(), SipError> {
        self.insert(at, Side::Before, data.into())
    }

    pub fn delete(&mut self, span: Span) -> Result<(), SipError> {
        self.cut(span, Bytes::new())
    }

    pub fn replace(&mut self, span: Span, data: impl Into<Bytes>) -> Result<(), SipError> {
        self.cut(span, data.into())
    }

    /// Whether a deletion or replacement covers all of `span`.
    pub fn is_cut(&self, span: Span) -> bool {
        self.cuts
            .iter()
            .any(|c| c.span.start <= span.start && span.end <= c.span.end && !c.span.is_empty())
    }

    /// Whether any edit changes the bytes of `region` or adds bytes inside
    /// it or at its ends.
    pub fn touches(&self, region: Span) -> bool {
        self.insertions
            .iter()
            .any(|i| region.start <= i.at && i.at <= region.end)
            || self.cuts.iter().any(|c| {
                c.span.overlaps(region)
                    || (c.span.is_empty()
                        && region.start <= c.span.start
                        && c.span.start <= region.end)
            })
    }

    /// The length `region` will have after the edits. Bytes inserted at
    /// either end count as inside, which is what a body needs: text added
    /// at the body start or end is body.
    pub fn length_within(&self, region: Span) -> usize {
        let inside = |at: usize| region.start <= at && at <= region.end;
        let removed: usize = self.cuts.iter().map(|c| c.span.overlap_len(region)).sum();
        let added: usize = self
            .insertions
            .iter()
            .filter(|i| inside(i.at))
            .map(|i| i.data.len())
            .chain(
                self.cuts
                    .iter()
                    .filter(|c| inside(c.span.start))
                    .map(|c| c.data.len()),
            )
            .sum();
        region.len() - removed.min(region.len()) + added
    }

    /// Applies the edits to `original`, which must be the buffer the
    /// offsets were recorded against.
    pub fn apply(&self, original: &Bytes) -> Result<Bytes, SipError> {
        if original.len() != self.len {
            return Err(SipError::new(ErrorKind::LumpOutOfRange {
                offset: original.len(),
                len: self.len,
            }));
        }
        if self.is_empty() {
            return Ok(original.clone());
        }
        // (offset, order at that offset, recording order, what)
        let mut events: Vec<(usize, u8, usize, Event)> =
            Vec::with_capacity(self.insertions.len() + self.cuts.len());
        for (i, ins) in self.insertions.iter().enumerate() {
            let order = if ins.side == Side::After { 0 } else { 1 };
            events.push((ins.at, order, i, Event::Insert(i)));
        }
        for (i, cut) in self.cuts.iter().enumerate() {
            let order = if cut.span.is_empty() { 2 } else { 3 };
            events.push((cut.span.start, order, i, Event::Cut(i)));
        }
        events.sort_by_key(|&(at, order, seq, _)| (at, order, seq));

        let added: usize = self.insertions.iter().map(|i| i.data.len()).sum::<usize>()
            + self.cuts.iter().map(|c| c.data.len()).sum::<usize>();
        let mut out = Vec::with_capacity(original.len() + added);
        let mut pos = 0;
        for (at, _, _, event) in events {
            let Some(kept) = original.get(pos..at) else {
                return Err(SipError::new(ErrorKind::LumpOverlap));
            };
            out.extend_from_slice(kept);
            pos = at;
            match event {
                Event::Insert(i) => out.extend_from_slice(&self.insertions[i].data),
                Event::Cut(i) => {
                    out.extend_from_slice(&self.cuts[i].data);
                    pos = self.cuts[i].span.end;
                }
            }
        }
        out.extend_from_slice(original.get(pos..).unwrap_or_default());
        Ok(Bytes::from(out))
    }

    fn insert(&mut self, at: usize, side: Side, data: Bytes) -> Result<(), SipError> {
        if at > self.len {
            return Err(self.out_of_range(at));
        }
        if self.cuts.iter().any(|c| c.span.strictly_contains(at)) {
            return Err(SipError::at(ErrorKind::InsertInsideDeletion, at));
        }
        self.insertions.push(Insertion { at, side, data });
        Ok(())
    }

    fn cut(&mut self, span: Span, data: Bytes) -> Result<(), SipError> {
        if span.start > span.end || span.end > self.len {
            return Err(self.out_of_range(span.end.max(span.start)));
        }
        if self.cuts.iter().any(|c| c.span.overlaps(span)) {
            return Err(SipError::at(ErrorKind::LumpOverlap, span.start));
        }
        if self.insertions.iter().any(|i| span.strictly_contains(i.at)) {
            return Err(SipError::at(ErrorKind::InsertInsideDeletion, span.start));
        }
        self.cuts.push(Cut { span, data });
        Ok(())
    }

    fn out_of_range(&self, offset: usize) -> SipError {
        SipError::at(
            ErrorKind::LumpOutOfRange {
                offset,
                len: self.len,
            },
            offset,
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Insert(usize),
    Cut(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"0123456789";

    fn apply(lumps: &Lumps) -> String {
        let out = lumps.apply(&Bytes::from_static(TEXT)).unwrap();
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn no_lumps_is_the_same_buffer() {
        assert_eq!(apply(&Lumps::new(10)), "0123456789");
    }

    #[test]
    fn insertions_at_one_offset_are_ordered_by_side_then_recording() {
        let mut l = Lumps::new(10);
        l.insert_before(5, "b1").unwrap();
        l.insert_after(5, "a1").unwrap();
        l.insert_before(5, "b2").unwrap();
        l.insert_after(5, "a2").unwrap();
        assert_eq!(apply(&l), "01234a1a2b1b256789");
    }

    #[test]
    fn deletions_replacements_and_insertions_at_their_edges() {
        let mut l = Lumps::new(10);
        l.delete(Span::new(2, 4)).unwrap();
        l.replace(Span::new(6, 8), "XY").unwrap();
        l.insert_before(2, "<").unwrap();
        l.insert_after(4, ">").unwrap();
        l.insert_before(10, "!").unwrap();
        l.insert_after(0, "^").unwrap();
        assert_eq!(apply(&l), "^01<>45XY89!");
        assert_eq!(l.length_within(Span::new(5, 10)), 6);
        assert!(l.touches(Span::new(8, 10)));
        assert!(!l.touches(Span::new(8, 9)));
    }

    #[test]
    fn conflicting_lumps_are_refused() {
        let mut l = Lumps::new(10);
        l.delete(Span::new(2, 6)).unwrap();
        assert_eq!(
            l.delete(Span::new(5, 7)).unwrap_err().code(),
            "lump-overlap"
        );
        assert_eq!(
            l.insert_before(3, "x").unwrap_err().code(),
            "insert-inside-deletion"
        );
        assert_eq!(
            l.insert_after(11, "x").unwrap_err().code(),
            "lump-out-of-range"
        );
        assert_eq!(
            l.replace(Span::new(8, 12), "x").unwrap_err().code(),
            "lump-out-of-range"
        );
        l.insert_before(7, "i").unwrap();
        assert_eq!(
            l.delete(Span::new(6, 9)).unwrap_err().code(),
            "insert-inside-deletion"
        );
        assert!(Lumps::new(3).apply(&Bytes::from_static(TEXT)).is_err());
    }

    #[test]
    fn empty_replacement_is_an_insertion_after_inserts() {
        let mut l = Lumps::new(10);
        l.replace(Span::new(3, 3), "R").unwrap();
        l.insert_before(3, "B").unwrap();
        l.replace(Span::new(3, 5), "S").unwrap();
        assert_eq!(apply(&l), "012BRS56789");
    }
}

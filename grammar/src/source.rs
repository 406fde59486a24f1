//! The file database: every text that spans point into, with the include
//! chain of each file. It is codespan-reporting's file database too.

use crate::span::{FileId, Span};
use codespan_reporting::files::{self, Files};
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug)]
pub struct SourceFile {
    /// Name as shown in diagnostics (the path as given, or resolved).
    pub name: String,
    pub text: Arc<str>,
    /// Where this file was included from (`include_file` directive), if any.
    pub included_from: Option<Span>,
    line_starts: Vec<usize>,
}

#[derive(Debug, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    pub fn new() -> SourceDb {
        SourceDb::default()
    }

    pub fn add(
        &mut self,
        name: impl Into<String>,
        text: String,
        included_from: Option<Span>,
    ) -> FileId {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            included_from,
            line_starts,
        });
        FileId(self.files.len() as u32 - 1)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].text
    }

    /// A shared handle on a file's text, to lex it while the database grows.
    pub fn text_arc(&self, id: FileId) -> Arc<str> {
        self.files[id.0 as usize].text.clone()
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text(span.file).get(span.range()).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> {
        (0..self.files.len() as u32).map(FileId)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let f = self.file(file);
        let line = match f.line_starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let start = f.line_starts[line];
        let col = f
            .text
            .get(start..offset.min(f.text.len()))
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The chain of `include_file` sites that led to `file`, innermost first.
    pub fn include_chain(&self, file: FileId) -> Vec<Span> {
        let mut chain = Vec::new();
        let mut cur = self.file(file).included_from;
        while let Some(site) = cur {
            if chain.len() > 64 {
                break;
            }
            chain.push(site);
            cur = self.file(site.file).included_from;
        }
        chain
    }
}

impl<'a> Files<'a> for SourceDb {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files
            .get(id.0 as usize)
            .map(|f| f.name.as_str())
            .ok_or(files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files
            .get(id.0 as usize)
            .map(|f| &*f.text)
            .ok_or(files::Error::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        let f = self
            .files
            .get(id.0 as usize)
            .ok_or(files::Error::FileMissing)?;
        Ok(match f.line_starts.binary_search(&byte_index) {
            Ok(l) => l,
            Err(l) => l - 1,
        })
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, files::Error> {
        let f = self
            .files
            .get(id.0 as usize)
            .ok_or(files::Error::FileMissing)?;
        let start = *f
            .line_starts
            .get(line_index)
            .ok_or(files::Error::LineTooLarge {
                given: line_index,
                max: f.line_starts.len() - 1,
            })?;
        let end = f
            .line_starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(f.text.len());
        Ok(start..end)
    }
}

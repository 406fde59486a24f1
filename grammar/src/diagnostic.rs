//! Diagnostics as values: a severity, a stable code, a message and spans.
//! They are rendered once, at the edge (see [`crate::render`]).

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `E1001`. Documented in `docs/diagnostics.md`.
    pub code: &'static str,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn note_diag(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The codes the front end emits. Kept in one place so that they stay stable
/// and documented.
pub mod codes {
    pub const IO: &str = "E0001";
    pub const RECURSIVE_DEFINE: &str = "E1001";
    pub const UNBALANCED_ELSE_ENDIF: &str = "E1002";
    pub const UNCLOSED_IFDEF: &str = "E1003";
    pub const MISSING_INCLUDE: &str = "E1004";
    pub const INCLUDE_CYCLE: &str = "E1005";
    pub const INCLUDE_DEPTH: &str = "E1006";
    pub const ALREADY_DEFINED: &str = "E1007";
    pub const BAD_DIRECTIVE: &str = "E1008";
    pub const BAD_SUBST: &str = "E1009";
    pub const MISSING_ENV: &str = "E1010";
    pub const EXPANSION_LIMIT: &str = "E1011";
    pub const INCLUDE_NAME: &str = "E1012";
    pub const LOST_DIRECTIVE: &str = "W1013";
    pub const UNDEFINED_UNDEF: &str = "E1014";
    pub const BAD_EXPRESSION: &str = "E1015";
    pub const SYNTAX: &str = "E2001";
    pub const UNTERMINATED_STRING: &str = "E2002";
    pub const UNTERMINATED_COMMENT: &str = "E2003";
    pub const INVALID_TOKEN: &str = "E2004";
    pub const UNEXPECTED_EOF: &str = "E2005";
    pub const BAD_RULE: &str = "E2006";
    pub const EMPTY_BLOCK: &str = "W2007";
    pub const TOO_DEEP: &str = "E2008";
    pub const ERA: &str = "N0001";
}

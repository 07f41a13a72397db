//! Located problems in a document: what is wrong, where (JSON pointer, line and column) and a hint.

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;

use crate::locate::SourceMap;
pub use crate::locate::escape_segment;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The document cannot be used.
    Error,
    /// The document can be used, but probably does not say what its author meant.
    Warning,
    /// Nothing is wrong: something the author should know (a default their format version
    /// keeps that a newer one changes).
    Note,
}

/// What kind of problem a diagnostic reports; stable, for machines and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The text is not JSON.
    Syntax,
    /// The document does not follow its JSON Schema.
    Schema,
    /// A property the schema does not know.
    UnknownProperty,
    /// The definition is written for another format version.
    FormatVersion,
    /// Two things of the same kind share an identifier.
    DuplicateId,
    /// An identifier names nothing that exists.
    UnknownReference,
    /// A language is used that the award does not declare.
    UnknownLanguage,
    /// A text lacks its default-language translation.
    MissingTranslation,
    /// Dates are out of order, or a time zone is unknown.
    Timeline,
    /// A weight is negative, or every weight of a group is zero.
    Weight,
    /// A scale is inconsistent.
    Scale,
    /// A form field's constraints do not fit its type or contradict each other.
    Field,
    /// A condition does not fit the field it reads.
    Condition,
    /// A category cannot be judged or entered.
    Category,
    /// A plugin's file is missing, differs from its hash, or lacks a hook it is called at.
    Plugin,
    /// Scoring settings are inconsistent.
    Scoring,
    /// A formula cannot be read, names something unknown, or mixes numbers and true/false.
    Formula,
}

/// One located problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// What kind of problem it is.
    pub code: Code,
    /// Where, as a JSON pointer into the document (`""` is the whole document).
    pub pointer: String,
    /// 1-based line of the pointed-to value or key, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Where in another file the problem lies (a plugin's script), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<SourceLocation>>,
}

/// A place in a file other than the document a diagnostic's pointer points into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SourceLocation {
    /// The file, relative to the document's folder.
    pub file: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Diagnostic {
    /// An error at `pointer`.
    pub fn error(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            pointer: pointer.into(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// A warning at `pointer`.
    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, pointer, message)
        }
    }

    /// A note at `pointer`: nothing is wrong.
    pub fn note(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            ..Self::error(code, pointer, message)
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds an explicit line and column.
    #[must_use]
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Locates the problem in another file.
    #[must_use]
    pub fn in_file(
        mut self,
        file: impl Into<String>,
        line: Option<usize>,
        column: Option<usize>,
    ) -> Self {
        self.source = Some(Box::new(SourceLocation {
            file: file.into(),
            line,
            column,
        }));
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{severity}[{}] at {pointer}", code_str(self.code))?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " ({line}:{column})")?;
        }
        if let Some(source) = &self.source {
            write!(f, " in {}", source.file)?;
            if let Some(line) = source.line {
                write!(f, ":{line}")?;
                if let Some(column) = source.column {
                    write!(f, ":{column}")?;
                }
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

fn code_str(code: Code) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The diagnostics of one document, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(transparent)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// How many errors there are.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    /// How many warnings there are.
    pub fn warning_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over them.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Fills in line and column from `source`, the document the pointers point into.
    pub fn locate_in(&mut self, source: &str) {
        // Mapping the source costs a scan of it: not when there is nothing to place (a valid
        // write).
        if !self.0.is_empty() {
            self.locate(&SourceMap::new(source));
        }
    }

    /// Fills in line and column from the source and sorts into document order.
    pub(crate) fn locate(&mut self, map: &SourceMap) {
        for d in &mut self.0 {
            if d.line.is_none()
                && let Some((line, column)) = map.position(&d.pointer)
            {
                d.line = Some(line);
                d.column = Some(column);
            }
        }
        self.0.sort_by(|a, b| {
            (a.line, a.column, &a.pointer, &a.message)
                .cmp(&(b.line, b.column, &b.pointer, &b.message))
        });
        self.0.dedup();
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<T: IntoIterator<Item = Diagnostic>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.0.extend(iter);
    }
}

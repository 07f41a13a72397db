//! Renders diagnostics for people, with the source lines around each problem (miette).

use laurel::{Diagnostic, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    snippet: NamedSource<String>,
    label: Option<LabeledSpan>,
}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.snippet)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

/// One diagnostic as text: `file:line:column`, the message, the source lines and the hint.
pub fn render_text(file: &str, source: &str, d: &Diagnostic) -> String {
    let pointer = if d.pointer.is_empty() {
        "/"
    } else {
        &d.pointer
    };
    let location = match (d.line, d.column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        _ => file.to_owned(),
    };
    let offset = d
        .line
        .zip(d.column)
        .and_then(|(l, c)| offset_of(source, l, c));
    let rendered = Rendered {
        message: terminal_safe(&d.message),
        code: serde_json::to_value(d.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        },
        help: d.hint.as_deref().map(terminal_safe),
        snippet: NamedSource::new(file, same_length_safe(source)),
        label: offset
            .map(|o| LabeledSpan::new(Some(format!("at {pointer}")), o, token_len(source, o))),
    };
    let theme = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    if handler.render_report(&mut out, &rendered).is_err() {
        out = format!("{location}: {d}\n");
    }
    out
}

/// The source with each character `terminal_safe` would escape replaced by one of the same
/// length in bytes, so that offsets into it still hold.
fn same_length_safe(source: &str) -> String {
    source
        .chars()
        .map(|c| {
            if terminal_safe(c.encode_utf8(&mut [0; 4])).chars().count() == 1 {
                return c;
            }
            match c.len_utf8() {
                1 => '?',
                2 => '¿',
                _ => '\u{fffd}',
            }
        })
        .collect()
}

fn offset_of(source: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = source.get(start..)?;
    let within: usize = rest
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    Some(start + within)
}

/// The length of the JSON token starting at `offset`: a string with its quotes, or up to a delimiter.
fn token_len(source: &str, offset: usize) -> usize {
    let Some(rest) = source.get(offset..) else {
        return 0;
    };
    if let Some(body) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return i + 2,
                _ => escaped = false,
            }
        }
        return 1;
    }
    rest.find([',', '}', ']', '\n', '{', '['])
        .unwrap_or(rest.len())
        .max(1)
}

/// Text made safe for a terminal: control characters other than line breaks and tabs (escape
/// sequences among them) and invisible direction overrides are written out as `\u{..}`, so
/// that nothing a rubric, an application or a plugin wrote can move the cursor, clear the
/// screen or reverse what follows.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let invisible = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
        if (c.is_control() && c != '\n' && c != '\t') || invisible {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_overrides_are_written_out() {
        assert_eq!(
            terminal_safe("a\u{1b}[2Jb\u{202e}c\nd"),
            "a\\u{1b}[2Jb\\u{202e}c\nd"
        );
    }
}

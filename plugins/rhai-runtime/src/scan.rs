//! A linear look at a script's text before it is parsed: what would make the parser or the
//! optimizer slow. rhai's parser looks variables up in a list (so a scope with many of them
//! parses in quadratic time), and its optimizer passes over a block until nothing changes
//! (quadratic in the statements): a script is refused past a bound on declarations, and
//! optimized only below a bound on statements, so compiling stays linear in the source.

/// What the scan counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// `let` and `const` declarations.
    pub declarations: usize,
    /// Statement ends and blocks: `;` and `{`.
    pub statements: usize,
}

/// The most `let` and `const` declarations a script may have.
pub const MAX_DECLARATIONS: usize = 4_000;
/// Scripts with more statements than this are compiled without rhai's optimizer (whose
/// passes are quadratic in them); below it, as before.
pub const OPTIMIZED_STATEMENTS: usize = 2_000;

/// Counts declarations and statements, skipping strings, characters and comments.
pub fn scan(source: &str) -> Shape {
    let bytes = source.as_bytes();
    let mut shape = Shape::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in rhai.
                let mut depth = 1;
                i += 2;
                while i < bytes.len() && depth > 0 {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 1;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            quote @ (b'"' | b'`' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' && quote != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b';' | b'{' => shape.statements += 1,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if matches!(&bytes[start..i], b"let" | b"const") {
                    shape.declarations += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_not_text() {
        let shape = scan(
            "let a = \"let b; { }\"; // let c;\n/* let /* d */ e; */ const f = 'x'; let_g; { h }",
        );
        assert_eq!(shape.declarations, 2);
        assert_eq!(shape.statements, 4);
    }
}

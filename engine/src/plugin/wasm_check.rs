//! What a wasm module declares, read before it is compiled: compiling costs time and memory
//! in proportion to what the module declares, so a module that declares more than its limits
//! allow is refused first, naming the limit. Besides sizes and counts, each function's
//! complexity is bounded: Cranelift's cost grows with locals times branches (every block can
//! merge every local), which a few kilobytes can make enormous.

use wasmparser::{Operator, Parser, Payload};

use super::limits::Limits;

/// The largest table a module may declare, in elements.
pub(crate) const TABLE_ELEMENTS: u64 = 10_000;
/// The most tables a module may declare.
pub(crate) const TABLES: usize = 4;
/// The most globals a module may declare.
const GLOBALS: u32 = 1_000;
/// The size of a wasm page.
const PAGE: u64 = 64 << 10;
/// The most types a module may declare.
pub(crate) const TYPES: u32 = 10_000;
/// The most locals a function may declare.
pub(crate) const LOCALS: u32 = 10_000;
/// The deepest nesting of blocks, loops and ifs in a function.
pub(crate) const NESTING: u32 = 1_000;
/// The most a function's locals times its blocks may be (compiling it costs about as much).
pub(crate) const COMPLEXITY: u64 = 4_000_000;
/// The most targets of all `br_table`s in a function.
pub(crate) const TABLE_TARGETS: u64 = 100_000;

/// A module that may not be compiled: which limit, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub limit: &'static str,
    pub detail: String,
}

fn refuse(limit: &'static str, detail: String) -> Refused {
    Refused { limit, detail }
}

/// Reads `module` (binary) and refuses it when it declares more than `limits` allow.
pub(crate) fn inspect(module: &[u8], limits: &Limits) -> Result<(), Refused> {
    if module.len() as u64 > limits.source_bytes {
        return Err(refuse(
            "module size",
            format!(
                "the module has {} bytes, at most {}",
                module.len(),
                limits.source_bytes
            ),
        ));
    }
    let mut tables = 0usize;
    let mut memories = 0usize;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| {
            refuse(
                "module format",
                format!("not a valid module at byte {}: {}", e.offset(), e.message()),
            )
        })?;
        match payload {
            Payload::FunctionSection(reader) if reader.count() > limits.module_functions => {
                return Err(refuse(
                    "functions",
                    format!(
                        "the module defines {} functions, at most {}",
                        reader.count(),
                        limits.module_functions
                    ),
                ));
            }
            Payload::TypeSection(reader) if reader.count() > TYPES => {
                return Err(refuse(
                    "types",
                    format!(
                        "the module declares {} types, at most {TYPES}",
                        reader.count()
                    ),
                ));
            }
            Payload::CodeSectionEntry(body) => {
                let size = body.range().len();
                if size as u64 > u64::from(limits.function_bytes) {
                    return Err(refuse(
                        "function size",
                        format!(
                            "a function at byte {} has {size} bytes of code, at most {}",
                            body.range().start,
                            limits.function_bytes
                        ),
                    ));
                }
                function(&body)?;
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(|e| {
                        refuse(
                            "module format",
                            format!("at byte {}: {}", e.offset(), e.message()),
                        )
                    })?;
                    memories += 1;
                    if memory.memory64 || memory.shared {
                        return Err(refuse(
                            "memory",
                            "64-bit and shared memories are not supported".to_owned(),
                        ));
                    }
                    let initial = memory.initial.saturating_mul(PAGE);
                    if initial > limits.memory_bytes {
                        return Err(refuse(
                            "memory",
                            format!(
                                "the module's memory starts at {initial} bytes, at most {}",
                                limits.memory_bytes
                            ),
                        ));
                    }
                }
                if memories > 1 {
                    return Err(refuse(
                        "memory",
                        format!("the module declares {memories} memories, at most 1"),
                    ));
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(|e| {
                        refuse(
                            "module format",
                            format!("at byte {}: {}", e.offset(), e.message()),
                        )
                    })?;
                    tables += 1;
                    if table.ty.initial > TABLE_ELEMENTS {
                        return Err(refuse(
                            "table size",
                            format!(
                                "a table starts with {} elements, at most {TABLE_ELEMENTS}",
                                table.ty.initial
                            ),
                        ));
                    }
                }
                if tables > TABLES {
                    return Err(refuse(
                        "tables",
                        format!("the module declares {tables} tables, at most {TABLES}"),
                    ));
                }
            }
            Payload::GlobalSection(reader) if reader.count() > GLOBALS => {
                return Err(refuse(
                    "globals",
                    format!(
                        "the module declares {} globals, at most {GLOBALS}",
                        reader.count()
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn format_error(e: &wasmparser::BinaryReaderError) -> Refused {
    refuse(
        "module format",
        format!("not a valid module at byte {}: {}", e.offset(), e.message()),
    )
}

/// Refuses a function whose locals, nesting, branch tables or locals times blocks pass their
/// bounds; reads its code once.
fn function(body: &wasmparser::FunctionBody<'_>) -> Result<(), Refused> {
    let at = body.range().start;
    let mut locals: u64 = 0;
    for group in body.get_locals_reader().map_err(|e| format_error(&e))? {
        let (count, _) = group.map_err(|e| format_error(&e))?;
        locals += u64::from(count);
        if locals > u64::from(LOCALS) {
            return Err(refuse(
                "locals",
                format!("a function at byte {at} declares more than {LOCALS} locals"),
            ));
        }
    }
    let (mut depth, mut blocks, mut targets) = (0u32, 0u64, 0u64);
    let mut operators = body.get_operators_reader().map_err(|e| format_error(&e))?;
    while !operators.eof() {
        match operators.read().map_err(|e| format_error(&e))? {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                depth += 1;
                blocks += 1;
                if depth > NESTING {
                    return Err(refuse(
                        "nesting",
                        format!("a function at byte {at} nests blocks deeper than {NESTING}"),
                    ));
                }
            }
            Operator::End => depth = depth.saturating_sub(1),
            Operator::BrTable { targets: table } => {
                targets += u64::from(table.len());
                if targets > TABLE_TARGETS {
                    return Err(refuse(
                        "branch tables",
                        format!(
                            "a function at byte {at} has more than {TABLE_TARGETS} branch-table targets"
                        ),
                    ));
                }
            }
            _ => {}
        }
        // Every block can merge every local: compiling costs about their product.
        if blocks.saturating_mul(locals.max(1)) > COMPLEXITY {
            return Err(refuse(
                "function complexity",
                format!(
                    "a function at byte {at} has {locals} locals and more than {} blocks; \
                     their product may be at most {COMPLEXITY}",
                    COMPLEXITY / locals.max(1)
                ),
            ));
        }
    }
    Ok(())
}

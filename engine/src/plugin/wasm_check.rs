//! What a wasm module declares, read before it is compiled: compiling costs time and memory
//! in proportion to what the module declares, so a module that declares more than its limits
//! allow is refused first, naming the limit.

use wasmparser::{Parser, Payload};

use super::limits::Limits;

/// The largest table a module may declare, in elements.
pub(crate) const TABLE_ELEMENTS: u64 = 10_000;
/// The most tables a module may declare.
pub(crate) const TABLES: usize = 4;
/// The most globals a module may declare.
const GLOBALS: u32 = 1_000;
/// The size of a wasm page.
const PAGE: u64 = 64 << 10;

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

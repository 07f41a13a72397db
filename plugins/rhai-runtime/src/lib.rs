//! Laurel's rhai interpreter as a wasm guest. Every rhai plugin runs inside it, in the same
//! wasm sandbox as wasm plugins: a script, however written, can reach only this module's
//! linear memory and its own wasm stack, so a crash, an overflow or a runaway allocation in
//! the interpreter is a trap for that call, never a fault of the host.
//!
//! The host (`engine/src/plugin/rhai_host.rs`) instantiates this module, loads one script into
//! the instance with [`load`], then calls its hooks with [`call`], reusing the instance while
//! it stays healthy. The exports:
//!
//! - `laurel_abi_version() -> i32`: 1, the plugin ABI's version;
//! - `laurel_alloc(len) -> ptr`: room for the host to write a request into; the guest frees it;
//! - `laurel_rhai_load(ptr, len) -> i64`: compiles `{"source", "hooks", "limits"}` and keeps
//!   the script; answers `{"ok": null}` or an error frame, packed `ptr << 32 | len`;
//! - `laurel_call(hook, ptr, len) -> i64`: runs a hook on its JSON input, exactly as the plugin
//!   ABI's `laurel_call` (`{"ok": output}` or an error frame);
//! - `laurel_rhai_live() -> i64`: bytes the guest's allocator holds now (the host drops an
//!   instance whose holdings grew: a script's reference cycle never outlives its call);
//! - `laurel_rhai_operations() -> i64`: the operations the latest call performed.
//!
//! An error frame is `{"error": message}`, with `"limit"` and `"detail"` when a limit stopped
//! the script and `"line"`, `"column"` when the source is at fault. Imports: `laurel.log` (what
//! the script prints) and `laurel_rhai.panicked` (a panic's message, just before the trap).

mod builtins;
mod convert;
mod engine;
#[cfg(target_arch = "wasm32")]
mod exports;
mod scan;

pub use convert::{OutError, read_dynamic, to_dynamic, write_json};
pub use engine::{Frame, GuestLimits, Script, engine, operations};
/// The interpreter, for running a script in process (the benchmark's baseline).
pub use rhai;
pub use scan::{MAX_DECLARATIONS, OPTIMIZED_STATEMENTS, Shape, scan};

/// The plugin ABI version the runtime speaks.
pub const ABI_VERSION: i32 = 1;

/// The name of a hook by its number in the ABI.
pub fn hook_name(number: i32) -> Option<&'static str> {
    Some(match number {
        1 => "eligibility",
        2 => "indicator",
        3 => "score",
        4 => "tie_break",
        5 => "validate",
        _ => return None,
    })
}

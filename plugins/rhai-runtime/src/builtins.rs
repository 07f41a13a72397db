//! Checked versions of the rhai builtins that could, in one step, allocate far more than their
//! inputs or run without end: registered after the standard package, so they take precedence.
//!
//! rhai checks a value's size after the step that made it; a step between two progress
//! callbacks cannot be interrupted. So every builtin whose result can exceed a small multiple
//! of its inputs (replacing in a string, padding one, or formatting a value whose strings are
//! shared), or that can loop without an operation being counted (padding with an empty
//! string, sleeping), is replaced here by a version that computes the result's size first and
//! refuses it before allocating. Inside the sandbox the memory cap and the deadline would stop
//! such a step too; refusing it first names the limit a script's author can act on (`size`).
//! The review test below lists every function scripts can call, and fails when a rhai upgrade
//! adds one that has not been reviewed.

use rhai::{
    Array, Dynamic, EvalAltResult, FuncRegistration, INT, ImmutableString, Map, Module,
    NativeCallContext, Position,
};

type Checked<T> = Result<T, Box<EvalAltResult>>;

fn too_large(what: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(what.to_owned(), Position::NONE).into()
}

fn max_string(ctx: &NativeCallContext) -> usize {
    match ctx.engine().max_string_size() {
        0 => usize::MAX,
        n => n,
    }
}

/// Refuses a string result of `bytes` bytes.
fn string_fits(ctx: &NativeCallContext, bytes: usize) -> Checked<()> {
    if bytes > max_string(ctx) {
        return Err(too_large("Length of string"));
    }
    Ok(())
}

fn pad_char(ctx: NativeCallContext, s: &mut ImmutableString, len: INT, c: char) -> Checked<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    let have = s.chars().count();
    if len <= have {
        return Ok(());
    }
    string_fits(
        &ctx,
        s.len()
            .saturating_add((len - have).saturating_mul(c.len_utf8())),
    )?;
    let p = s.make_mut();
    p.extend(std::iter::repeat_n(c, len - have));
    Ok(())
}

fn pad_string(
    ctx: NativeCallContext,
    s: &mut ImmutableString,
    len: INT,
    padding: ImmutableString,
) -> Checked<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    let have = s.chars().count();
    // Padding with nothing adds nothing (rhai's own loops for ever).
    if len <= have || padding.is_empty() {
        return Ok(());
    }
    let widest = padding.chars().map(char::len_utf8).max().unwrap_or(1);
    string_fits(
        &ctx,
        s.len().saturating_add((len - have).saturating_mul(widest)),
    )?;
    let p = s.make_mut();
    p.extend(padding.chars().cycle().take(len - have));
    Ok(())
}

/// The size of `s` with every `find` replaced by `with` bytes, computed without building it.
fn replaced_len(s: &str, find: &str, with: usize) -> usize {
    let count = if find.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(find).count()
    };
    s.len()
        .saturating_sub(count.saturating_mul(find.len()))
        .saturating_add(count.saturating_mul(with))
}

fn replace(
    ctx: &NativeCallContext,
    s: &mut ImmutableString,
    find: &str,
    with: &str,
) -> Checked<()> {
    if s.is_empty() {
        return Ok(());
    }
    string_fits(ctx, replaced_len(s, find, with.len()))?;
    *s = s.replace(find, with).into();
    Ok(())
}

/// The size of a value written out as text, counted without writing it; stops counting once
/// past `limit`. Strings shared between several places count at each place, as they would be
/// written. Recursion follows the value's nesting, which the collection limit bounds.
fn text_size(value: &Dynamic, limit: usize, total: &mut usize) {
    if *total > limit {
        return;
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        *total = total.saturating_add(s.len() + 4);
    } else if let Ok(a) = value.as_array_ref() {
        *total = total.saturating_add(2 + 2 * a.len());
        for item in a.iter() {
            text_size(item, limit, total);
        }
    } else if let Ok(m) = value.as_map_ref() {
        *total = total.saturating_add(4);
        for (k, item) in m.iter() {
            *total = total.saturating_add(k.len() + 8);
            text_size(item, limit, total);
        }
    } else if value.is_fnptr() {
        *total = total.saturating_add(value.to_string().len());
    } else {
        *total = total.saturating_add(48);
    }
}

fn fits_as_text(ctx: &NativeCallContext, value: &Dynamic) -> Checked<()> {
    let limit = max_string(ctx);
    let mut total = 0;
    text_size(value, limit, &mut total);
    if total > limit {
        return Err(too_large("Length of string"));
    }
    Ok(())
}

/// Writes `value` as text with `write`, after checking its size.
fn formatted(ctx: &NativeCallContext, value: &Dynamic, debug: bool) -> Checked<ImmutableString> {
    fits_as_text(ctx, value)?;
    Ok(if debug {
        format!("{value:?}").into()
    } else {
        value.to_string().into()
    })
}

fn no_sleep(_seconds: INT) -> Checked<()> {
    Err("`sleep` is not available to plugins".into())
}

/// The module of checked builtins.
pub(crate) fn checked() -> rhai::Shared<Module> {
    let mut m = Module::new();
    let mutating = |name: &str| FuncRegistration::new(name).with_purity(false);
    FuncRegistration::new("sleep").set_into_module(&mut m, no_sleep);
    mutating("pad").set_into_module(&mut m, pad_char);
    mutating("pad").set_into_module(&mut m, pad_string);
    mutating("replace").set_into_module(
        &mut m,
        |ctx: NativeCallContext,
         s: &mut ImmutableString,
         f: ImmutableString,
         w: ImmutableString| { replace(&ctx, s, &f, &w) },
    );
    mutating("replace").set_into_module(
        &mut m,
        |ctx: NativeCallContext, s: &mut ImmutableString, f: char, w: ImmutableString| {
            replace(&ctx, s, &f.to_string(), &w)
        },
    );
    mutating("replace").set_into_module(
        &mut m,
        |ctx: NativeCallContext, s: &mut ImmutableString, f: ImmutableString, w: char| {
            replace(&ctx, s, &f, &w.to_string())
        },
    );
    mutating("replace").set_into_module(
        &mut m,
        |ctx: NativeCallContext, s: &mut ImmutableString, f: char, w: char| {
            replace(&ctx, s, &f.to_string(), &w.to_string())
        },
    );
    for (name, debug) in [
        ("to_string", false),
        ("print", false),
        ("to_debug", true),
        ("debug", true),
    ] {
        FuncRegistration::new(name).set_into_module(
            &mut m,
            move |ctx: NativeCallContext, a: &mut Array| {
                formatted(&ctx, &Dynamic::from_array(a.clone()), debug)
            },
        );
        FuncRegistration::new(name).set_into_module(
            &mut m,
            move |ctx: NativeCallContext, map: &mut Map| {
                formatted(&ctx, &Dynamic::from_map(map.clone()), debug)
            },
        );
    }
    FuncRegistration::new("to_json").set_into_module(
        &mut m,
        |ctx: NativeCallContext, map: &mut Map| -> Checked<String> {
            fits_as_text(&ctx, &Dynamic::from_map(map.clone()))?;
            Ok(rhai::format_map_as_json(map))
        },
    );
    rhai::Shared::new(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function a script can call was reviewed for how much one call can allocate and
    /// how long it can run without an operation being counted; the list is
    /// `plugins/rhai-functions.txt`. A rhai upgrade that adds or changes one fails here until
    /// it is reviewed (and, if needed, replaced above) and the list updated with
    /// `LAUREL_UPDATE_RHAI_FUNCTIONS=1 cargo test -p laurel-rhai-runtime` (in `plugins/`).
    #[test]
    fn every_function_scripts_can_call_was_reviewed() {
        let engine = crate::engine(
            &crate::GuestLimits {
                operations: 1,
                call_depth: 1,
                expr_depth: 1,
                string_bytes: 1,
                collection_items: 1,
                output_bytes: 1,
                output_depth: 1,
                message_bytes: 1,
            },
            |_| {},
        );
        let mut now: Vec<String> = engine.gen_fn_signatures(true);
        now.sort();
        now.dedup();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rhai-functions.txt");
        let header = "# Every function a plugin script can call, reviewed: none allocates more than a small\n\
            # multiple of its inputs in one step, or runs without an operation being counted, except\n\
            # those replaced by checked versions in plugins/rhai-runtime/src/builtins.rs (listed as\n\
            # `name(_, ...)`: pad, replace, sleep, to_string, to_debug, print, debug, to_json).\n";
        let text = format!("{header}{}\n", now.join("\n"));
        if std::env::var_os("LAUREL_UPDATE_RHAI_FUNCTIONS").is_some() {
            std::fs::write(&path, &text).unwrap_or_default();
        }
        let reviewed = std::fs::read_to_string(&path).unwrap_or_default();
        let reviewed: std::collections::BTreeSet<&str> =
            reviewed.lines().filter(|l| !l.starts_with('#')).collect();
        let unreviewed: Vec<&String> = now
            .iter()
            .filter(|f| !reviewed.contains(f.as_str()))
            .collect();
        assert!(unreviewed.is_empty(), "not reviewed: {unreviewed:#?}");
        assert_eq!(
            reviewed.len(),
            now.len(),
            "the reviewed list has functions that are gone"
        );
    }

    #[test]
    fn replaced_length_is_exact() {
        for (s, f, w) in [
            ("hello, world", "l", "LL"),
            ("aaaa", "aa", ""),
            ("abc", "", "--"),
            ("xyz", "q", "long"),
        ] {
            assert_eq!(
                replaced_len(s, f, w.len()),
                s.replace(f, w).len(),
                "{s} {f} {w}"
            );
        }
    }
}

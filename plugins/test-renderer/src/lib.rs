//! A misbehaving renderer for the host's sandbox tests.
//!
//! The `template` argument picks what it does (surrounding whitespace is
//! ignored, so a template file ending in a newline works):
//!
//! | template | behaviour |
//! |---|---|
//! | `loop` | spins forever: the host's epoch deadline must stop it |
//! | `oom` | allocates 1 MiB at a time, touching every page, until allocation fails and the guest aborts (a trap): the host's memory limit must hold |
//! | `trap` | executes `unreachable` |
//! | `fail` | returns `invalid-input` |
//! | `big:N` | returns `N` bytes of `x`: the host's output cap must hold |
//! | `count` | returns `count:N`, `N` being the calls of `count` this instance has served: shows when the host reuses an instance |
//! | `grow:N` | allocates `N` MiB, touches it and keeps it for the instance's life, then returns `grew:N` |
//! | anything else (e.g. `echo`) | returns `echo:` followed by the data JSON |
//!
//! `validate` only checks that the template is one of these (a malformed
//! `big:N` is `invalid-input`); it never loops, traps or allocates, so a
//! `loop` or `trap` template loads and misbehaves only when rendered.
//!
//! Built from source by the host's tests; never committed as a binary.

use std::hint::black_box;

/// What the renderer was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Never return.
    Loop,
    /// Exhaust linear memory.
    Oom,
    /// Trap at once.
    Trap,
    /// Return a plugin error.
    Fail,
    /// Return this many bytes.
    Big(usize),
    /// Count this instance's `count` calls.
    Count,
    /// Keep this many more MiB for the instance's life.
    Grow(usize),
    /// Return the data, prefixed.
    Echo,
}

/// Reads the `template` argument.
pub fn behaviour(template: &str) -> Result<Behaviour, String> {
    let template = template.trim();
    if let Some(n) = template.strip_prefix("big:") {
        return n
            .trim()
            .parse()
            .map(Behaviour::Big)
            .map_err(|e| format!("big:N needs a byte count, got {n:?}: {e}"));
    }
    if let Some(n) = template.strip_prefix("grow:") {
        return n
            .trim()
            .parse()
            .map(Behaviour::Grow)
            .map_err(|e| format!("grow:N needs a MiB count, got {n:?}: {e}"));
    }
    Ok(match template {
        "loop" => Behaviour::Loop,
        "count" => Behaviour::Count,
        "oom" => Behaviour::Oom,
        "trap" => Behaviour::Trap,
        "fail" => Behaviour::Fail,
        _ => Behaviour::Echo,
    })
}

/// `n` bytes of `x`.
pub fn big(n: usize) -> String {
    "x".repeat(n)
}

/// The `echo` output.
pub fn echo(data_json: &str) -> String {
    format!("echo:{data_json}")
}

/// Spins forever. `black_box` on the counter keeps the optimiser from
/// proving the loop useless.
pub fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates 1 MiB chunks and writes to every page of each, so the memory is
/// really committed, until the allocator fails. Allocation failure aborts
/// the guest (the wasm profile uses `panic = "abort"`), which the host sees
/// as a trap, unless its memory limit traps first.
pub fn exhaust_memory() -> ! {
    /// Growth step.
    const CHUNK: usize = 1 << 20;
    /// Touch one byte per 4 KiB, the smallest page size any engine uses.
    const PAGE: usize = 4096;
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        for byte in chunk.iter_mut().step_by(PAGE) {
            *byte = 1;
        }
        held.push(black_box(chunk));
        black_box(&mut held);
    }
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue.

    // The code `generate!` emits passes every WIT parameter (lowered) as
    // its own argument.
    #![allow(clippy::too_many_arguments)]

    wit_bindgen::generate!({ world: "renderer", path: "../../wit" });

    use crate::Behaviour;

    struct TestRenderer;

    impl Guest for TestRenderer {
        fn render(template: String, data_json: String) -> Result<String, PluginError> {
            match crate::behaviour(&template).map_err(PluginError::InvalidInput)? {
                Behaviour::Loop => crate::spin(),
                Behaviour::Oom => crate::exhaust_memory(),
                Behaviour::Trap => core::arch::wasm32::unreachable(),
                Behaviour::Fail => Err(PluginError::InvalidInput(
                    "test-renderer: failure requested".to_owned(),
                )),
                Behaviour::Big(n) => Ok(crate::big(n)),
                Behaviour::Count => Ok(format!("count:{}", count())),
                Behaviour::Grow(mib) => {
                    let mut kept = vec![1u8; mib << 20];
                    std::hint::black_box(&mut kept);
                    std::mem::forget(kept);
                    Ok(format!("grew:{mib}"))
                }
                Behaviour::Echo => Ok(crate::echo(&data_json)),
            }
        }

        fn validate(template: String) -> Result<(), PluginError> {
            crate::behaviour(&template)
                .map(drop)
                .map_err(PluginError::InvalidInput)
        }
    }

    /// This instance's `count` calls, this one included.
    fn count() -> u64 {
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    export!(TestRenderer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_pick_behaviours() {
        for (template, want) in [
            ("loop", Behaviour::Loop),
            ("oom\n", Behaviour::Oom),
            (" trap ", Behaviour::Trap),
            ("fail", Behaviour::Fail),
            ("big:0", Behaviour::Big(0)),
            ("big:1048576", Behaviour::Big(1 << 20)),
            ("count", Behaviour::Count),
            ("grow:20", Behaviour::Grow(20)),
            ("echo", Behaviour::Echo),
            ("{{ .Anything }}", Behaviour::Echo),
            ("", Behaviour::Echo),
        ] {
            assert_eq!(behaviour(template), Ok(want), "{template:?}");
        }
    }

    #[test]
    fn bad_big_is_an_error() {
        for template in ["big:", "big:-1", "big:10MB", "grow:x"] {
            assert!(behaviour(template).is_err(), "{template:?}");
        }
    }

    #[test]
    fn outputs() {
        assert_eq!(big(5), "xxxxx");
        assert_eq!(big(3 << 20).len(), 3 << 20);
        assert_eq!(echo(r#"{"a":1}"#), r#"echo:{"a":1}"#);
    }
}

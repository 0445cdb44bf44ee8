//! Build script shared by every function in `functions/` (each Cargo.toml
//! points `build` here): links the Lambda binaries as position-dependent
//! executables.
//!
//! Why: a PIE binary is relocated by the dynamic loader on every exec, and
//! ours carry ~48,000 relative relocations (vtables, static string tables
//! of the AWS SDK, HTML entities, Unicode names, tracing call sites) spread
//! over 850 KB of read-only data. Applying them faulted and copied ~210
//! pages at each cold start: 0.75 ms of the api's init, and 850 KB of its
//! RSS (BENCHMARKS.md, "Cold starts: non-PIE"). Linked non-PIE, those
//! pointers are final in the file and the pages are shared, clean and only
//! read when used.
//!
//! The trade: the executable's own image is not placed at a random address
//! (the stack, the heap, mmap regions and the shared libraries still are).
//! That is the default for Go binaries on Lambda; our code has no `unsafe`
//! of its own, and a Lambda execution environment runs one function. The
//! `pricehound` CLI (`serve`, a long-lived process) stays PIE.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}

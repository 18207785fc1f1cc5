//! Kernels linked ahead of time (nvcc into a static library, as mistral.rs's build scripts do)
//! are called through host launchers declared by hand: nothing checks these declarations against
//! `src/kernels/q4_matmul.cu` but safety-ls.

use std::ffi::c_void;

// SAFETY: the signatures below match the launchers' C definitions in src/kernels/q4_matmul.cu,
// which the build links as a static library; every call site upholds the kernels' invariants.
unsafe extern "C" {
    // The C side takes `int groups`: an `i64` here passes the group count in the wrong register
    // width and shifts every argument after it.
    pub fn launch_q4_dequantize_f32( //~ ffi-signature-mismatch
        qweight: *const u8,
        scales: *const f32,
        out: *mut f32,
        groups: i64,
        blocks: u32,
        stream: *mut c_void,
    );
}

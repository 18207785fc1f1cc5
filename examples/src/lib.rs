//! `gpu-kernels-demo`: the kind of code a candle / mistral.rs / cudarc user writes.
//!
//! Most of it is written the way the conventions ask (every `unsafe` block,
//! `unsafe impl`, dtype promotion, layout copy before a matmul and numeric cast
//! carries its annotation). A handful of lines are deliberately wrong; each one
//! ends with a `//~ rule-id` marker naming the finding `safety-ls check` reports
//! there. See `README.md`.
//!
//! `candle`, `cudarc` and `ffi` are host-side stand-ins with the shapes of the
//! real crates, so the demo builds offline with std alone.

pub mod candle;
pub mod cudarc;
pub mod ffi;

pub mod attention;
pub mod buffers;
pub mod cublas;
pub mod kernel_cache;
pub mod launchers;
pub mod layer_norm;
pub mod quant_matmul;
pub mod staging;

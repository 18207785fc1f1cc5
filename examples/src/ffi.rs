//! Stand-in for `cublas-sys`: the C entry points of a cuBLAS-like library.
//!
//! Real bindings are an `unsafe extern "C" { .. }` block linked against
//! `libcublas`; these are `extern "C"` functions written in Rust with the same
//! signatures, so the crate links without the CUDA toolkit. Matrices are
//! column-major, as in BLAS.
#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_int, c_void};
use std::ptr;

/// The library's per-handle state (opaque in the real API).
#[repr(C)]
#[derive(Debug)]
pub struct cublasContext {
    stream: cudaStream_t,
}

pub type cublasHandle_t = *mut cublasContext;
pub type cudaStream_t = *mut c_void;
pub type cublasStatus_t = c_int;
pub type cublasOperation_t = c_int;

pub const CUBLAS_STATUS_SUCCESS: cublasStatus_t = 0;
pub const CUBLAS_STATUS_NOT_INITIALIZED: cublasStatus_t = 1;
pub const CUBLAS_STATUS_INVALID_VALUE: cublasStatus_t = 7;
pub const CUBLAS_OP_N: cublasOperation_t = 0;
pub const CUBLAS_OP_T: cublasOperation_t = 1;

/// Creates a library handle and stores it in `*handle`.
///
/// # Safety
///
/// Writes through a caller-provided pointer.
///
/// ## Invariants
/// - On success `*handle` owns a new context that only `cublasDestroy_v2` releases.
///
/// ## Caller Responsibilities
/// - `handle` is valid for a write of one `cublasHandle_t`.
/// - Every handle created is destroyed exactly once.
///
/// ## Justification
/// The C API returns handles through an out-pointer.
pub unsafe extern "C" fn cublasCreate_v2(handle: *mut cublasHandle_t) -> cublasStatus_t {
    if handle.is_null() {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    let context = Box::into_raw(Box::new(cublasContext { stream: ptr::null_mut() }));
    // SAFETY: `handle` is non-null (checked above) and the caller guarantees it is valid for a write.
    unsafe { handle.write(context) };
    CUBLAS_STATUS_SUCCESS
}

/// Releases a handle created by `cublasCreate_v2`.
///
/// # Safety
///
/// Frees the handle's context.
///
/// ## Invariants
/// - After this call the handle dangles.
///
/// ## Caller Responsibilities
/// - `handle` came from `cublasCreate_v2` and has not been destroyed yet.
/// - No other thread uses the handle during or after the call.
///
/// ## Justification
/// Ownership of the context crosses the C boundary as a raw pointer.
pub unsafe extern "C" fn cublasDestroy_v2(handle: cublasHandle_t) -> cublasStatus_t {
    if handle.is_null() {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    // SAFETY: the caller passes a live handle from `cublasCreate_v2`, which came from
    // `Box::into_raw`; it is reclaimed exactly once, here.
    drop(unsafe { Box::from_raw(handle) });
    CUBLAS_STATUS_SUCCESS
}

/// Makes later calls on `handle` run on `stream`.
///
/// # Safety
///
/// Stores `stream` in the handle's context.
///
/// ## Invariants
/// - Later calls on `handle` queue their work on `stream`.
///
/// ## Caller Responsibilities
/// - `handle` is live, and `stream` outlives every call made with the handle.
/// - No call on `handle` runs concurrently with this one.
///
/// ## Justification
/// The handle's configuration is mutable state owned by the C library.
pub unsafe extern "C" fn cublasSetStream_v2(handle: cublasHandle_t, stream: cudaStream_t) -> cublasStatus_t {
    if handle.is_null() {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    // SAFETY: the caller guarantees `handle` is live and not used concurrently, so this
    // exclusive write to its context does not race.
    unsafe { (*handle).stream = stream };
    CUBLAS_STATUS_SUCCESS
}

/// `C = alpha * op(A) * op(B) + beta * C` in single precision, column-major.
///
/// # Safety
///
/// Reads and writes matrices through raw pointers.
///
/// ## Invariants
/// - Only `C` is written; `A` and `B` are read.
///
/// ## Caller Responsibilities
/// - `handle` is live; `alpha` and `beta` point to one `f32` each.
/// - `A` holds `lda * (cols of op(A) storage)` elements, likewise `B` and `C`,
///   with `lda`, `ldb`, `ldc` at least the row counts of the stored matrices.
/// - `C` does not overlap `A` or `B`.
///
/// ## Justification
/// BLAS takes pointers plus leading dimensions, not slices.
pub unsafe extern "C" fn cublasSgemm_v2(
    handle: cublasHandle_t,
    transa: cublasOperation_t,
    transb: cublasOperation_t,
    m: c_int,
    n: c_int,
    k: c_int,
    alpha: *const f32,
    A: *const f32,
    lda: c_int,
    B: *const f32,
    ldb: c_int,
    beta: *const f32,
    C: *mut f32,
    ldc: c_int,
) -> cublasStatus_t {
    if handle.is_null() {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    let dims = [m, n, k, lda, ldb, ldc].map(usize::try_from);
    let [Ok(m), Ok(n), Ok(k), Ok(lda), Ok(ldb), Ok(ldc)] = dims else {
        return CUBLAS_STATUS_INVALID_VALUE;
    };
    let (a_cols, b_cols) = (if transa == CUBLAS_OP_N { k } else { m }, if transb == CUBLAS_OP_N { n } else { k });
    // SAFETY: the caller guarantees `A`, `B` hold `ld * cols` elements, `C` holds `ldc * n`
    // elements not overlapping them, and `alpha`, `beta` point to one f32 each.
    let (a, b, c, alpha, beta) = unsafe {
        (
            std::slice::from_raw_parts(A, lda * a_cols),
            std::slice::from_raw_parts(B, ldb * b_cols),
            std::slice::from_raw_parts_mut(C, ldc * n),
            *alpha,
            *beta,
        )
    };
    let a_at = |i: usize, l: usize| if transa == CUBLAS_OP_N { a[i + l * lda] } else { a[l + i * lda] };
    let b_at = |l: usize, j: usize| if transb == CUBLAS_OP_N { b[l + j * ldb] } else { b[j + l * ldb] };
    for j in 0..n {
        for i in 0..m {
            let dot: f32 = (0..k).map(|l| a_at(i, l) * b_at(l, j)).sum();
            c[i + j * ldc] = alpha * dot + beta * c[i + j * ldc];
        }
    }
    CUBLAS_STATUS_SUCCESS
}
